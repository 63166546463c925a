"""Where the project's own files live, and where third-party shared data is found."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT_ROOT / "fixtures"


def shared_dir() -> Path:
    """The third-party data folder (never copied into the repo): env SHOPMON_SHARED or ../shared."""
    env = os.environ.get("SHOPMON_SHARED")
    return Path(env) if env else PROJECT_ROOT.parent / "shared"
