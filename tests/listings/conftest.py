"""Listings tests: the default image models trained once per session, and image makers."""

from __future__ import annotations

import functools
import http.server
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from listings_testkit import DRAWER
from monitor.config import Settings, load_settings


@pytest.fixture(scope="session")
def listing_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding the default image models, trained from the project fixtures once."""
    from monitor.default_models import IMAGE_MODELS, ensure_default_models

    root = tmp_path_factory.mktemp("listing-models")
    settings = load_settings(data_dir=root / "data", model_dir=root / "models")
    ensure_default_models(settings, IMAGE_MODELS)
    return root / "models"


@pytest.fixture
def lsettings(tmp_path: Path, listing_models: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", model_dir=listing_models)


@pytest.fixture
def ldb_settings(lsettings: Settings) -> Settings:
    from monitor.db import upgrade

    upgrade(lsettings)
    return lsettings


@pytest.fixture
def draw() -> Callable[..., Image.Image]:
    """draw(kind, rgb, seed=1) -> a product photo unlike any training image (new jitter)."""

    def _draw(kind: str, rgb: tuple[int, int, int], seed: int = 101) -> Image.Image:
        return DRAWER.draw(kind, rgb, random.Random(seed))

    return _draw


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base_url, folder): a 127.0.0.1 HTTP server over a temporary folder."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
