"""What ``shopmon status`` shows: who is active, the jobs and when they run next, how they last ended."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect

from alerts.delivery_state import delivery_health
from monitor.config import Settings
from monitor.db import get_engine, session_scope
from monitor.scheduler import runs
from monitor.scheduler.lease import current_lease
from monitor.scheduler.plan import plan_jobs
from monitor.scheduler.runner import QUIET_STATUSES
from monitor.scheduler.service import JOBSTORE_TABLE


def stored_jobs(settings: Settings) -> dict[str, datetime | None]:
    """Next run time per job id, read from the job store without starting a scheduler."""
    engine = get_engine(settings)
    if not inspect(engine).has_table(JOBSTORE_TABLE):
        return {}
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE}")).all()
    return {r[0]: datetime.fromtimestamp(r[1], UTC) if r[1] is not None else None for r in rows}


def gather(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    lease = current_lease(get_engine(settings))
    stored = stored_jobs(settings)
    last = runs.last_runs(settings)
    jobs = []
    for spec in plan_jobs(settings, now):
        run = last.get(spec.id)
        jobs.append(
            {
                "id": spec.id,
                "name": spec.name,
                "scheduled": spec.id in stored,
                "next_run": stored.get(spec.id),
                "last_status": run["status"] if run else None,
                "last_run": run["scheduled_for"] if run else None,
                "last_duration_s": run["duration_s"] if run else None,
                "last_counts": run["counts"] if run else {},
                "last_error": _first_line(run["error"]) if run else None,
            }
        )
    crawls = runs.last_crawls(settings)
    shops = []
    for shop in settings.shops:
        c = crawls.get(shop.id)
        shops.append(
            {
                "shop": shop.id,
                "last_crawl": c["started_at"] if c else None,
                "status": c["status"] if c else None,
                "failure_kind": c["failure_kind"] if c else None,
                "reviews_new": c["reviews_new"] if c else None,
            }
        )
    return {
        "now": now,
        "scheduler": {
            "holder": lease.holder if lease else None,
            "active": bool(lease and lease.active(now)),
            "lease_expires": lease.expires_at if lease else None,
            "heartbeat": lease.heartbeat_at if lease else None,
        },
        "jobs": jobs,
        "orphaned_jobs": sorted(set(stored) - {j["id"] for j in jobs}),
        "shops": shops,
        "alerts": _alerts(settings, now),
    }


def _alerts(settings: Settings, now: datetime) -> dict[str, Any]:
    with session_scope(settings) as session:
        return delivery_health(session, settings, now)


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else None


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    delta = (value - now).total_seconds()
    rel = f"in {_span(delta)}" if delta >= 0 else f"{_span(-delta)} ago"
    return f"{value:%Y-%m-%d %H:%M:%S}Z ({rel})"


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def render(data: dict[str, Any]) -> str:
    now = data["now"]
    sched = data["scheduler"]
    lines = []
    if sched["holder"] is None:
        lines.append("scheduler: none active (start one with `shopmon schedule`)")
    elif sched["active"]:
        lines.append(f"scheduler: active, {sched['holder']} (last heartbeat {_when(sched['heartbeat'], now)})")
    else:
        lines.append(f"scheduler: none active; {sched['holder']} last held the lease until {_when(sched['lease_expires'], now)}")
    lines.append("")
    lines.append("jobs:")
    for j in data["jobs"]:
        nxt = _when(j["next_run"], now) if j["scheduled"] else "not in the job store yet"
        last = "never run"
        if j["last_status"]:
            counts = " ".join(f"{k}={v}" for k, v in (j["last_counts"] or {}).items())
            last = f"{j['last_status']} for {_when(j['last_run'], now)}"
            if j["last_duration_s"] is not None:
                last += f" in {j['last_duration_s']:.1f} s"
            if counts:
                last += f" [{counts}]"
            if j["last_error"]:
                last += f" {'reason' if j['last_status'] in QUIET_STATUSES else 'error'}: {j['last_error']}"
        lines.append(f"  {j['id']:<24} next {nxt}")
        lines.append(f"  {'':<24} {j['name']}; last: {last}")
    for job_id in data["orphaned_jobs"]:
        lines.append(f"  {job_id:<24} stored but no longer configured (removed at the next sync)")
    lines.append("")
    lines.append("shops:")
    if not data["shops"]:
        lines.append("  (no shops configured)")
    for s in data["shops"]:
        if s["last_crawl"] is None:
            lines.append(f"  {s['shop']:<24} never crawled")
            continue
        extra = f" ({s['failure_kind']})" if s["failure_kind"] else ""
        lines.append(
            f"  {s['shop']:<24} last crawl {_when(s['last_crawl'], now)}: {s['status']}{extra}, new reviews {s['reviews_new']}"
        )
    lines += ["", _render_alerts(data["alerts"])]
    return "\n".join(lines)


def _render_alerts(a: dict[str, Any]) -> str:
    line = f"alerts: {a['pending']} queued ({a['retrying']} retrying), {a['sending']} sending, {a['failed']} failed"
    if a["failed"]:
        line += " - FAILED for good; fix the cause, then `shopmon alerts retry --failed`"
    if a["stuck_sending"]:
        line += f"; {a['stuck_sending']} left in sending by a stopped sender (taken back by the next send)"
    if (a["failed"] or a["retrying"]) and a["last_error"]:
        line += f"\n  last error: {_first_line(a['last_error'])}"
    return line
