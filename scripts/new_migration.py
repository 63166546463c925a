"""Write the next Alembic revision from the difference between the models and the migrations.

Databases made by earlier releases exist (every `shopmon demo` makes one), so each schema change
gets its own numbered revision; `shopmon db upgrade` applies them. Review the generated file:
SQLite needs ALTERs inside ``op.batch_alter_table``.

Usage: python scripts/new_migration.py "what changed"
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from monitor.config import load_settings
from monitor.db import MIGRATIONS, alembic_config, upgrade

if len(sys.argv) != 2:
    sys.exit(__doc__.strip().splitlines()[-1])
numbers = [int(p.name[:4]) for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
with tempfile.TemporaryDirectory() as tmp:
    settings = load_settings(data_dir=Path(tmp))
    upgrade(settings)  # autogenerate compares against a database at the current head
    command.revision(alembic_config(settings), message=sys.argv[1], autogenerate=True,
                     rev_id=f"{max(numbers, default=0) + 1:04d}")
