"""Where the project's own files live, and where third-party shared data is found."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import fixtures

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The installed package, not the checkout: a wheel has no repository around it. Packages installed
# as files (wheels, editable installs) give a real directory, which the data readers need.
FIXTURES = Path(str(files(fixtures)))


def shared_dir() -> Path:
    """The third-party data folder (never copied into the repo): env SHOPMON_SHARED or ../shared."""
    env = os.environ.get("SHOPMON_SHARED")
    return Path(env) if env else PROJECT_ROOT.parent / "shared"
