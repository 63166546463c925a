"""What happens after every crawl: detect, check listing images, open cases, queue alerts.

Detection only writes Flag and Alert rows; delivering mail is the sender's job.
"""

from __future__ import annotations

import logging
from datetime import datetime

from monitor.config import Settings
from monitor.db import session_scope
from monitor.reputation import snapshot

log = logging.getLogger(__name__)


def process(settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Score new reviews and listings, open cases for bad reviews and flags, write Alert rows, store reputation."""
    from alerts.cases import open_cases
    from alerts.rules import evaluate
    from monitor.detection import detect
    from monitor.listings import check_listings

    # One transaction per step: a failure later on keeps the flags already written.
    with session_scope(settings) as session:
        summary = detect(session, settings, now=now)
    with session_scope(settings) as session:
        # After detect: the buyers'-words signal reads the new not-as-pictured cause flags.
        image_flags = check_listings(session, settings, now=now, only_changed=True)
    with session_scope(settings) as session:
        cases = open_cases(session, settings, now=now)
    with session_scope(settings) as session:
        alerts = evaluate(session, settings, now=now)
    with session_scope(settings) as session:
        # After the flags and cases: the adjusted rating leaves out what this run flagged.
        reputation = snapshot(session, settings, now=now)
    counts = {
        **summary.as_dict(), "image_flags": image_flags, "cases_opened": cases, "alerts_queued": alerts,
        "reputation_snapshots": reputation,
    }
    log.info("pipeline %s", counts)
    return counts
