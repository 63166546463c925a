"""State shared by the commands: settings are loaded lazily so --help never needs a config."""

from __future__ import annotations

import getpass
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    if sys.stderr.isatty():
        typer.echo(message, err=True)


def user_name(fallback: str) -> str:
    """Who runs the command, for the actor in histories; ``fallback`` where the system has no
    passwd entry for the process (some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return fallback


@contextmanager
def fit_progress(what: str) -> Iterator[Any]:
    """A progress callback for ``monitor.training.fit``: a rich bar on a terminal, else one stderr line
    per fit (a 160k-row file takes minutes per fit; logs must show it is moving)."""
    start = time.monotonic()
    if not sys.stderr.isatty():
        def line(done: int, total: int, step: str) -> None:
            typer.echo(f"{what}: [{done}/{total}] {step} ({time.monotonic() - start:.0f} s)", err=True)

        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(what, total=None)

        def advance(done: int, total: int, step: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{what}: {step}")

        yield advance
