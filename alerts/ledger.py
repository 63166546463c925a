"""The compensation ledger: every after-sales payment with its purpose and who handled it, per week.

Finance signs off each week's payments, so weeks are ISO weeks (Monday to Sunday) in the
team's time zone (``alerts.timezone``), and amounts stay integer cents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from models.base import utcnow
from models.cases import CaseEvent
from models.ledger import Compensation

from alerts.cases import CaseError, get_case


def record_payment(
    session: Session,
    case_id: int,
    *,
    amount_cents: int,
    purpose: str,
    staff: str,
    recorded_by: str,
    currency: str = "CNY",
    paid_at: datetime | None = None,
    now: datetime | None = None,
) -> Compensation:
    """One payment made to a case's buyer; also written to the case's history."""
    now = now or utcnow()
    paid_at = paid_at or now
    case = get_case(session, case_id)
    if amount_cents <= 0:
        raise CaseError("a payment must be more than zero")
    if not (purpose or "").strip():
        raise CaseError("say what the payment was for (--purpose), e.g. 'resent missing item, removed neutral review'")
    if not (staff or "").strip() or not (recorded_by or "").strip():
        raise CaseError("a payment needs the staff member who handled it (--staff) and who recorded it (--by)")
    if paid_at.tzinfo is None:
        raise CaseError("payment time must carry a time zone")
    if paid_at > now:
        raise CaseError(f"payment time {paid_at.isoformat()} is in the future")
    row = Compensation(
        case_id=case.id, shop_id=case.shop_id, amount_cents=amount_cents, currency=currency,
        purpose=purpose.strip(), staff=staff.strip(), paid_at=paid_at, recorded_by=recorded_by.strip(), recorded_at=now,
    )
    session.add(row)
    session.add(CaseEvent(case_id=case.id, at=now, actor=recorded_by.strip(), action="payment",
                          data={"amount_cents": amount_cents, "currency": currency, "purpose": row.purpose, "staff": row.staff}))
    session.flush()
    return row


@dataclass
class Week:
    label: str  # 2026-W49
    start: date  # Monday
    payments: list[Compensation] = field(default_factory=list)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def total_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    def by_case(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for p in self.payments:
            out[p.case_id] += p.amount_cents
        return dict(out)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(text: str) -> date:
    """``2026-W49`` -> the Monday it starts on."""
    try:
        return date.fromisocalendar(int(text[:4]), int(text.upper().split("W", 1)[1]), 1)
    except (ValueError, IndexError):
        raise CaseError(f"week {text!r} is not an ISO week like 2026-W49") from None


def weekly_ledger(session: Session, *, first: date, last: date, timezone: str, shop_id: int | None = None) -> list[Week]:
    """Weeks from the one holding ``first`` to the one holding ``last`` (local dates), each with its payments."""
    zone = ZoneInfo(timezone)
    start = week_start(first)
    stop = week_start(last) + timedelta(days=7)
    query = select(Compensation).where(
        Compensation.paid_at >= datetime.combine(start, time(), zone),
        Compensation.paid_at < datetime.combine(stop, time(), zone),
    )
    if shop_id is not None:
        query = query.where(Compensation.shop_id == shop_id)
    weeks: dict[date, Week] = {}
    day = start
    while day < stop:
        iso = day.isocalendar()
        weeks[day] = Week(label=f"{iso.year}-W{iso.week:02d}", start=day)
        day += timedelta(days=7)
    for row in session.exec(query.order_by(Compensation.paid_at, Compensation.id)):
        weeks[week_start(row.paid_at.astimezone(zone).date())].payments.append(row)
    return list(weeks.values())
