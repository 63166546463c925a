"""What a worker does with one message from the queue.

A scheduled job's message names the JobRun the scheduler claimed for its occurrence. The
worker takes that row (``runs.take``): a row that has already ended, or that a live worker is
running, is not run again, so a job delivered twice (a worker presumed dead, a retry) still
has its result recorded once. A crawl takes its shop's ``crawl:<shop>`` lease (the one lock
across processes and machines, ``monitor.scheduler.lease``) in this process: while another
process holds it (``Busy``) the row goes back to 'queued' and the message is retried once the
lease could have run out; it is not recorded as a failed run.

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
from monitor import child_process
from monitor.scheduler import health, runner, runs, tasks
from monitor.scheduler.lease import Busy, exclusive
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


def retry_delay_ms(busy: Busy) -> int:
    """Milliseconds until the lease that made ``busy`` can have run out (its holder renews it while
    it works, so a retry may find it held again and wait once more)."""
    if busy.holder is None:
        return MIN_RETRY_MS
    return max(MIN_RETRY_MS, int((busy.holder.expires_at - utcnow()).total_seconds() * 1000))


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
                    _run(settings, PROCESS_TASK, lambda: tasks.process(settings))
        except Busy:
            raise dramatiq.Retry("another worker is processing", delay=PROCESS_RETRY_MS) from None
        return
    name = job_id or task
    if run_id is not None and not runs.take(settings, run_id, worker_id,
                                            unless_alive=lambda holder: registry.alive(queue, holder)):
        log.info("job %s (run %s) has ended or is running on a live worker; not run again", name, run_id)
        return
    call = (lambda: tasks.crawl_queued(settings, **params)) if task == "crawl" else (
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
    except Busy as busy:
        # Not a failure: the shop is being crawled elsewhere. The lease is taken, not looked at
        # first, so two workers given the same shop cannot both decide it is free.
        if run_id is not None:
            runs.release(settings, run_id, worker_id)
        delay = retry_delay_ms(busy)
        log.info("job %s waits %.0f s: %s", name, delay / 1000, busy)
        raise dramatiq.Retry(f"{name}: {busy}", delay=delay) from None
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
