"""``shopmon web``: serve the staff case board."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings

app = typer.Typer()


@app.command("web")
def web(
    ctx: typer.Context,
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (default: web.host).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (default: web.port).")] = None,
) -> None:
    """Serve the case board (sign in with a user from `shopmon users add`)."""
    import uvicorn

    from monitor.web.app import create_app

    settings = ready_settings(ctx)
    application = create_app(settings)
    host = host or settings.web.host
    port = port or settings.web.port
    typer.echo(f"case board on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=True)
