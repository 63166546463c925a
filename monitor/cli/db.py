"""``shopmon db``: schema management."""

from __future__ import annotations

import typer

from monitor.cli.context import settings_from

app = typer.Typer(name="db", help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="Target revision."),
) -> None:
    """Apply migrations up to REVISION (creates the SQLite file if needed)."""
    from monitor import db

    settings = settings_from(ctx)
    db.upgrade(settings, revision)
    typer.echo(f"database at revision {db.current_revision(settings)}")


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the schema revision the database is at."""
    from monitor import db

    typer.echo(db.current_revision(settings_from(ctx)) or "empty (run: shopmon db upgrade)")
