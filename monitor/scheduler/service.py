"""The scheduler daemon (``shopmon schedule``) and the one-shot ``--once`` run.

One process is active at a time per database (the lease); others stand by and poll the
lease. The active one runs APScheduler with a SQLAlchemy job store in the same database,
so next run times survive restarts and a takeover.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy.exc import SQLAlchemyError

from monitor.config import Settings
from monitor.crawl import reap_stale_runs
from monitor.db import get_engine
from monitor.errors import ShopmonError, StorageError
from monitor import child_process
from monitor.scheduler import health, runner, runs
from monitor.scheduler.lease import Lease
from monitor.scheduler.plan import plan_jobs, scheduler_timezone, sync_jobs

log = logging.getLogger("shopmon.scheduler")
JOBSTORE_TABLE = "apscheduler_jobs"
EXIT_CLEAN, EXIT_FORCED = 0, 3
EVENT_NAMES = {EVENT_JOB_EXECUTED: "ok", EVENT_JOB_ERROR: "error", EVENT_JOB_MISSED: "missed"}
# After killing subprocesses, in-thread jobs get this long before the stop is forced.
AFTER_KILL_WAIT = 10.0
MAINTENANCE_WORKERS = 2


class _Scheduler(BackgroundScheduler):
    """APScheduler 3's background loop runs one more round after shutdown; skip it.

    Without this, a stopping scheduler (or --once, which never resumes) would try to submit
    due jobs to an executor that is already shut down.
    """

    def _process_jobs(self):  # noqa: ANN202
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


def make_scheduler(settings: Settings) -> BackgroundScheduler:
    store = SQLAlchemyJobStore(engine=get_engine(settings), tablename=JOBSTORE_TABLE)
    scheduler = _Scheduler(
        jobstores={"default": store},
        # Crawls and commands get their own pool, so long crawls never hold up alert delivery.
        executors={
            "default": runner.ClaimingExecutor(MAINTENANCE_WORKERS),
            "crawl": runner.ClaimingExecutor(settings.scheduler.max_workers),
        },
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=scheduler_timezone(settings),
    )
    scheduler.add_listener(health.on_job_error, EVENT_JOB_ERROR)
    return scheduler


def run_once(settings: Settings, *, now: datetime | None = None, holder: str | None = None,
             queue: runner.JobQueue | None = None) -> list[dict[str, Any]]:
    """Run every due job once (oldest due first) and return what ran. For cron users and tests.

    With ``queue`` crawls and commands are put on the job queue for workers instead."""
    now = now or datetime.now(UTC)
    lease = Lease(settings, settings.scheduler.lease_seconds, holder)
    if not lease.acquire():  # the lease is about real processes, so it runs on the real clock
        info = lease.current()
        who = f"{info.holder} (lease until {info.expires_at:%Y-%m-%d %H:%M:%S} UTC)" if info else "another scheduler"
        raise StorageError(f"scheduler {who} is active on this database; --once would compete with it")
    done: list[dict[str, Any]] = []
    try:
        with lease.kept():  # jobs can outlast the lease; a standby must not take over meanwhile
            _run_due(settings, lease, now, done, queue)
    finally:
        lease.release()
    return done


def _run_due(settings: Settings, lease: Lease, now: datetime, done: list[dict[str, Any]],
             queue: runner.JobQueue | None) -> None:
    runner.configure(runner.Runtime(settings, lease.holder, lease, queue))
    scheduler = make_scheduler(settings)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, plan_jobs(settings, now), now)
        store = scheduler._lookup_jobstore("default")
        due = sorted(store.get_due_jobs(now), key=lambda j: (j.next_run_time, j.id))
        for job in due:
            run_times = job._get_run_times(now)[-1:]  # coalesce: one run however late
            if not run_times:
                continue
            for event in runner.execute(job, run_times, now=now):
                scheduler._dispatch_event(event)
                done.append(
                    {
                        "job": event.job_id,
                        "scheduled_for": event.scheduled_run_time,
                        "event": _outcome(event, "queued") or _outcome(event, "skipped")
                        or EVENT_NAMES.get(event.code, str(event.code)),
                    }
                )
            next_run = job.trigger.get_next_fire_time(run_times[-1], now)
            if next_run is None:
                scheduler.remove_job(job.id)
            else:
                scheduler.modify_job(job.id, next_run_time=next_run)
    finally:
        scheduler.shutdown(wait=False)


def _outcome(event, name: str) -> str | None:  # noqa: ANN001
    """``name`` when an executed event's result says the job was queued or skipped, not run here."""
    retval = getattr(event, "retval", None)
    return name if isinstance(retval, dict) and name in retval else None


