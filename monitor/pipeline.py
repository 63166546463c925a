"""What happens after every crawl: detect, open cases, queue alerts. Detection never sends mail."""

from __future__ import annotations

import logging
from datetime import datetime

from monitor.config import Settings
from monitor.db import session_scope

log = logging.getLogger(__name__)


def process(settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Score new reviews, open cases for bad reviews and flags, write Alert rows. Returns counts."""
    from alerts.cases import open_cases
    from alerts.rules import evaluate
    from monitor.detection import detect

    with session_scope(settings) as session:
        summary = detect(session, settings, now=now)
    with session_scope(settings) as session:
        cases = open_cases(session, settings, now=now)
    with session_scope(settings) as session:
        alerts = evaluate(session, settings, now=now)
    counts = {**summary.as_dict(), "cases_opened": cases, "alerts_queued": alerts}
    log.info("pipeline %s", counts)
    return counts
