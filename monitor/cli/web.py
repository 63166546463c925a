"""``shopmon web``: serve the staff case board."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from monitor.cli.context import AppState, ready_settings

app = typer.Typer()


@app.command("web")
def web(
    ctx: typer.Context,
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (default: web.host).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (default: web.port).")] = None,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", min=1, help="Worker processes (default: web.workers; an in-memory SQLite database gets one).")] = None,
) -> None:
    """Serve the case board (sign in with a user from `shopmon users add`)."""
    from monitor.web.serve import serve, worker_count

    settings = ready_settings(ctx)
    host = host or settings.web.host
    port = port or settings.web.port
    state = ctx.find_object(AppState)
    count = worker_count(settings, workers)
    typer.echo(f"case board on http://{host}:{port}/ ({count} worker process{'es' if count > 1 else ''}; "
               "Ctrl-C stops it)", err=True)
    serve(settings, config_path=state.config_path if state else None, host=host, port=port, workers=workers)
