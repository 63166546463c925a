"""``shopmon cases``: the after-sales team's bad-review record."""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any, Optional

import typer

from monitor.cli import case_ledger
from monitor.cli.context import ready_settings


def _me() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "operator"


def _case_dict(case: Any) -> dict[str, Any]:
    data = case.model_dump(mode="json")
    return data


def _pad(text: str, width: int) -> str:
    """Cut/pad to a terminal width; Chinese characters take two columns."""
    import unicodedata

    out, used = [], 0
    for ch in text.replace("\n", " "):
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def _line(case: Any) -> str:
    rating = f"{case.rating}★" if case.rating is not None else "-"
    kinds = ",".join(case.kinds) or "-"
    return (
        f"#{case.id:<5} {case.severity:<8} {case.state:<21} {rating:<3} {_pad(case.buyer_nick or '-', 16)} "
        f"{_pad(case.item_title or '-', 30)} {case.cause or '-':<16} {kinds:<20} {_pad(case.owner or '-', 10)} "
        f"{case.opened_at:%Y-%m-%d %H:%M}"
    )


def register(app: typer.Typer) -> None:
    cases_app = typer.Typer(
        help="After-sales cases: one per bad review or abuse flag, with state, contacts and history.",
        no_args_is_help=True,
    )

    @cases_app.command("list")
    def list_(
        ctx: typer.Context,
        state: Annotated[Optional[str], typer.Option("--state", help="Only this state (open, contacted, promised, ...).")] = None,
        severity: Annotated[Optional[str], typer.Option("--severity", help="Only this severity (low, medium, high, critical).")] = None,
        limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="At most this many cases.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    ) -> None:
        """List cases worst first, then oldest first: the order to work them in."""
        from alerts.cases import list_cases
        from monitor.db import session_scope

        settings = ready_settings(ctx)
        with session_scope(settings) as session:
            cases = list_cases(session, state=state, severity=severity, limit=limit)
        if as_json:
            typer.echo(json.dumps([_case_dict(c) for c in cases], ensure_ascii=False, indent=2))
            return
        if not cases:
            typer.echo("no cases")
            return
        typer.echo(
            f"{'id':<6} {'severity':<8} {'state':<21} {'★':<3} {'buyer':<16} {'item':<30} {'cause':<16} {'flags':<20} {'owner':<10} opened"
        )
        for case in cases:
            typer.echo(_line(case))

    @cases_app.command("show")
    def show(
        ctx: typer.Context,
        case_id: Annotated[int, typer.Argument(help="Case id (from `shopmon cases list`).")],
        as_json: Annotated[bool, typer.Option("--json", help="JSON with the case and its events.")] = False,
    ) -> None:
        """Show one case: the review, severity, guidance, contacts and the full event history."""
        from alerts.cases import TRANSITIONS, case_events, get_case
        from monitor.db import session_scope

        settings = ready_settings(ctx)
        with session_scope(settings) as session:
            case = get_case(session, case_id)
            events = case_events(session, case_id)
        if as_json:
            out = _case_dict(case) | {"events": [e.model_dump(mode="json") for e in events]}
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        rating = f"{case.rating} star(s)" if case.rating is not None else "-"
        lines = [
            f"Case #{case.id}  [{case.severity}]  state: {case.state}  (next: {', '.join(TRANSITIONS[case.state])})",
            f"Buyer:    {case.buyer_nick or '-'}",
            f"Item:     {case.item_title or '-'}",
            f"Rating:   {rating}",
            f"Review:   {case.review_text or '-'}",
            f"Cause:    {case.cause or '-'}",
            f"Flags:    {', '.join(case.kinds) or '-'}",
            f"Owner:    {case.owner or 'unassigned'}",
            f"Contact:  {case.contact_status}",
            f"Promised: {case.promised_by.isoformat() if case.promised_by else '-'}",
            f"Opened:   {case.opened_at.isoformat()}   last progress: {case.last_progress_at.isoformat()}",
            "",
            "What to do:",
            *[f"  {line}" for line in (case.guidance or "-").splitlines()],
            "",
            "History:",
        ]
        for e in events:
            detail = ", ".join(f"{k}={v}" for k, v in e.data.items() if v not in (None, [], ""))
            note = f" — {e.note}" if e.note else ""
            lines.append(f"  {e.at:%Y-%m-%d %H:%M} {e.actor:<12} {e.action:<9} {detail}{note}")
        typer.echo("\n".join(lines))

    @cases_app.command("update")
    def update(
        ctx: typer.Context,
        case_ids: Annotated[Optional[list[int]], typer.Argument(help="Case id(s); one update applied to each, all or none.")] = None,
        attack: Annotated[
            Optional[int], typer.Option("--attack", help="An attack's case id: update it and all its member cases.")
        ] = None,
        state: Annotated[Optional[str], typer.Option("--state", help="New state; illegal transitions are refused.")] = None,
        contact: Annotated[
            Optional[str],
            typer.Option("--contact", help="Record a contact attempt: wangwang (旺旺; 'messaged' is its old name), sms or phoned."),
        ] = None,
        promise_date: Annotated[
            Optional[str],
            typer.Option("--promise-date", help="Date (YYYY-MM-DD, end of day in alerts.timezone) or ISO time the buyer promised to update the review by; not in the past, not past the platform's edit window."),
        ] = None,
        owner: Annotated[Optional[str], typer.Option("--owner", help="Assign the case to this person.")] = None,
        note: Annotated[Optional[str], typer.Option("--note", help="Add a note to the history.")] = None,
        buyer_id: Annotated[Optional[str], typer.Option("--buyer-id", help="The buyer's account id as the platform shows it.")] = None,
        phone: Annotated[Optional[str], typer.Option("--phone", help="The buyer's phone number (\"\" clears it); shown masked in lists.")] = None,
        order_no: Annotated[Optional[str], typer.Option("--order", help="The order number (\"\" clears it); shown masked in lists.")] = None,
        compensation: Annotated[
            Optional[str], typer.Option("--compensation", help="Amount agreed with the buyer (e.g. 10.50): the case awaits compensation.")
        ] = None,
        by: Annotated[Optional[str], typer.Option("--by", help="Who did this (default: your user name).")] = None,
    ) -> None:
        """Change state, record a contact, promise or compensation, assign, add a note or the buyer's details.

        Several case ids (or --attack N) get the same update, all or none, each with its own history;
        an attack's members follow it into platform_appeal and closed.
        """
        from alerts.bulk import update_cases
        from alerts.case_fields import parse_amount
        from alerts.timeparse import parse_when
        from monitor.db import session_scope

        settings = ready_settings(ctx)
        promise = parse_when(promise_date, settings.alerts.timezone, option="--promise-date") if promise_date else None
        cents = parse_amount(compensation) if compensation is not None else None
        with session_scope(settings) as session:
            cases = update_cases(
                session, list(case_ids or []), attack=attack, actor=by or _me(), state=state, contact=contact,
                promise_date=promise, owner=owner, note=note, buyer_id=buyer_id, phone=phone, order_no=order_no,
                compensation_cents=cents, config=settings.cases,
            )
            lines = []
            for case in cases:
                summary = f"case #{case.id}: state {case.state}, contact {case.contact_status}, owner {case.owner or 'unassigned'}"
                if case.promised_by:
                    summary += f", promised by {case.promised_by.isoformat()}"
                lines.append(summary)
        typer.echo("\n".join(lines))

    @cases_app.command("open")
    def open_(ctx: typer.Context) -> None:
        """Open cases for new bad reviews and abuse flags now (the post-crawl pipeline does this too)."""
        from alerts.cases import open_cases
        from monitor.db import session_scope

        settings = ready_settings(ctx)
        with session_scope(settings) as session:
            n = open_cases(session, settings)
        typer.echo(f"opened {n} case(s)")

    case_ledger.register(cases_app, _me)
    app.add_typer(cases_app, name="cases")
