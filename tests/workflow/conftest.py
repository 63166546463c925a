"""Live pipeline tests: the local marketplace, the real CLI, seed models trained once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from market_driver import Marketplace, serve_marketplace


@pytest.fixture(scope="session")
def seed_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.config import load_settings
    from monitor.detection.live_models import load_models

    folder = tmp_path_factory.mktemp("workflow-models")
    load_models(load_settings(data_dir=folder / "data", model_dir=folder / "models"))
    return folder / "models"


@pytest.fixture
def market():
    with serve_marketplace() as m:
        yield m


@pytest.fixture
def shop_config(tmp_path: Path, market: Marketplace, seed_models: Path):
    """Write shopmon.toml for some demo shops; returns its path."""

    def write(*shop_ids: str) -> Path:
        shops = [s for s in market.shops() if s["id"] in shop_ids]
        lines = [f'data_dir = "{(tmp_path / "data").as_posix()}"', f'model_dir = "{seed_models.as_posix()}"',
                 "[crawl]", "download_delay = 0", "autothrottle = false",
                 # the demo reviews have fixed dates: every bad one opens a case whatever today is
                 "[detection]", "case_max_age_days = 0",
                 "[alerts]", "group_window_minutes = 0",
                 "[alerts.recipients]", 'serious_case = ["service@shop.example"]',
                 'escalation = ["lead@shop.example"]']
        for s in shops:
            lines += ["[[shops]]", f'id = "{s["id"]}"', f'platform = "{s["platform"]}"', f'url = "{s["url"]}"']
            if s.get("listing_urls"):
                lines.append("listing_urls = [" + ", ".join(f'"{u}"' for u in s["listing_urls"]) + "]")
        path = tmp_path / "shopmon.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
