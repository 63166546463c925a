"""Regenerate the initial migration from the models (pre-1.0 only: one migration, no users yet).

After 1.0 this script is retired and every schema change gets its own Alembic revision.
Usage: python scripts/regen_migration.py
"""

import tempfile
from pathlib import Path

from alembic import command

from monitor.config import load_settings
from monitor.db import MIGRATIONS, alembic_config

for old in (MIGRATIONS / "versions").glob("0001_*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    settings = load_settings(Path("/nonexistent-shopmon-config.toml") if False else None, data_dir=Path(tmp))
    command.revision(alembic_config(settings), message="initial schema", autogenerate=True, rev_id="0001")
