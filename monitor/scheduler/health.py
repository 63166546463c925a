"""The job-error listener: a failed job becomes a crawl-health alert for a person to see."""

from __future__ import annotations

import logging
from datetime import datetime

from alerts.rules import queue_job_alert
from monitor.config import Settings
from monitor.db import session_scope
from monitor import child_process
from monitor.scheduler import runner, tasks

log = logging.getLogger("shopmon.scheduler")


def on_job_error(event) -> None:  # noqa: ANN001
    """APScheduler listener for EVENT_JOB_ERROR. Never raises: the scheduler must keep going."""
    try:
        settings = runner.current().settings
        raise_job_alert(settings, event.job_id, event.scheduled_run_time, event.exception)
    except Exception as exc:  # noqa: BLE001
        log.error("could not record the crawl-health alert for job %s: %s", event.job_id, exc)


def raise_job_alert(settings: Settings, job_id: str, scheduled_for: datetime, exc: BaseException | None) -> int:
    """Queue the alert through alerts.rules (silences and grouping apply); returns the alerts queued."""
    crawl_closed = isinstance(exc, (child_process.JobTimeout, child_process.JobInterrupted, child_process.ChildFailed))
    with session_scope(settings) as session:
        if job_id.startswith("crawl:") and crawl_closed:
            # The crawl's CrawlRun row now says failed: the rules word crawl-health alerts for
            # those themselves (per shop, deduplicated). Through the task hook, like every step
            # the scheduler runs, so tests can count it.
            return int(tasks.hook("evaluate")(session, settings))
        return queue_job_alert(
            session, settings, job_id=job_id, scheduled_for=scheduled_for,
            failure_kind=type(exc).__name__ if exc is not None else "error",
            error=str(exc) if exc is not None else None,
        )
