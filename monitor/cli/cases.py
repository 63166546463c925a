"""``shopmon cases``: the after-sales team's bad-review record."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from monitor.cli import case_ledger, case_phrasing
from monitor.cli.context import ready_settings, user_name


def _case_dict(case: Any, role: Any, *, bulk: bool) -> dict[str, Any]:
    """The case as JSON, with the phone and order number as this role may see them."""
    from alerts.case_fields import contact_details

    return case.model_dump(mode="json") | contact_details(case, role, bulk=bulk)


ROLE_HELP = "Your role (staff, supervisor, analyst, admin): decides whether phone and order numbers show unmasked."
RoleOpt = Annotated[str, typer.Option("--role", help=ROLE_HELP)]
# The filters `cases list` and `cases export` share: an export is any list, written to a file.
StateOpt = Annotated[Optional[str], typer.Option("--state", help="Only this state (open, contacted, promised, ...).")]
SeverityOpt = Annotated[Optional[str], typer.Option("--severity", help="Only this severity (low, medium, high, critical).")]
OwnerOpt = Annotated[Optional[str], typer.Option("--owner", help="Only cases assigned to this person.")]
AttackOpt = Annotated[Optional[int], typer.Option("--attack", help="Only this attack's case and its members.")]
SinceOpt = Annotated[Optional[str], typer.Option("--since", help="Opened on or after: YYYY-MM-DD (alerts.timezone) or ISO time.")]
UntilOpt = Annotated[Optional[str], typer.Option("--until", help="Opened before: YYYY-MM-DD (start of that day) or ISO time.")]
LimitOpt = Annotated[Optional[int], typer.Option("--limit", min=1, help="At most this many cases.")]


def _filtered(session: Any, settings: Any, **filters: Any) -> list[Any]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from alerts.cases import list_cases
    from alerts.timeparse import parse_when

    def bound(text: str | None, option: str, *, start_of_day: bool) -> datetime | None:
        if not text:
            return None
        if start_of_day and len(text) == 10:  # a bare date means from midnight, not from its end
            return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(settings.alerts.timezone))
        return parse_when(text, settings.alerts.timezone, option=option)

    since = bound(filters.pop("since"), "--since", start_of_day=True)
    until = bound(filters.pop("until"), "--until", start_of_day=True)
    return list_cases(session, since=since, until=until, **filters)


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


def _line(case: Any, phone: str | None, show: Callable[[datetime | None], str]) -> str:
    rating = f"{case.rating}★" if case.rating is not None else "-"
    kinds = ",".join(case.kinds) or "-"
    return (
        f"#{case.id:<5} {case.severity:<8} {case.state:<21} {rating:<3} {_pad(case.buyer_nick or '-', 16)} {phone or '-':<12} "
        f"{_pad(case.item_title or '-', 30)} {case.cause or '-':<16} {kinds:<20} {_pad(case.owner or '-', 10)} "
        f"{show(case.opened_at)}"
    )


app = typer.Typer(
    name="cases",
    help="After-sales cases: one per bad review or abuse flag, with state, contacts and history.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    ctx: typer.Context,
    state: StateOpt = None,
    severity: SeverityOpt = None,
    owner: OwnerOpt = None,
    attack: AttackOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    role: RoleOpt = "staff",
) -> None:
    """List cases worst first, then oldest first: the order to work them in."""
    from models.roles import parse_role
    from monitor.db import session_scope

    who = parse_role(role)
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        cases = _filtered(session, settings, state=state, severity=severity, owner=owner, attack=attack,
                          since=since, until=until, limit=limit)
    if as_json:
        typer.echo(json.dumps([_case_dict(c, who, bulk=True) for c in cases], ensure_ascii=False, indent=2))
        return
    if not cases:
        typer.echo("no cases")
        return
    typer.echo(
        f"{'id':<6} {'severity':<8} {'state':<21} {'★':<3} {'buyer':<16} {'phone':<12} {'item':<30} {'cause':<16} {'flags':<20} {'owner':<10} opened"
    )
    for case in cases:
        typer.echo(_line(case, _case_dict(case, who, bulk=True)["buyer_phone"], settings.locale_for(None).show))


@app.command("show")
def show(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id (from `shopmon cases list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON with the case and its events.")] = False,
    role: RoleOpt = "staff",
) -> None:
    """Show one case: the review, the buyer's details, severity, guidance, contacts and the full history."""
    from alerts.attacks import attack_members
    from alerts.case_fields import contact_details, format_amount
    from alerts.cases import TRANSITIONS, case_events, get_case
    from alerts.phrasing import next_channel, render_for_case
    from models.roles import parse_role
    from monitor.db import session_scope

    who = parse_role(role)
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        case = get_case(session, case_id)
        events = case_events(session, case_id)
        members = [m.id for m in attack_members(session, case_id)]
        channel = next_channel(case.contact_status)
        message = render_for_case(session, case, channel, settings.alerts.language)
    if as_json:
        out = _case_dict(case, who, bulk=False) | {"members": members, "events": [e.model_dump(mode="json") for e in events]}
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    contact = contact_details(case, who, bulk=False)
    rating = f"{case.rating} star(s)" if case.rating is not None else "-"
    attack = f"attack of {len(members)} cases: {', '.join(f'#{m}' for m in members)}" if members else (
        f"member of attack case #{case.parent_id}" if case.parent_id else None)
    local = settings.locale_for(None).show  # the team's time zone, not UTC
    lines = [
        f"Case #{case.id}  [{case.severity}]  state: {case.state}  (next: {', '.join(TRANSITIONS[case.state])})",
        f"Buyer:    {case.buyer_nick or '-'}  (platform id {case.buyer_platform_id or '-'})",
        f"Phone:    {contact['buyer_phone'] or '-'}   order: {contact['order_no'] or '-'}",
        f"Item:     {case.item_title or '-'}",
        f"Rating:   {rating}",
        f"Review:   {case.review_text or '-'}",
        f"Posted:   {local(case.review_posted_at)}",
        f"Cause:    {case.cause or '-'}",
        f"Flags:    {', '.join(case.kinds) or '-'}",
        *([f"Attack:   {attack}"] if attack else []),
        f"Owner:    {case.owner or 'unassigned'}",
        f"Contact:  {case.contact_status}",
        f"Promised: {local(case.promised_by)}",
        *([f"Compensation agreed: {format_amount(case.compensation_cents, settings.cases.currency)}"]
          if case.compensation_cents is not None else []),
        f"Opened:   {local(case.opened_at)}   last progress: {local(case.last_progress_at)}",
        "",
        "What to do:",
        *[f"  {line}" for line in (case.guidance or "-").splitlines()],
        "",
        f"Next contact ({channel}), from the team's templates:",
        f"  {message}",
        "",
        "History:",
    ]
    for e in events:
        detail = ", ".join(f"{k}={v}" for k, v in e.data.items() if v not in (None, [], ""))
        note = f" — {e.note}" if e.note else ""
        lines.append(f"  {local(e.at)} {e.actor:<12} {e.action:<9} {detail}{note}")
    typer.echo("\n".join(lines))


