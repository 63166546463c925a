"""What a worker does with one message from the queue.

A scheduled job's message names the JobRun the scheduler claimed for its occurrence. The
worker takes that row (``runs.take``): a row that has already ended, or that a live worker is
running, is not run again, so a job delivered twice (a worker presumed dead, a retry) still
has its result recorded once. A crawl waits for its shop's ``crawl:<shop>`` lease (the one
lock across processes and machines, ``monitor.scheduler.lease``): while another process holds
it the message is retried once the lease could have run out.

After a crawl the post-crawl processing goes on the queue as its own job, at most one waiting
at a time, and one running at a time across all workers (the ``process`` lease, the same
mechanism as the crawl lock): the pipeline works from the outbox of what changed, so one run
after several crawls handles all of them, and N workers do not spend N x the CPU running
pipelines over the same outbox rows (which would be safe, only wasted).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dramatiq

from models.base import utcnow
from monitor.config import Settings
from monitor.crawl import crawl_lock_name
from monitor.db import get_engine
from monitor import child_process
from monitor.scheduler import health, runner, runs, tasks
from monitor.scheduler.lease import Busy, current_lease, exclusive
from monitor.workers import registry
from monitor.workers.queue import JobQueue

log = logging.getLogger("shopmon.scheduler")
PROCESS_TASK = "process"
PROCESS_PENDING = "process:pending"
# A pending-processing marker outlives a lost process job by at most this long.
PROCESS_PENDING_TTL = 3600
MIN_RETRY_MS = 1000
PROCESS_LOCK = "process"
# Renewed every third of this while the pipeline runs; a dead worker's lock frees this long later.
PROCESS_LOCK_SECONDS = 60.0
PROCESS_RETRY_MS = 5000


def request_processing(queue: JobQueue) -> bool:
    """Queue one post-crawl processing job unless one is already waiting; True when queued."""
    if not queue.broker.client.set(queue.key(PROCESS_PENDING), "1", nx=True, ex=PROCESS_PENDING_TTL):
        return False
    queue.enqueue(PROCESS_TASK, {})
    return True


def crawl_lock_wait(settings: Settings, shop_id: str) -> float | None:
    """Seconds until the shop's crawl lease can have run out, or None when it is free now."""
    info = current_lease(get_engine(settings), crawl_lock_name(shop_id))
    if info is None or not info.active():
        return None
    return max(0.0, (info.expires_at - utcnow()).total_seconds())


def handle(queue: JobQueue, worker_id: str, running: Callable[[str], Any], task: str, params: dict[str, Any],
           run_id: int | None, job_id: str | None, scheduled_for: str | None) -> None:
    """Run one message. Raises ``dramatiq.Retry`` only for "not now"; failures are recorded, not raised."""
    settings = queue.settings
    if task == PROCESS_TASK:
        try:
            with exclusive(settings, PROCESS_LOCK, PROCESS_LOCK_SECONDS):
                # Only now: crawls ending while another pipeline ran still have this job to follow them.
                queue.broker.client.delete(queue.key(PROCESS_PENDING))
                with running(PROCESS_TASK):
                    _run(settings, PROCESS_TASK, lambda: tasks.hook("process")(settings))
        except Busy:
            raise dramatiq.Retry("another worker is processing", delay=PROCESS_RETRY_MS) from None
        return
    name = job_id or task
    if run_id is not None and not runs.take(settings, run_id, worker_id,
                                            unless_alive=lambda holder: registry.alive(queue, holder)):
        log.info("job %s (run %s) has ended or is running on a live worker; not run again", name, run_id)
        return
    if task == "crawl":
        wait = crawl_lock_wait(settings, params["shop_id"])
        if wait is not None:
            if run_id is not None:
                runs.release(settings, run_id, worker_id)
            log.info("job %s waits: the shop is being crawled elsewhere (lease runs out in %.0f s)", name, wait)
            raise dramatiq.Retry(f"{crawl_lock_name(params['shop_id'])} is held", delay=max(MIN_RETRY_MS, int(wait * 1000)))
    call = (lambda: tasks.crawl(settings, process=False, **params)) if task == "crawl" else (
        lambda: tasks.TASKS[task](settings, **params))
    when = datetime.fromisoformat(scheduled_for) if scheduled_for else utcnow()
    with running(name):
        ok = _run(settings, name, call, run_id=run_id, worker_id=worker_id, scheduled_for=when)
    if ok and task == "crawl":
        request_processing(queue)


def _run(settings: Settings, name: str, call: Callable[[], dict[str, Any]], *, run_id: int | None = None,
         worker_id: str | None = None, scheduled_for: datetime | None = None) -> bool:
    started, clock = datetime.now(UTC), time.monotonic()
    task = name.split(":", 1)[0]
    when = scheduled_for or started
    try:
        counts = call() or {}
    except child_process.JobInterrupted:
        # This worker is stopping and killed the job: it goes back on the queue for another.
        if run_id is not None:
            runs.release(settings, run_id, worker_id)
        raise dramatiq.Retry(f"{name} interrupted by a stopping worker", delay=MIN_RETRY_MS) from None
    except Exception as exc:  # noqa: BLE001  (recorded and alerted, like the embedded scheduler does)
        status = runner.status_for(exc)
        recorded = run_id is None or runs.finish_taken(settings, run_id, worker_id, status, started_at=started,
                                                       error=runner.describe(exc))
        runner.log_run(name, task, when, status, time.monotonic() - clock, {}, error=str(exc) or type(exc).__name__)
        if recorded and run_id is not None:
            try:
                health.raise_job_alert(settings, name, when, exc)
            except Exception as alert_exc:  # noqa: BLE001  (the worker keeps going)
                log.error("could not record the crawl-health alert for job %s: %s", name, alert_exc)
        return False
    counts = runner.jsonable(counts)
    if run_id is not None and not runs.finish_taken(settings, run_id, worker_id, "ok", started_at=started, counts=counts):
        log.warning("job %s (run %s) finished, but another worker had taken it over; its result stands", name, run_id)
    runner.log_run(name, task, when, "ok", time.monotonic() - clock, counts)
    return True
