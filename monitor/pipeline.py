"""What happens after reviews are stored, whoever stored them (``shopmon crawl``, the scheduler,
the demo, ``shopmon detect`` / ``shopmon process``): detect, check listing images, open cases,
follow review changes into the cases, queue alerts, store the shops' reputation.

Detection only writes Flag and Alert rows; delivering mail is the sender's job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from alerts.cases import open_cases
from alerts.changes import follow_review_changes
from alerts.rules import evaluate, queue_ops_alert
from monitor import outbox
from monitor.config import Settings
from monitor.db import session_scope
from monitor.detection import detect
from monitor.listings.check import check_listings
from monitor.model_trust import ModelTrustError
from monitor.reputation.changed import snapshot_changed

log = logging.getLogger(__name__)


@contextmanager
def model_trust_alerts(settings: Settings, now: datetime | None = None) -> Iterator[None]:
    """Turn an untrusted or missing live model into an ops alert, then let the error stop the caller."""
    try:
        yield
    except ModelTrustError as exc:
        try:
            with session_scope(settings) as session:
                queue_ops_alert(session, settings, failure_kind="model", error=str(exc), now=now)
        except Exception as alert_exc:  # noqa: BLE001 - the model error is what the caller must see
            log.error("could not queue the ops alert for a model problem: %s", alert_exc)
        raise


def run_detect(settings: Settings, *, rescore: bool = False, now: datetime | None = None):  # noqa: ANN201
    """``detect()`` in its own transaction; a model that cannot be trusted stops it and alerts ops."""
    with model_trust_alerts(settings, now), session_scope(settings) as session:
        return detect(session, settings, rescore=rescore, now=now)


def process(settings: Settings, now: datetime | None = None, *, rescore: bool = False) -> dict[str, int]:
    """Score new reviews and listings, open cases for bad reviews and flags, move cases whose
    review was edited or removed, write Alert rows, store reputation. Safe to run any number of times."""
    # One transaction per step: a failure later on keeps the flags already written.
    summary = run_detect(settings, rescore=rescore, now=now)
    with model_trust_alerts(settings, now), session_scope(settings) as session:
        # After detect: the buyers'-words signal reads the new not-as-pictured cause flags.
        # Only the listings this crawl or detection changed (the outbox): none when nothing is new.
        changed = outbox.take(session, "listings").get("listing", set())
        image_flags = check_listings(session, settings, now=now, only_changed=True, listing_ids=changed)
    with session_scope(settings) as session:
        cases = open_cases(session, settings, now=now, only_changed=True)
    with session_scope(settings) as session:
        changes = follow_review_changes(session, now=now)
    with session_scope(settings) as session:
        alerts = evaluate(session, settings, now=now)
    with session_scope(settings) as session:
        # After the flags and cases: the adjusted rating leaves out what this run flagged. Only
        # the shops and listings whose facts changed (the outbox): nothing when nothing is new.
        reputation = snapshot_changed(session, settings, now=now)
    counts = {**summary.as_dict(), "image_flags": image_flags, "cases_opened": cases, **changes.as_dict(),
              "alerts_queued": alerts, "reputation_snapshots": reputation}
    log.info("pipeline %s", counts)
    return counts
