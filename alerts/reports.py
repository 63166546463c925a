"""Numbers for the daily digest and the weekly report, computed from the database."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, func, select

from models.alerts import Alert
from models.cases import Case, CaseEvent
from models.detection import Flag
from models.reviews import Review

from alerts.cases import RESOLVED_STATES, severity_rank
from monitor.config import Settings

AGE_BUCKETS = (("<1d", 24), ("1-2d", 48), ("2-7d", 168), (">7d", None))


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: datetime
    end: datetime


def report_period(settings: Settings, kind: str, now: datetime) -> Period:
    """The local day (digest) or ISO week (report) that ended most recently before ``now``.

    Days are the team's local days (settings.alerts.timezone), so a digest sent at 08:00
    Beijing time covers yesterday in Beijing, not a UTC day split across two.
    """
    tz = ZoneInfo(settings.alerts.timezone)
    local = now.astimezone(tz)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "daily_digest":
        start = today - timedelta(days=1)
        end = today
        label = start.date().isoformat()
    else:
        monday = today - timedelta(days=today.weekday())
        start = monday - timedelta(days=7)
        end = monday
        year, week, _ = start.isocalendar()
        label = f"{year}-W{week:02d}"
    return Period(kind, label, start, end)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def report_stats(session: Session, settings: Settings, period: Period, *, now: datetime) -> dict[str, Any]:
    """Counts by cause and flag, open cases by age, response times, rating trend."""
    start, end = period.start, period.end
    max_rating = settings.detection.case_max_rating

    new_reviews = session.exec(
        select(Review.rating).where(Review.first_seen >= start, Review.first_seen < end)
    ).all()
    opened = list(session.exec(select(Case).where(Case.opened_at >= start, Case.opened_at < end)).all())
    by_cause = Counter(c.cause or "unclassified" for c in opened)
    by_flag = Counter(
        dict(
            session.exec(
                select(Flag.kind, func.count(Flag.id))
                .where(Flag.created_at >= start, Flag.created_at < end, Flag.status != "rejected")
                .group_by(Flag.kind)
            ).all()
        )
    )

    open_cases = list(session.exec(select(Case).where(Case.state.not_in(RESOLVED_STATES))).all())
    by_age = {name: 0 for name, _ in AGE_BUCKETS}
    for case in open_cases:
        age_h = (now - case.opened_at).total_seconds() / 3600
        for name, limit in AGE_BUCKETS:
            if limit is None or age_h < limit:
                by_age[name] += 1
                break
    by_severity = Counter(c.severity for c in open_cases)

    # Response time: from a case opening to the first recorded contact with the buyer.
    first_contact = dict(
        session.exec(
            select(CaseEvent.case_id, func.min(CaseEvent.at)).where(CaseEvent.action == "contact").group_by(CaseEvent.case_id)
        ).all()
    )
    responded = [c for c in session.exec(select(Case).where(Case.id.in_(list(first_contact)))).all()] if first_contact else []
    waits = sorted(
        _hours(first_contact[c.id] - c.opened_at) for c in responded if start <= first_contact[c.id] < end
    )
    resolved = session.exec(
        select(func.count(CaseEvent.id)).where(
            CaseEvent.action == "state", CaseEvent.at >= start, CaseEvent.at < end
        )
    ).one()
    resolved_to = Counter(
        e.data.get("after")
        for e in session.exec(
            select(CaseEvent).where(CaseEvent.action == "state", CaseEvent.at >= start, CaseEvent.at < end)
        ).all()
    )
    uncontacted = sum(
        1 for c in open_cases if c.id not in first_contact and now - c.opened_at > timedelta(hours=settings.alerts.escalation_hours)
    )

    # Rating trend: one point per local day of the period plus the same span before it, so
    # the report can say "better or worse than last time".
    tz = ZoneInfo(settings.alerts.timezone)
    span = end - start
    trend_start = start - span
    # By when the buyer posted (first seen when the page shows no date), so a first crawl of
    # a shop's history still draws the trend on the right days.
    rows = session.exec(
        select(Review.rating, Review.created_at, Review.first_seen).where(
            Review.rating.is_not(None),
            or_(
                and_(Review.created_at >= trend_start, Review.created_at < end),
                and_(Review.created_at.is_(None), Review.first_seen >= trend_start, Review.first_seen < end),
            ),
        )
    ).all()
    per_day: dict[str, list[int]] = defaultdict(list)
    current, previous = [], []
    for rating, created_at, first_seen in rows:
        posted = created_at or first_seen
        per_day[posted.astimezone(tz).date().isoformat()].append(rating)
        (current if posted >= start else previous).append(rating)
    trend = [
        {"day": day, "reviews": len(v), "avg_rating": round(statistics.fmean(v), 2)} for day, v in sorted(per_day.items())
    ]

    sent = Counter(
        dict(
            session.exec(
                select(Alert.kind, func.count(Alert.id))
                .where(Alert.sent_at >= start, Alert.sent_at < end)
                .group_by(Alert.kind)
            ).all()
        )
    )
    return {
        "period": {"kind": period.kind, "label": period.label, "start": start.isoformat(), "end": end.isoformat()},
        "reviews_new": len(new_reviews),
        "bad_reviews_new": sum(1 for r in new_reviews if r is not None and r <= max_rating),
        "cases_opened": len(opened),
        "state_changes": resolved,
        "cases_resolved": resolved_to.get("modified", 0) + resolved_to.get("closed", 0),
        "by_cause": dict(by_cause.most_common()),
        "by_flag": dict(by_flag.most_common()),
        "open_cases": len(open_cases),
        "open_by_age": by_age,
        "open_by_severity": dict(sorted(by_severity.items(), key=lambda kv: -severity_rank(kv[0]))),
        "response": {
            "contacted": len(waits),
            "median_hours": statistics.median(waits) if waits else None,
            "p90_hours": waits[min(len(waits) - 1, int(len(waits) * 0.9))] if waits else None,
            "uncontacted_over_escalation": uncontacted,
        },
        "rating": {
            "avg": round(statistics.fmean(current), 2) if current else None,
            "previous_avg": round(statistics.fmean(previous), 2) if previous else None,
            "trend": trend,
        },
        "alerts_sent": dict(sent),
    }
