"""``shopmon demo``: run the whole pipeline on the built-in local marketplace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer()


@app.command("demo")
def demo(
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="Fresh directory for the demo database and outbox (recreated)."),
    ] = Path("shopmon-demo"),
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Use this (empty) database instead of a fresh SQLite file in "
                                            "--data-dir. SHOPMON_DATABASE_URL is not used by the demo."),
    ] = None,
) -> None:
    """Crawl a local demo marketplace, detect, open cases and write alert emails to an outbox.

    Starts a web server on 127.0.0.1 (random port) serving shops built from the project's
    fixtures, runs the real spiders in a subprocess, and prints a summary. Needs no config
    and no network.
    """
    from monitor.demo import run_demo

    result = run_demo(data_dir, progress=lambda m: typer.echo(f"- {m}", err=True), database_url=database_url)
    typer.echo("\n".join(result.summary_lines()))
