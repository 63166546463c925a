"""JobRun rows: claiming an occurrence, recording how it ended, and reading the history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.base import utcnow
from models.crawl import CrawlRun
from models.scheduler import JobRun
from monitor.config import Settings
from monitor.db import get_engine

TABLE = JobRun.__table__
ERROR_LIMIT = 4000
# Holder ids of queue workers start with this (``monitor.workers``); schedulers' do not.
WORKER_HOLDER_PREFIX = "worker:"


def claim(settings: Settings, job_id: str, task: str, scheduled_for: datetime, holder: str, *,
          status: str = "running") -> int | None:
    """Insert the row for one occurrence; None if another scheduler already has it.

    ``status="queued"``: the occurrence goes on the job queue, and a worker takes it from there
    (written in the same insert, so a worker never sees the row say 'running' for the scheduler)."""
    try:
        with get_engine(settings).begin() as conn:
            result = conn.execute(
                TABLE.insert().values(
                    job_id=job_id,
                    task=task,
                    scheduled_for=scheduled_for.astimezone(UTC),
                    holder=holder,
                    status=status,
                    started_at=utcnow(),
                    counts={},
                )
            )
            return int(result.inserted_primary_key[0])
    except IntegrityError:
        return None


def _end(status: str, started_at: datetime, counts: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """The columns an ended occurrence gets, whoever ends it."""
    finished = utcnow()
    return {"status": status, "finished_at": finished,
            "duration_s": round((finished - started_at).total_seconds(), 3),
            "counts": counts or {}, "error": (error or None) and error[:ERROR_LIMIT]}


def finish(
    settings: Settings,
    run_id: int,
    status: str,
    *,
    started_at: datetime,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
) -> float:
    values = _end(status, started_at, counts, error)
    with get_engine(settings).begin() as conn:
        conn.execute(update(TABLE).where(TABLE.c.id == run_id).values(**values))
    return values["duration_s"]


def take(settings: Settings, run_id: int, holder: str, *, unless_alive=lambda holder: False) -> bool:  # noqa: ANN001
    """A worker takes a queued occurrence, or one whose worker is gone (``unless_alive`` says
    no for its holder). False when it has already ended or a live worker runs it: the job is
    then not run again, so its result is recorded once."""
    with get_engine(settings).begin() as conn:
        row = conn.execute(select(TABLE.c.status, TABLE.c.holder).where(TABLE.c.id == run_id)).first()
        if row is None or row.status not in ("queued", "running"):
            return False
        if row.status == "running" and row.holder != holder and unless_alive(row.holder):
            return False
        result = conn.execute(
            update(TABLE)
            .where(TABLE.c.id == run_id, TABLE.c.status == row.status, TABLE.c.holder == row.holder)
            .values(status="running", holder=holder, started_at=utcnow())
        )
        return result.rowcount == 1


def finish_taken(settings: Settings, run_id: int, holder: str, status: str, *, started_at: datetime,
                 counts: dict[str, Any] | None = None, error: str | None = None) -> bool:
    """``finish`` for a worker: only while the row is still ours and running (recorded once)."""
    with get_engine(settings).begin() as conn:
        result = conn.execute(
            update(TABLE)
            .where(TABLE.c.id == run_id, TABLE.c.holder == holder, TABLE.c.status == "running")
            .values(**_end(status, started_at, counts, error))
        )
        return result.rowcount == 1


def release(settings: Settings, run_id: int, holder: str) -> None:
    """Back to 'queued' (the job waits for its shop's crawl lock and will be retried)."""
    with get_engine(settings).begin() as conn:
        conn.execute(update(TABLE).where(TABLE.c.id == run_id, TABLE.c.holder == holder, TABLE.c.status == "running")
                     .values(status="queued"))


def record_missed(settings: Settings, job_id: str, task: str, scheduled_for: datetime, holder: str, late_s: float) -> None:
    """A run skipped because it was later than its grace time still leaves a trace."""
    now = utcnow()
    try:
        with get_engine(settings).begin() as conn:
            conn.execute(
                TABLE.insert().values(
                    job_id=job_id,
                    task=task,
                    scheduled_for=scheduled_for.astimezone(UTC),
                    holder=holder,
                    status="missed",
                    started_at=now,
                    finished_at=now,
                    duration_s=0.0,
                    counts={},
                    error=f"skipped: {late_s:.0f} s late, beyond the job's misfire grace time",
                )
            )
    except IntegrityError:
        pass  # someone else ran or recorded that occurrence


def abandon_stale(settings: Settings, holder: str) -> int:
    """Runs left 'running' by a scheduler that died (its lease expired): mark them interrupted.

    Runs held by queue workers are left alone: a dead worker's job goes back on the queue and
    the worker that takes it records the result on the same row (``take``)."""
    with get_engine(settings).begin() as conn:
        result = conn.execute(
            update(TABLE)
            .where(TABLE.c.status == "running", TABLE.c.holder != holder,
                   TABLE.c.holder.not_like(WORKER_HOLDER_PREFIX + "%"))
            .values(
                status="interrupted",
                finished_at=utcnow(),
                error="the scheduler running this job stopped before it finished (lease expired)",
            )
        )
        return result.rowcount or 0


def last_runs(settings: Settings) -> dict[str, dict[str, Any]]:
    """The latest run of every job id, newest occurrence first."""
    latest = (
        select(TABLE.c.job_id, func.max(TABLE.c.id).label("id")).group_by(TABLE.c.job_id).subquery()
    )
    with get_engine(settings).connect() as conn:
        rows = conn.execute(select(TABLE).join(latest, TABLE.c.id == latest.c.id)).mappings().all()
    return {r["job_id"]: dict(r) for r in rows}


def history(settings: Settings, *, job_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    query = select(TABLE).order_by(TABLE.c.id.desc()).limit(limit)
    if job_id is not None:
        query = query.where(TABLE.c.job_id == job_id)
    with get_engine(settings).connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


def last_crawls(settings: Settings) -> dict[str, dict[str, Any]]:
    """The latest CrawlRun per configured shop id."""
    table = CrawlRun.__table__
    latest = (
        select(table.c.shop_config_id, func.max(table.c.id).label("id"))
        .where(table.c.shop_config_id.is_not(None))
        .group_by(table.c.shop_config_id)
        .subquery()
    )
    with get_engine(settings).connect() as conn:
        rows = conn.execute(select(table).join(latest, table.c.id == latest.c.id)).mappings().all()
    return {r["shop_config_id"]: dict(r) for r in rows}


def close_crawl(settings: Settings, shop_id: str, spider: str, started_at: datetime, kind: str, reason: str) -> int:
    """A crawl whose child was killed or crashed: close its open CrawlRun rows, or write one if it never got that far."""
    table = CrawlRun.__table__
    now = utcnow()
    with get_engine(settings).begin() as conn:
        result = conn.execute(
            update(table)
            .where(
                table.c.shop_config_id == shop_id,
                table.c.status == "running",
                table.c.started_at >= started_at,
            )
            .values(status="failed", failure_kind=kind, error=reason, finished_at=now)
        )
        if result.rowcount:
            return int(result.rowcount)
    with Session(get_engine(settings)) as session:
        session.add(
            CrawlRun(
                shop_config_id=shop_id,
                spider=spider,
                status="failed",
                failure_kind=kind,
                error=reason,
                started_at=started_at,
                finished_at=now,
            )
        )
        session.commit()
    return 1
