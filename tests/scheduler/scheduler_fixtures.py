"""Fixtures for the scheduler tests (imported by each test module: a conftest.py here would clash
with other folders' `from conftest import ...`): settings with shops, hooks pointed at doubles."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import scheduler_doubles
from monitor.config import Settings, load_settings

SHOPS = [
    {"id": "alpha", "platform": "schemaorg", "url": "http://127.0.0.1:9/alpha", "interval_minutes": 60, "jitter_seconds": 0},
    {"id": "beta", "platform": "schemaorg", "url": "http://127.0.0.1:9/beta", "interval_minutes": 120, "jitter_seconds": 0},
]
RECIPIENTS = {"serious_case": ["owner@example.com"]}


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings on a migrated database in tmp_path; keyword arguments override sections."""
    from monitor.db import upgrade

    def build(**overrides: Any) -> Settings:
        data: dict[str, Any] = {"data_dir": tmp_path / "data", "shops": SHOPS, "alerts": {"recipients": RECIPIENTS}}
        data.update(overrides)
        settings = load_settings(**data)
        upgrade(settings)
        return settings

    return build


@pytest.fixture
def doubles(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point the scheduler's hooks at the doubles (also in child processes)."""
    from monitor.scheduler import tasks

    here = str(Path(scheduler_doubles.__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p))

    def use(**overrides: str) -> None:
        for key, ref in scheduler_doubles.hooks(**overrides).items():
            monkeypatch.setitem(tasks.HOOKS, key, ref)

    use()
    return use