@app.command("update")
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
            session, list(case_ids or []), attack=attack, actor=by or user_name("operator"), state=state, contact=contact,
            promise_date=promise, owner=owner, note=note, buyer_id=buyer_id, phone=phone, order_no=order_no,
            compensation_cents=cents, config=settings.cases,
        )
        lines = []
        for case in cases:
            summary = f"case #{case.id}: state {case.state}, contact {case.contact_status}, owner {case.owner or 'unassigned'}"
            if case.promised_by:
                summary += f", promised by {settings.locale_for(None).show(case.promised_by)}"
            lines.append(summary)
    typer.echo("\n".join(lines))


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: cases-DATE.csv/xlsx here).")] = None,
    state: StateOpt = None,
    severity: SeverityOpt = None,
    owner: OwnerOpt = None,
    attack: AttackOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = None,
    role: RoleOpt = "staff",
) -> None:
    """Write the (filtered) case list as the team's spreadsheet, in the handbook's column order."""
    from datetime import datetime

    from alerts.case_export import FORMATS, export_rows, write_export
    from models.roles import exports_contact_details, parse_role
    from monitor.db import session_scope
    from monitor.errors import ConfigError

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; choose csv or xlsx")
    who = parse_role(role)
    settings = ready_settings(ctx)
    path = output or Path(f"cases-{datetime.now():%Y%m%d-%H%M}.{fmt}")
    with session_scope(settings) as session:
        cases = _filtered(session, settings, state=state, severity=severity, owner=owner, attack=attack,
                          since=since, until=until, limit=limit)
        rows = export_rows(session, cases, role=who, language=settings.alerts.language,
                           timezone=settings.alerts.timezone, currency=settings.cases.currency)
    try:
        write_export(rows, path, fmt)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    masked = "" if exports_contact_details(who) else f" (phone and order numbers masked for role {who})"
    typer.echo(f"wrote {len(cases)} case(s) to {path}{masked}")


@app.command("open")
def open_(ctx: typer.Context) -> None:
    """Open cases for new bad reviews and abuse flags now (the post-crawl pipeline does this too)."""
    from alerts.cases import open_cases
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        n = open_cases(session, settings)
    typer.echo(f"opened {n} case(s)")


app.add_typer(case_ledger.app)


app.add_typer(case_phrasing.app)
