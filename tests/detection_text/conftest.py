"""Seed-trained text models, trained once per test session into their own registry folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import Settings, load_settings


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.detection.live_models import load_models

    folder = tmp_path_factory.mktemp("seed-models")
    load_models(load_settings(data_dir=folder / "data", model_dir=folder / "models"))
    return folder / "models"


@pytest.fixture(scope="session")
def text_models(seed_model_dir: Path):  # noqa: ANN201
    from monitor.detection.live_models import load_models

    return load_models(load_settings(model_dir=seed_model_dir))


@pytest.fixture
def seeded_settings(db_settings: Settings, seed_model_dir: Path) -> Settings:
    """A migrated database whose registry already holds the seed models (read-only use)."""
    return db_settings.model_copy(update={"model_dir": seed_model_dir})
