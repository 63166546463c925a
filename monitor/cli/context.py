"""State shared by the commands: settings are loaded lazily so --help never needs a config."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

import typer

from monitor.config import Settings, load_settings


@dataclass
class AppState:
    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings


def settings_from(ctx: typer.Context) -> Settings:
    state = ctx.find_object(AppState)
    if state is None:  # invoked without the root callback (library use)
        state = AppState()
    return state.settings()


def ready_settings(ctx: typer.Context) -> Settings:
    """Settings with the database migrated to head: what every data command needs first."""
    from monitor.db import ensure_schema

    settings = settings_from(ctx)
    ensure_schema(settings)
    return settings


def progress(message: str) -> None:
    """Progress for long interactive commands: on a terminal only, so logs and pipes stay clean."""
    import sys

    if sys.stderr.isatty():
        typer.echo(message, err=True)


def user_name(fallback: str) -> str:
    """Who runs the command, for the actor in histories; ``fallback`` where the system has no
    passwd entry for the process (some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return fallback
