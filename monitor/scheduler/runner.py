"""Running one job occurrence: claim it, fence on the lease, run, record, log one line.

The daemon's executor and ``--once`` both go through :func:`execute`, so both claim each
occurrence in the database and leave the same JobRun trail.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor

from monitor.config import Settings
from monitor.errors import HeldElsewhere, ShopmonError
from monitor import child_process
from monitor.scheduler import runs
from monitor.scheduler.lease import Lease
from monitor.scheduler.tasks import TASKS

log = logging.getLogger("shopmon.scheduler")
# How a run ended without anything for a person to fix: logged at INFO, never alerted.
QUIET_STATUSES = ("ok", "skipped")


class JobQueue(Protocol):
    """Where due jobs go when they run on workers (``monitor.workers.queue.JobQueue``)."""

    def takes(self, task: str) -> bool: ...

    def enqueue(self, task: str, params: dict[str, Any], *, run_id: int | None = None, job_id: str | None = None,
                scheduled_for: datetime | None = None) -> str: ...


@dataclass
class Runtime:
    """What a job needs that cannot be pickled into the job store (settings hold secrets)."""

    settings: Settings
    holder: str
    lease: Lease | None = None
    queue: JobQueue | None = None  # set: crawls and commands are queued for workers, not run here


_runtime: Runtime | None = None


def configure(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the scheduler runtime is not configured (run through shopmon schedule)")
    return _runtime


def run_task(task: str, **params: Any) -> dict[str, Any]:
    """The function every stored job points at: look the task up by name and run it."""
    return TASKS[task](current().settings, **params) or {}


def status_for(exc: BaseException) -> str:
    if isinstance(exc, child_process.JobTimeout):
        return "timeout"
    if isinstance(exc, child_process.JobInterrupted):
        return "interrupted"
    return "failed"


def describe(exc: BaseException) -> str:
    # Expected failures read as one line; anything else keeps its traceback for the record.
    if isinstance(exc, (ShopmonError, child_process.JobTimeout, child_process.JobInterrupted, child_process.ChildFailed)):
        return str(exc)
    return "".join(traceback.format_exception(exc)).strip()


def execute(job, run_times: list[datetime], *, now: datetime | None = None) -> list[JobExecutionEvent]:  # noqa: ANN001
    """Run the due occurrences of ``job``; return the APScheduler events describing what happened."""
    rt = current()
    events: list[JobExecutionEvent] = []
    task = job.args[0] if job.args else "?"
    alias = getattr(job, "_jobstore_alias", "default")
    for run_time in run_times:
        at = now or datetime.now(UTC)
        late = (at - run_time).total_seconds()
        if job.misfire_grace_time is not None and late > job.misfire_grace_time:
            runs.record_missed(rt.settings, job.id, task, run_time, rt.holder, late)
            log.warning("job %s missed (%.0f s late)", job.id, late, extra={"job": job.id, "status": "missed"})
            events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
            continue
        if rt.lease is not None and not rt.lease.held():
            log.warning("job %s not run: this scheduler's lease ran out", job.id, extra={"job": job.id, "status": "fenced"})
            continue
        queued = rt.queue is not None and rt.queue.takes(task)
        run_id = runs.claim(rt.settings, job.id, task, run_time, rt.holder, status="queued" if queued else "running")
        if run_id is None:
            log.info("job %s at %s already claimed by another scheduler", job.id, run_time.isoformat())
            continue
        if queued:
            events.append(_enqueue(rt, job, task, run_id, run_time, alias))
            continue
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            counts = job.func(*job.args, **job.kwargs) or {}
        except HeldElsewhere as exc:
            # The shop is being crawled elsewhere (a worker, `shopmon crawl`): nothing was done and
            # nothing failed, so no job-error event (no crawl-health alert); the next occurrence runs.
            runs.finish(rt.settings, run_id, "skipped", started_at=started, error=str(exc))
            log_run(job.id, task, run_time, "skipped", time.monotonic() - clock, {}, error=str(exc))
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time,
                                            retval={"skipped": exc.held_by}))
        except BaseException as exc:  # noqa: BLE001  (recorded, then reported to the listener)
            status = status_for(exc)
            runs.finish(rt.settings, run_id, status, started_at=started, error=describe(exc))
            log_run(job.id, task, run_time, status, time.monotonic() - clock, {}, error=str(exc) or type(exc).__name__)
            events.append(
                JobExecutionEvent(
                    EVENT_JOB_ERROR,
                    job.id,
                    alias,
                    run_time,
                    exception=exc,
                    traceback="".join(traceback.format_tb(exc.__traceback__)),
                )
            )
            if not isinstance(exc, Exception):
                raise
        else:
            runs.finish(rt.settings, run_id, "ok", started_at=started, counts=jsonable(counts))
            log_run(job.id, task, run_time, "ok", time.monotonic() - clock, counts)
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time, retval=counts))
    return events


def _enqueue(rt: Runtime, job, task: str, run_id: int, run_time: datetime, alias: str) -> JobExecutionEvent:  # noqa: ANN001
    """Hand the claimed occurrence (its JobRun row inserted as 'queued') to the workers."""
    started = datetime.now(UTC)
    try:
        rt.queue.enqueue(task, dict(job.kwargs), run_id=run_id, job_id=job.id, scheduled_for=run_time)
    except Exception as exc:  # noqa: BLE001  (Redis down: recorded and alerted like any failed job)
        runs.finish(rt.settings, run_id, "failed", started_at=started, error=f"could not queue the job: {describe(exc)}")
        log_run(job.id, task, run_time, "failed", 0.0, {}, error=f"could not queue the job: {exc}")
        return JobExecutionEvent(EVENT_JOB_ERROR, job.id, alias, run_time, exception=exc, traceback="")
    log.info("job %s queued for the workers (run %s)", job.id, run_id,
             extra={"job": job.id, "task": task, "scheduled_for": run_time.isoformat(), "status": "queued"})
    return JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time, retval={"queued": run_id})


def jsonable(counts: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v if isinstance(v, (int, float, str, bool, type(None))) else str(v) for k, v in counts.items()}


def log_run(
    job_id: str, task: str, run_time: datetime, status: str, duration: float, counts: dict[str, Any], error: str | None = None
) -> None:
    """The one line per job run: what, when it was due, how it ended, how long, what it counted."""
    first = (error or "").strip().splitlines()[0][:300] if error else None
    shown = " ".join(f"{k}={v}" for k, v in counts.items())
    quiet = status in QUIET_STATUSES
    label = "reason" if quiet else "error"
    message = f"job {job_id} {status} in {duration:.2f} s" + (f" {shown}" if shown else "") + (f" {label}={first}" if first else "")
    log.log(
        logging.INFO if quiet else logging.ERROR,
        message,
        extra={
            "job": job_id,
            "task": task,
            "scheduled_for": run_time.isoformat(),
            "status": status,
            "duration_s": round(duration, 3),
            "counts": jsonable(counts),
            "error": first,
        },
    )


class ClaimingExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, running each occurrence through :func:`execute`."""

    def _do_submit_job(self, job, run_times):  # noqa: ANN001, ANN202
        def done(future: concurrent.futures.Future) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(execute, job, run_times).add_done_callback(done)

    def busy(self) -> bool:
        with self._lock:
            return any(self._instances.values())
