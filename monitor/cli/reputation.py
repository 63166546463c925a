"""``shopmon reputation``: adjusted rating, the tests behind it and an A-F grade per shop and listing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Optional
from zoneinfo import ZoneInfo

import typer

from monitor.cli.context import ready_settings

STATUS_MARK = {"pass": "✓", "warn": "!", "fail": "✗"}
LISTINGS_SHOWN = 10

app = typer.Typer()


def _stars(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float | int) else "-"


def _verdict_lines(entry: dict[str, Any], words: dict[str, str], language: str, indent: str) -> list[str]:
    from alerts.i18n import check_line

    lines = [
        f"{indent}{words['grade']} {entry['grade']}   {words['adjusted_rating']} {_stars(entry['adjusted_rating'])}   "
        f"{words['rating']} {_stars(entry['rating'])}   "
        + words["removed"].format(n=entry["removed"], total=entry["reviews"])
    ]
    for check in entry["checks"]:
        mark = STATUS_MARK[check["status"]]
        lines.append(f"{indent}  {mark} {words[check['status']]:<6} {check_line(check, language)}")
    return lines


@app.command("reputation")
def reputation(
    ctx: typer.Context,
    shop: Annotated[Optional[str], typer.Option("--shop", help="Only this shop (its config id or platform id).")] = None,
    listing: Annotated[
        Optional[str], typer.Option("--listing", help="Only this listing (item id, URL or platform:id).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Everything as one JSON array.")] = False,
) -> None:
    """Adjusted rating (without reviews judged fabricated, malicious or part of an attack), each
    test passed, warned or failed with its figure, and an A-F grade; the stored history below."""
    from alerts.i18n import REPUTATION
    from monitor.db import session_scope
    from monitor.reputation.store import current

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        entries = current(session, settings, shop=shop, listing=listing)
    if as_json:
        typer.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    if not entries:
        typer.echo(REPUTATION[settings.alerts.language]["no_data"])
        return
    for entry in entries:
        locale = settings.locale_for(entry["config_id"])
        words = REPUTATION[locale.language]
        tz = ZoneInfo(locale.timezone)
        typer.echo(f"{words['title']}: {entry['name']}")
        if listing is None:
            lines = _verdict_lines(entry, words, locale.language, "  ")
            typer.echo("\n".join(lines))
        for row in entry["listings"][: 1 if listing else LISTINGS_SHOWN]:
            typer.echo(f"  {row['ref'] or ''} {row['title'] or ''}")
            typer.echo("\n".join(_verdict_lines(row, words, locale.language, "    ")))
        if entry["history"]:
            typer.echo(f"  {words['history']}:")
            for h in entry["history"]:
                at = datetime.fromisoformat(h["at"]).astimezone(tz)
                typer.echo(
                    f"    {at:%Y-%m-%d %H:%M} {at.tzname()}  {h['grade']}  {_stars(h['adjusted_rating'])}"
                    f" ({_stars(h['rating'])})  " + words["removed"].format(n=h["removed"], total=h["reviews"])
                )
