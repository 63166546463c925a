"""Helpers for the listings tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

import importlib.util

from monitor.paths import FIXTURES


def _load_drawer():
    spec = importlib.util.spec_from_file_location("make_listing_catalogue", FIXTURES / "listings" / "make_catalogue.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


DRAWER = _load_drawer()
RED = (200, 30, 35)
BLUE = (40, 90, 205)
GREEN = (40, 145, 60)
YELLOW = (238, 205, 40)
