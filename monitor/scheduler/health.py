"""The job-error listener: a failed job becomes a crawl-health alert for a person to see."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models.alerts import Alert
from models.base import utcnow
from monitor.config import Settings
from monitor.db import session_scope
from monitor.scheduler import isolation, runner, tasks

log = logging.getLogger("shopmon.scheduler")


def on_job_error(event) -> None:  # noqa: ANN001
    """APScheduler listener for EVENT_JOB_ERROR. Never raises: the scheduler must keep going."""
    try:
        settings = runner.current().settings
        raise_job_alert(settings, event.job_id, event.scheduled_run_time, event.exception)
    except Exception as exc:  # noqa: BLE001
        log.error("could not record the crawl-health alert for job %s: %s", event.job_id, exc)


def raise_job_alert(settings: Settings, job_id: str, scheduled_for: datetime, exc: BaseException | None) -> int:
    """Queue the alert; returns the number of Alert rows written."""
    crawl_closed = isinstance(exc, (isolation.JobTimeout, isolation.JobInterrupted, isolation.ChildFailed))
    if job_id.startswith("crawl:") and crawl_closed:
        # The crawl's CrawlRun row now says failed: alerts.rules words crawl-health alerts
        # for those itself (per shop, deduplicated), so let it.
        try:
            evaluate = tasks.hook("evaluate")
        except tasks.HookMissing:
            pass
        else:
            with session_scope(settings) as session:
                return int(evaluate(session, settings))
    return _write_alert(settings, job_id, scheduled_for, exc)


def _recipients(settings: Settings) -> list[str]:
    try:
        from alerts.rules import recipients_for
    except ImportError:
        routes = settings.alerts.recipients
        return list(routes.get("crawl_health") or routes.get("serious_case") or [])
    return recipients_for(settings, "crawl_health")


def _write_alert(settings: Settings, job_id: str, scheduled_for: datetime, exc: BaseException | None) -> int:
    recipients = _recipients(settings)
    if not recipients:
        log.warning("job %s failed and no crawl_health recipients are configured; no alert queued", job_id)
        return 0
    error = (str(exc) if exc is not None else "").strip()
    payload: dict[str, Any] = {
        "job_id": job_id,
        "failure_kind": type(exc).__name__ if exc is not None else "error",
        # First line only: errors can quote request headers.
        "error": error.splitlines()[0][:300] if error else None,
        "scheduled_for": scheduled_for.isoformat(),
    }
    if job_id.startswith("crawl:"):
        payload["shop_config_id"] = job_id.removeprefix("crawl:")
    now = utcnow()
    try:
        with session_scope(settings) as session:
            session.add(
                Alert(
                    kind="crawl_health",
                    dedup_key=f"crawl_health:job:{job_id}:{scheduled_for.isoformat()}",
                    group_key=f"crawl_health:scheduler:{now:%Y%m%dT%H}",
                    recipients=recipients,
                    payload=payload,
                    severity="medium",
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    except IntegrityError:
        return 0  # that occurrence already alerted
    except SQLAlchemyError as db_exc:
        log.error("job %s failed and its alert could not be stored: %s", job_id, db_exc)
        return 0
    return 1
