"""``shopmon cases pay`` and ``shopmon cases ledger``: money paid in after-sales, for the supervisor and finance."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings, user_name

# Commands of `shopmon cases`, merged into its app.
app = typer.Typer()


@app.command("pay")
def pay(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id the payment belongs to.")],
    amount: Annotated[str, typer.Option("--amount", help="Amount paid, e.g. 10 or 12.50 (cases.currency).")],
    purpose: Annotated[str, typer.Option("--purpose", help="What it was for, e.g. 'resent missing item'.")],
    staff: Annotated[Optional[str], typer.Option("--staff", help="Who handled it (default: --by).")] = None,
    paid_at: Annotated[
        Optional[str], typer.Option("--paid-at", help="When it was paid: YYYY-MM-DD or ISO time (default: now).")
    ] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who records it (default: your user name).")] = None,
) -> None:
    """Record a payment (refund, compensation) on a case; it goes into the week's ledger."""
    from alerts.case_fields import format_amount, parse_amount
    from alerts.ledger import record_payment
    from alerts.timeparse import parse_when
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    cents = parse_amount(amount)
    when = parse_when(paid_at, settings.alerts.timezone, option="--paid-at") if paid_at else None
    actor = by or user_name("operator")
    with session_scope(settings) as session:
        row = record_payment(session, case_id, amount_cents=cents, purpose=purpose, staff=staff or actor,
                             recorded_by=actor, currency=settings.cases.currency, paid_at=when)
        typer.echo(f"payment #{row.id}: {format_amount(row.amount_cents, row.currency)} on case #{row.case_id} "
                   f"({row.purpose}, {row.staff})")


@app.command("ledger")
def ledger(
    ctx: typer.Context,
    week: Annotated[Optional[str], typer.Option("--week", help="One ISO week, e.g. 2026-W49.")] = None,
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=104, help="Or this many weeks up to this one.")] = 4,
    shop: Annotated[Optional[str], typer.Option("--shop", help="Only this shop (config id or platform id).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON: weeks with totals, per-case sums and payments.")] = False,
) -> None:
    """Payments per ISO week in alerts.timezone: each with amount, purpose and staff; week and per-case totals."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from alerts.case_fields import format_amount
    from alerts.ledger import parse_week, weekly_ledger
    from monitor.db import session_scope
    from monitor.platform_refs import find_shop

    settings = ready_settings(ctx)
    tz = settings.alerts.timezone
    if week:
        first = last = parse_week(week)
    else:
        last = datetime.now(ZoneInfo(tz)).date()
        first = last - timedelta(weeks=weeks - 1)
    cur = settings.cases.currency
    with session_scope(settings) as session:
        shop_id = find_shop(session, shop).id if shop else None
        result = weekly_ledger(session, first=first, last=last, timezone=tz, shop_id=shop_id)
        data = [
            {
                "week": w.label, "start": w.start.isoformat(), "end": w.end.isoformat(), "currency": cur,
                "count": len(w.payments), "total_cents": w.total_cents,
                "by_case": {str(k): v for k, v in w.by_case().items()},
                "payments": [
                    {"id": p.id, "case_id": p.case_id, "amount_cents": p.amount_cents, "purpose": p.purpose,
                     "staff": p.staff, "paid_at": p.paid_at.astimezone(ZoneInfo(tz)).isoformat()}
                    for p in w.payments
                ],
            }
            for w in result
        ]
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for w in data:
        typer.echo(f"{w['week']} ({w['start']} - {w['end']}): {w['count']} payment(s), total {format_amount(w['total_cents'], cur)}")
        for p in w["payments"]:
            typer.echo(f"  {p['paid_at'][:16].replace('T', ' ')}  case #{p['case_id']:<5} "
                       f"{format_amount(p['amount_cents']):>10}  {p['purpose']}  ({p['staff']})")
        if len(w["by_case"]) > 1:
            per_case = ", ".join(f"#{k} {format_amount(v)}" for k, v in w["by_case"].items())
            typer.echo(f"  per case: {per_case}")