class Daemon:
    """The long-running scheduler: standby until it holds the lease, then active until told to stop."""

    def __init__(
        self,
        settings: Settings,
        *,
        reload: Callable[[], Settings] | None = None,
        lease_seconds: float | None = None,
        stop_timeout: float | None = None,
        holder: str | None = None,
        queue: runner.JobQueue | None = None,
    ) -> None:
        self.reload = reload
        self.queue = queue
        self.settings = settings
        cfg = self.settings.scheduler
        self.lease = Lease(self.settings, lease_seconds or cfg.lease_seconds, holder)
        self.stop_timeout = stop_timeout if stop_timeout is not None else cfg.stop_timeout_seconds
        self.stop_event = threading.Event()
        self.reload_event = threading.Event()
        self.forced = False

    # Signals -----------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop("SIGTERM"))
        signal.signal(signal.SIGINT, lambda *_: self.request_stop("SIGINT"))
        signal.signal(signal.SIGHUP, lambda *_: self.reload_event.set())

    def request_stop(self, why: str = "stop requested") -> None:
        if not self.stop_event.is_set():
            log.info("scheduler %s: %s, stopping after the running jobs (at most %.0f s)", self.lease.holder, why, self.stop_timeout)
        self.stop_event.set()

    # Main loop ---------------------------------------------------------------------
    def run(self) -> int:
        heartbeat = self.lease.seconds / 3
        # A standby polls often so a takeover comes soon after the lease runs out.
        poll = max(0.2, self.lease.seconds / 10)
        log.info("scheduler %s started (lease %.1f s)", self.lease.holder, self.lease.seconds)
        last_seen_holder: str | None = None
        try:
            while not self.stop_event.is_set():
                self._maybe_reload()
                if self.lease.acquire():
                    try:
                        self._lead(heartbeat)
                    except (SQLAlchemyError, ShopmonError) as exc:
                        # Hand over rather than hold a lease while unable to act on it.
                        log.error("scheduler %s cannot run jobs (%s); handing over", self.lease.holder, exc)
                        self.lease.release()
                        self.stop_event.wait(heartbeat)
                    continue
                info = self._current_lease()
                if info is not None and info.holder != last_seen_holder:
                    last_seen_holder = info.holder
                    log.info("scheduler %s standing by: %s is active", self.lease.holder, info.holder)
                self.stop_event.wait(poll)
        finally:
            if self.lease.held():
                self.lease.release()
            log.info("scheduler %s stopped", self.lease.holder)
        return EXIT_FORCED if self.forced else EXIT_CLEAN

    def _current_lease(self):  # noqa: ANN202
        try:
            return self.lease.current()
        except Exception:  # noqa: BLE001  (a standby keeps polling through database hiccups)
            return None

    def _maybe_reload(self) -> bool:
        if not self.reload_event.is_set():
            return False
        self.reload_event.clear()
        if self.reload is None:
            log.warning("SIGHUP ignored: this scheduler was started without a configuration to reload")
            return False
        try:
            new = self.reload()
        except ShopmonError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            return False
        self.settings = new
        log.info("configuration reloaded")
        return True

    def _lead(self, heartbeat: float) -> None:
        settings = self.settings
        log.info("scheduler %s is active", self.lease.holder)
        abandoned = runs.abandon_stale(settings, self.lease.holder)
        if abandoned:
            log.warning("%d job run(s) left running by a stopped scheduler marked interrupted", abandoned)
        reap_stale_runs(settings)  # crawls whose process died with a previous scheduler
        child_process.sweep_job_dirs(settings)  # and the job folders it could not remove
        runner.configure(runner.Runtime(settings, self.lease.holder, self.lease, self.queue))
        scheduler = make_scheduler(settings)
        scheduler.start(paused=True)
        try:
            self._sync(scheduler)
            scheduler.resume()
            while not self.stop_event.wait(heartbeat):
                if self._maybe_reload():
                    runner.configure(runner.Runtime(self.settings, self.lease.holder, self.lease, self.queue))
                    self._sync(scheduler)
                if not self.lease.acquire() and not self.lease.held():
                    log.error("scheduler %s lost its lease; stepping down to standby", self.lease.holder)
                    break
        finally:
            self._stop_scheduler(scheduler)

    def _sync(self, scheduler: BackgroundScheduler) -> None:
        try:
            now = datetime.now(UTC)  # one instant for both, or "start now" slips by one interval
            result = sync_jobs(scheduler, plan_jobs(self.settings, now), now)
        except ShopmonError as exc:
            log.error("job plan not applied, keeping the stored jobs: %s", exc)
            return
        changes = {k: v for k, v in result.as_dict().items() if v and k != "kept"}
        log.info("jobs in sync: %s", changes or "no changes")

    def _stop_scheduler(self, scheduler: BackgroundScheduler) -> None:
        scheduler.pause()  # nothing new starts; running jobs finish
        # Keep the lease while they do: a standby that took over now would start the same
        # crawls and overwrite the job state of ours. Released by run() once this returns.
        if self.lease.held():
            with self.lease.kept():
                self._wait_for_jobs(scheduler)
        else:
            self._wait_for_jobs(scheduler)
        scheduler.shutdown(wait=False)

    def _wait_for_jobs(self, scheduler: BackgroundScheduler) -> None:
        executors = [scheduler._lookup_executor(alias) for alias in ("default", "crawl")]

        def busy() -> bool:
            return any(e.busy() for e in executors)

        deadline = time.monotonic() + self.stop_timeout
        while busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        if busy():
            killed = child_process.kill_all()
            log.warning("stop timeout reached: killed %d job subprocess(es)", killed)
            deadline = time.monotonic() + AFTER_KILL_WAIT
            while busy() and time.monotonic() < deadline:
                time.sleep(0.05)
            if busy():
                self.forced = True
                log.error("a job is still running after the stop timeout; exiting without it")
