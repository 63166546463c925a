"""Alerts about shopmon itself, through the crawl-health route: failed crawls and jobs, an untrusted
model, alert emails that failed for good. Errors are scrubbed of secrets before they are stored."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from models.alerts import Alert
from models.base import utcnow
from models.catalog import Shop
from models.crawl import FAILED_CRAWL_STATUSES, CrawlRun

from alerts.rules.flag_alerts import names_of
from alerts.rules.queue import AlertQueue, iso
from alerts.silences import AlertSubject
from monitor.config import Settings

_SECRET_HEADER = re.compile(r"(?i)\b(cookie|set-cookie|authorization|proxy-authorization)(\s*[:=]\s*).*$")
_SECRET_VALUE = re.compile(r"(?i)\b(password|passwd|token|session(?:id)?|sid|api[_-]?key)(\s*[:=]\s*)[^\s;&]+")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def scrub_error(error: str | None) -> str | None:
    """First line of a crawl error with secrets masked: spider errors can quote headers and URLs."""
    if not error or not error.strip():
        return None
    line = error.strip().splitlines()[0][:300]
    line = _SECRET_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", line)
    line = _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", line)
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}[redacted]@", line)


def crawl_health(q: AlertQueue) -> None:
    runs = list(q.session.exec(
        select(CrawlRun).where(CrawlRun.status.in_(FAILED_CRAWL_STATUSES)).order_by(CrawlRun.id)
    ).all())
    keys = {f"crawl_health:run:{r.id}": r for r in runs}
    done = q.existing(list(keys))
    todo = [(k, r) for k, r in keys.items() if k not in done]
    if not todo:
        return
    shops, _ = names_of(q.session, {r.shop_id for _, r in todo if r.shop_id}, set())
    for key, run in todo:
        shop = shops.get(run.shop_id) if run.shop_id else None
        payload = {
            "run_id": run.id,
            "shop_id": run.shop_id,
            "shop_name": (shop.name or shop.config_id) if shop else run.shop_config_id,
            "shop_config_id": run.shop_config_id,
            "spider": run.spider,
            "failure_kind": run.failure_kind or "error",
            "error": scrub_error(run.error),
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
            "requests": run.requests,
            "listings_seen": run.listings_seen,
            "reviews_new": run.reviews_new,
        }
        q.add(
            kind="crawl_health",
            dedup_key=key,
            scope=f"shop{run.shop_id or run.shop_config_id}",
            payload=payload,
            severity="high" if run.failure_kind in ("blocked", "captcha", "login") else "medium",
            subject=AlertSubject("crawl_health", run.shop_id),
        )


def ops_alert(q: AlertQueue, failure_kind: str, error: str, key_detail: str) -> None:
    """Stage a crawl-health alert about shopmon itself; one per ``key_detail`` per day."""
    line = scrub_error(error) or failure_kind
    key = f"crawl_health:{failure_kind}:{key_detail}:{q.now:%Y%m%d}"
    if q.existing([key]):
        return
    payload = {"job_id": failure_kind, "failure_kind": failure_kind, "error": line, "scheduled_for": iso(q.now)}
    q.add(kind="crawl_health", dedup_key=key, scope=failure_kind, payload=payload, severity="high",
          subject=AlertSubject("crawl_health"), immediate=True)


def queue_ops_alert(
    session: Session, settings: Settings, *, failure_kind: str, error: str, now: datetime | None = None
) -> int:
    """A crawl-health alert for a problem outside any one crawl (e.g. an untrusted live model).

    One per distinct error per day, so a scheduler retrying every few minutes mails once.
    """
    q = AlertQueue(session, settings, now or utcnow())
    ops_alert(q, failure_kind, error, hashlib.sha256((scrub_error(error) or "").encode()).hexdigest()[:16])
    q.write()
    session.flush()
    return q.queued


def queue_job_alert(
    session: Session, settings: Settings, *, job_id: str, scheduled_for: datetime, failure_kind: str,
    error: str | None, now: datetime | None = None,
) -> int:
    """A scheduled job that failed outside any crawl (a crawl's failed CrawlRun alerts by itself).

    Through the same queue as every other alert, so silences, grouping and secret scrubbing apply.
    """
    q = AlertQueue(session, settings, now or utcnow())
    key = f"crawl_health:job:{job_id}:{scheduled_for.isoformat()}"
    if q.existing([key]):
        return 0
    payload: dict[str, Any] = {"job_id": job_id, "failure_kind": failure_kind, "error": scrub_error(error),
                               "scheduled_for": iso(scheduled_for)}
    shop_id = None
    if job_id.startswith("crawl:"):
        payload["shop_config_id"] = job_id.removeprefix("crawl:")
        shop_id = session.exec(select(Shop.id).where(Shop.config_id == payload["shop_config_id"])).first()
    q.add(kind="crawl_health", dedup_key=key, scope="scheduler", payload=payload, severity="medium",
          subject=AlertSubject("crawl_health", shop_id))
    q.write()
    session.flush()
    return q.queued


def delivery_failures(q: AlertQueue) -> None:
    """Alerts that failed for good reach ops through the crawl-health route (once a day)."""
    failed = q.session.exec(
        select(func.count()).select_from(Alert).where(Alert.status == "failed", Alert.kind != "crawl_health")
    ).one()
    if not failed:
        return
    last = q.session.exec(
        select(Alert.last_error).where(Alert.status == "failed", Alert.kind != "crawl_health")
        .order_by(Alert.id.desc()).limit(1)
    ).first()
    ops_alert(q, "alerts_failed", f"{failed} alert email(s) failed for good (`shopmon alerts retry --failed` "
               f"re-queues them); last error: {last or '-'}", "all")
