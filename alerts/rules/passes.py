"""One evaluation pass over every rule, and the periodic reports; nothing here sends mail."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from models.base import utcnow

from alerts.reports import report_period, report_stats
from alerts.rules.case_alerts import escalations, reminders, serious_cases
from alerts.rules.flag_alerts import flag_alerts
from alerts.rules.ops_alerts import crawl_health, delivery_failures
from alerts.rules.queue import AlertQueue
from alerts.silences import AlertSubject
from monitor.config import Settings
from monitor.errors import DataError

log = logging.getLogger(__name__)

REPORT_KINDS = ("daily_digest", "weekly_report")


def evaluate(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """Write Alert rows for everything that needs telling; returns how many were queued (not suppressed)."""
    q = AlertQueue(session, settings, now or utcnow())
    serious_cases(q)
    reminders(q)
    flag_alerts(q, "attack")
    escalations(q)
    flag_alerts(q, "image_mismatch")
    crawl_health(q)
    delivery_failures(q)
    q.write()
    session.flush()
    if q.suppressed:
        log.info("%d alert(s) suppressed by silences", q.suppressed)
    return q.queued


def queue_report(
    session: Session,
    settings: Settings,
    kind: Literal["daily_digest", "weekly_report"],
    *,
    now: datetime | None = None,
) -> int:
    """Queue the digest/report for the period ending at ``now``; 0 if that period's was already queued."""
    if kind not in REPORT_KINDS:
        raise DataError(f"unknown report kind {kind!r}; choose daily_digest or weekly_report")
    now = now or utcnow()
    period = report_period(settings, kind, now)
    q = AlertQueue(session, settings, now)
    key = f"{kind}:{period.label}"
    if q.existing([key]):
        return 0
    payload = report_stats(session, settings, period, now=now)
    q.add(
        kind=kind,
        dedup_key=key,
        scope=period.label,
        payload=payload,
        severity="low",
        subject=AlertSubject(kind),
        immediate=True,
    )
    q.write()
    session.flush()
    return q.queued
