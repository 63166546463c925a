"""``shopmon watchlist``: the analysts' list of known professional bad-reviewers, by platform account."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings

REF_HELP = "The buyer's account id as the platform shows it ([platform:]id), or a nick that names one account."


app = typer.Typer(name="watchlist", help="Known professional bad-reviewers: detection flags their reviews.", no_args_is_help=True)


@app.command("add")
def add_(
    ctx: typer.Context,
    reviewer: Annotated[str, typer.Argument(help=REF_HELP)],
    note: Annotated[Optional[str], typer.Option("--note", help="Why (shown in the flag's reasons).")] = None,
) -> None:
    """Put a reviewer on the watchlist; the next detection run flags their reviews."""
    from monitor.db import session_scope
    from monitor.detection import watchlist

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        r = watchlist.add(session, reviewer, note=note)
        typer.echo(f"watching {r.platform}:{r.external_id} ({r.nick or '-'})")


@app.command("remove")
def remove_(ctx: typer.Context, reviewer: Annotated[str, typer.Argument(help=REF_HELP)]) -> None:
    """Take a reviewer off the watchlist (flags already written stay as history)."""
    from monitor.db import session_scope
    from monitor.detection import watchlist

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        r = watchlist.remove(session, reviewer)
        typer.echo(f"no longer watching {r.platform}:{r.external_id}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Reviewers on the watchlist, from the database and from detection.watchlist in the config."""
    from monitor.db import session_scope
    from monitor.detection import watchlist

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        rows = [(r.platform, r.external_id, r.nick, r.watch_note if r.watchlisted else "detection.watchlist in the config")
                for r in watchlist.watched(session, settings)]
    if not rows:
        typer.echo("nobody on the watchlist")
    for platform, external, nick, note in rows:
        typer.echo(f"{platform}:{external:<20} {nick or '-':<16} {note or ''}".rstrip())
