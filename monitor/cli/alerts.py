"""``shopmon alerts``: evaluate rules, deliver queued emails, list them, silence noise, queue reports."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings, user_name

app = typer.Typer(name="alerts", help="Alert emails: rules, delivery, silences and reports.", no_args_is_help=True)


@app.command("evaluate")
def evaluate_(ctx: typer.Context) -> None:
    """Run the alert rules now: new serious cases, attacks, escalations, reminders, image and crawl problems.

    Writes Alert rows only; `shopmon alerts send` delivers them.
    """
    from alerts.rules import evaluate
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        n = evaluate(session, settings)
    typer.echo(f"queued {n} alert(s)")


@app.command("send")
def send(
    ctx: typer.Context,
    evaluate_first: Annotated[
        bool, typer.Option("--evaluate/--no-evaluate", help="Run the alert rules before sending.")
    ] = True,
    sender_id: Annotated[
        Optional[str], typer.Option("--sender-id", help="Name this sender in the claim records (default: host name).")
    ] = None,
) -> None:
    """Deliver due alerts: one email per group, worst first, over SMTP or to the outbox folder.

    Safe to run from several machines at once: each alert is claimed by exactly one sender.
    Temporary failures are retried later with backoff; run this regularly (the scheduler does).
    """
    from alerts.rules import evaluate
    from alerts.sender import send_pending
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    if evaluate_first:
        with session_scope(settings) as session:
            evaluate(session, settings)
    summary = send_pending(settings, sender_id=sender_id)
    where = f"SMTP {settings.smtp.host}:{settings.smtp.port}" if settings.smtp.host else f"outbox {settings.outbox_path}"
    typer.echo(", ".join(f"{k} {v}" for k, v in summary.as_dict().items()) + f" ({where})")
    waiting = summary.retrying + summary.deferred
    if waiting or summary.failed:
        typer.echo(
            f"warning: {waiting} alert(s) will be retried, {summary.failed} failed for good; "
            "see `shopmon alerts list --status pending` / `--status failed`"
            + ("; re-queue them with `shopmon alerts retry --failed`" if summary.failed else ""),
            err=True,
        )
    if summary.failed:
        raise typer.Exit(1)


@app.command("retry")
def retry(
    ctx: typer.Context,
    failed: Annotated[
        bool, typer.Option("--failed", help="Also queue alerts that failed for good again, with fresh attempts.")
    ] = False,
) -> None:
    """Make alerts waiting for their next retry due now (with --failed, failed ones too).

    Each keeps its Message-ID, so a message the server may already have is sent as the same
    message again. `shopmon alerts send` (or the scheduler) then delivers them.
    """
    from alerts.delivery_state import requeue
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        n = requeue(session, failed=failed)
    typer.echo(f"re-queued {n} alert(s); deliver them with `shopmon alerts send`")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        Optional[str], typer.Option("--status", help="pending, sending, sent, failed or suppressed.")
    ] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="serious_case, attack, escalation, ...")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N alerts.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON array with payloads.")] = False,
) -> None:
    """List alerts, newest first, with delivery status, attempts and the last error."""
    from sqlmodel import select

    from models.alerts import ALERT_STATUSES, Alert
    from monitor.config import ALERT_KINDS
    from monitor.db import session_scope
    from monitor.errors import ConfigError

    if status is not None and status not in ALERT_STATUSES:
        raise ConfigError(f"unknown status {status!r}; choose from {', '.join(ALERT_STATUSES)}")
    if kind is not None and kind not in ALERT_KINDS:
        raise ConfigError(f"unknown alert kind {kind!r}; choose from {', '.join(ALERT_KINDS)}")
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        query = select(Alert).order_by(Alert.id.desc()).limit(limit)
        if status:
            query = query.where(Alert.status == status)
        if kind:
            query = query.where(Alert.kind == kind)
        rows = list(session.exec(query).all())
    if as_json:
        typer.echo(json.dumps([a.model_dump(mode="json") for a in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no alerts")
        return
    local = settings.locale_for(None).show
    for a in rows:
        when = a.sent_at or a.next_attempt_at
        err = f"  {a.last_error}" if a.last_error and a.status != "sent" else ""
        case = f"case #{a.case_id}" if a.case_id else ""
        typer.echo(
            f"#{a.id:<6} {a.kind:<14} {a.severity:<8} {a.status:<10} tries {a.attempts}  {local(when)}  "
            f"{','.join(a.recipients)} {case}{err}"
        )


silence_app = typer.Typer(help="Mute alerts for a listing, reviewer, shop or kind until a time.", no_args_is_help=True)


@silence_app.command("add")
def silence_add(
    ctx: typer.Context,
    kind: Annotated[Optional[str], typer.Option("--kind", help="Alert kind to mute (e.g. crawl_health).")] = None,
    listing: Annotated[
        Optional[str], typer.Option("--listing", help="Item id as the platform shows it ([platform:]id) or its URL.")
    ] = None,
    reviewer: Annotated[
        Optional[str], typer.Option("--reviewer", help="Buyer account id ([platform:]id) or nick, as the platform shows it.")
    ] = None,
    shop: Annotated[
        Optional[str], typer.Option("--shop", help="Shop id from the configuration, or [platform:]id as the platform shows it.")
    ] = None,
    until: Annotated[
        Optional[str], typer.Option("--until", help="End: YYYY-MM-DD (end of that day) or ISO time.")
    ] = None,
    for_: Annotated[Optional[str], typer.Option("--for", help="Or a duration: 90m, 24h, 7d, 2w.")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why (shown in listings).")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who set it (default: your user name).")] = None,
) -> None:
    """Mute matching alerts until a time. Every given field must match; at least one is required.

    Muted alerts are still recorded (status `suppressed`), so nothing is lost, and are not sent later.
    """
    from alerts.silences import describe, silence_by_refs
    from alerts.timeparse import parse_duration, parse_when
    from models.base import utcnow
    from monitor.db import session_scope
    from monitor.errors import ConfigError

    if (until is None) == (for_ is None):
        raise ConfigError("give exactly one of --until or --for")
    settings = ready_settings(ctx)
    now = utcnow()
    end = parse_when(until, settings.alerts.timezone, option="--until") if until else now + parse_duration(for_ or "")
    with session_scope(settings) as session:
        s = silence_by_refs(
            session, until=end, created_by=by or user_name("operator"), kind=kind, listing=listing,
            reviewer=reviewer, shop=shop, reason=reason, now=now,
        )
        typer.echo(f"silence #{s.id} ({describe(session, s)}) until {settings.locale_for(None).show(s.until)}")


@silence_app.command("list")
def silence_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include silences that have ended.")] = False,
) -> None:
    """List active silences (or all of them)."""
    from sqlmodel import select

    from alerts.silences import describe
    from models.alerts import Silence
    from models.base import utcnow
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        query = select(Silence).order_by(Silence.id)
        if not all_:
            query = query.where(Silence.until > utcnow())
        rows = [(s, describe(session, s)) for s in session.exec(query).all()]
    if not rows:
        typer.echo("no silences")
    for s, what in rows:
        typer.echo(f"#{s.id:<4} {what:<40} until {settings.locale_for(None).show(s.until)}  by {s.created_by}  {s.reason or ''}".rstrip())


@silence_app.command("remove")
def silence_remove(
    ctx: typer.Context,
    silence_id: Annotated[int, typer.Argument(help="Silence id (from `shopmon alerts silence list`).")],
) -> None:
    """End a silence now (the record is kept)."""
    from alerts.silences import expire_silence
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        s = expire_silence(session, silence_id)
        typer.echo(f"silence #{s.id} ended at {settings.locale_for(None).show(s.until)}")


@app.command("report")
def report(
    ctx: typer.Context,
    which: Annotated[str, typer.Argument(help="daily (yesterday's digest) or weekly (last ISO week's report).")],
    send_now: Annotated[bool, typer.Option("--send", help="Deliver it right away.")] = False,
) -> None:
    """Queue the daily digest or weekly report (each period once).

    Counts by cause and flag, open cases by age and severity, response times, rating trend.
    """
    from alerts.rules import queue_report
    from alerts.sender import send_pending
    from monitor.db import session_scope
    from monitor.errors import ConfigError

    kinds = {"daily": "daily_digest", "weekly": "weekly_report"}
    if which not in kinds:
        raise ConfigError(f"unknown report {which!r}; choose daily or weekly")
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        n = queue_report(session, settings, kinds[which])  # type: ignore[arg-type]
    typer.echo(f"queued {n} {kinds[which]}" if n else f"{kinds[which]} for this period was already queued")
    if send_now:
        summary = send_pending(settings)
        typer.echo(", ".join(f"{k} {v}" for k, v in summary.as_dict().items()))


app.add_typer(silence_app, name="silence")
