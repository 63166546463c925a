"""``shopmon worker``: a Dramatiq worker in this process running jobs from the queue.

Each job runs in one of ``workers.threads`` threads; a crawl's spider or a command still runs in
its own subprocess with its time limit (``monitor.scheduler.tasks``), so a thread mostly waits.
Crawl subprocesses are forked from a zygote that preloaded the spiders (``zygote.start_zygote``). A
heartbeat thread keeps this worker in the list ``shopmon status`` shows; every Redis command
it sends also renews the worker's heartbeat in the broker, so a worker whose threads are all
busy for hours is never taken for dead. A worker that stops heartbeating (kill -9, machine
gone) has its jobs put back on the queue ``workers.lease_seconds`` later by the other workers.

SIGTERM/SIGINT: take no new job, let running ones finish for ``scheduler.stop_timeout_seconds``,
then kill their subprocesses; a job killed that way goes back on the queue.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq

from monitor.config import Settings
from monitor import child_process, zygote
from monitor.crawl import SPIDER_PRELOAD
from monitor.workers import jobs, registry
from monitor.workers.queue import open_queue

log = logging.getLogger("shopmon.scheduler")
# How long an idle worker waits between looks at the queue (Dramatiq backs off up to this).
POLL_MS = 250
AFTER_KILL_WAIT = 10.0


class WorkerService:
    def __init__(self, settings: Settings, *, threads: int | None = None, stop_timeout: float | None = None) -> None:
        self.settings = settings
        self.threads = threads or settings.workers.threads
        self.stop_timeout = stop_timeout if stop_timeout is not None else settings.scheduler.stop_timeout_seconds
        self.worker_id = registry.new_worker_id()
        self.queue = open_queue(settings, handler=self._handle)
        self.stop_event = threading.Event()
        self.started = time.time()
        self._running: dict[int, str] = {}
        self._lock = threading.Lock()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop("SIGTERM"))
        signal.signal(signal.SIGINT, lambda *_: self.request_stop("SIGINT"))

    def request_stop(self, why: str) -> None:
        if not self.stop_event.is_set():
            log.info("worker %s: %s, stopping after the running jobs (at most %.0f s)", self.worker_id, why,
                     self.stop_timeout)
        self.stop_event.set()

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._running.values())

    @contextmanager
    def _job(self, name: str) -> Iterator[None]:
        ident = threading.get_ident()
        with self._lock:
            self._running[ident] = name
        self._beat()  # status shows the job as soon as it starts
        try:
            yield
        finally:
            with self._lock:
                self._running.pop(ident, None)
            self._beat()

    def _handle(self, task: str, params: dict[str, Any], run_id: int | None, job_id: str | None,
                scheduled_for: str | None) -> None:
        jobs.handle(self.queue, self.worker_id, self._job, task, params, run_id, job_id, scheduled_for)

    def _beat(self) -> None:
        try:
            registry.beat(self.queue, self.worker_id, threads=self.threads, started=self.started, running=self.running())
        except Exception as exc:  # noqa: BLE001  (Redis hiccup: the next beat tries again)
            log.warning("worker %s: heartbeat not recorded: %s", self.worker_id, exc)

    def run(self) -> int:
        swept = child_process.sweep_job_dirs(self.settings)  # folders of a worker killed on this machine
        if swept:
            log.info("removed %d job folder(s) left by stopped processes", swept)
        # Crawl children are forked from a process that has imported Scrapy and the spiders once:
        # each crawl then skips a Python start and about a second of imports (docs/scaling.md).
        zygote.start_zygote(SPIDER_PRELOAD)
        worker = dramatiq.Worker(self.queue.broker, worker_threads=self.threads, worker_timeout=POLL_MS)
        # Take only as many jobs as can start now; the rest stay on the queue for other workers.
        worker.queue_prefetch = self.threads
        self._beat()
        worker.start()
        log.info("worker %s started: %d thread(s), queue %s", self.worker_id, self.threads, self.queue.namespace)
        beat_every = self.settings.workers.lease_seconds / 4
        try:
            while not self.stop_event.wait(beat_every):
                self._beat()
        finally:
            self._stop(worker)
        return 0

    def _stop(self, worker: dramatiq.Worker) -> None:
        # Past the stop timeout the running jobs' subprocesses are killed; their threads then
        # put the jobs back on the queue and return, which lets worker.stop() finish.
        killer = threading.Timer(self.stop_timeout, self._kill_children)
        killer.daemon = True
        killer.start()
        try:
            worker.stop(timeout=int((self.stop_timeout + AFTER_KILL_WAIT) * 1000))
        finally:
            killer.cancel()
            try:
                registry.leave(self.queue, self.worker_id)
            except Exception:  # noqa: BLE001  (the entry expires on its own)
                pass
            self.queue.close()
            log.info("worker %s stopped", self.worker_id)

    def _kill_children(self) -> None:
        killed = child_process.kill_all()
        if killed:
            log.warning("worker %s: stop timeout reached, killed %d job subprocess(es)", self.worker_id, killed)
