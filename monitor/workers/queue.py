"""The job queue: a Dramatiq Redis broker under ``workers.namespace``, one actor, one queue.

Why Dramatiq (docs/scaling.md, "Choosing the queue", ``benchmarks/queue_choice.py``): a job
whose worker is killed -9 is put back on the queue by the other workers once the dead one's
heartbeat is ``lease_seconds`` old, while a job still running on a live worker is never handed
out twice however long it runs (Celery's Redis transport re-delivers by a visibility timeout,
which would have to outlast the longest crawl; RQ did not re-run the killed job within 120 s).
Its enqueue -> start latency (a poll of at most 250 ms) is immaterial next to crawls of minutes.

A message carries the JobRun id the scheduler claimed for the occurrence, so whichever worker
runs it records the result on that one row (``monitor.workers.jobs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.middleware import Callbacks, Pipelines, Retries, ShutdownNotifications

from monitor.config import Settings
from monitor.db import safe_url
from monitor.errors import ConfigError

QUEUE = "jobs"
ACTOR = "shopmon_job"
# Share of broker calls that also look for dead workers' jobs to put back. Dramatiq's default
# (1 in 1000) would leave a killed worker's crawl waiting many minutes after its lease ran out;
# the check is one ZRANGEBYSCORE on a handful of workers.
MAINTENANCE_CHANCE = MAINTENANCE_SCALE // 20
# Scheduled tasks that go on the queue; alert delivery, escalations and digests are small
# database jobs the scheduler keeps running itself.
QUEUED_TASKS = frozenset({"crawl", "command"})


def _retry_when(_retries: int, exc: BaseException) -> bool:
    # Only "not now" (the shop is being crawled by someone else) is retried; a job that failed
    # is recorded as failed and runs again at its next occurrence, as in the embedded scheduler.
    return isinstance(exc, dramatiq.Retry)


@dataclass
class JobQueue:
    """The broker and actor of one installation (one ``workers.namespace`` on one Redis)."""

    settings: Settings
    broker: RedisBroker
    actor: dramatiq.Actor

    @property
    def namespace(self) -> str:
        return self.broker.namespace

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    def takes(self, task: str) -> bool:
        return task in QUEUED_TASKS

    def enqueue(self, task: str, params: dict[str, Any], *, run_id: int | None = None, job_id: str | None = None,
                scheduled_for: datetime | None = None) -> str:
        """Put one job on the queue; returns the message id."""
        when = scheduled_for.isoformat() if scheduled_for else None
        return self.actor.send(task, params, run_id, job_id, when).message_id

    def depth(self) -> dict[str, int]:
        """Jobs waiting (not yet taken), and jobs taken by a worker (running, or retried later)."""
        client = self.broker.client
        waiting = int(client.llen(self.key(QUEUE)))
        total = int(client.hlen(self.key(QUEUE) + ".msgs")) + int(client.hlen(self.key(QUEUE) + ".DQ.msgs"))
        return {"waiting": waiting, "taken": max(0, total - waiting)}

    def close(self) -> None:
        self.broker.close()


def open_queue(settings: Settings, handler=None) -> JobQueue:  # noqa: ANN001
    """Connect to the queue of ``settings.workers``; ``handler`` is what a worker runs per message.

    Fails with a clear error (nothing enqueued) when Redis does not answer.
    """
    cfg = settings.workers
    if not cfg.redis_url:
        raise ConfigError("workers.redis_url is not set: there is no job queue (jobs run in the scheduler)")
    broker = RedisBroker(
        url=cfg.redis_url,
        namespace=cfg.namespace,
        heartbeat_timeout=int(cfg.lease_seconds * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
        # No TimeLimit (each job has its own limit and a crawl runs in a killable subprocess),
        # no AgeLimit: a job waits for a free worker however long that takes.
        middleware=[ShutdownNotifications(), Callbacks(), Pipelines(), Retries(retry_when=_retry_when)],
        socket_connect_timeout=5,
        health_check_interval=30,
    )
    try:
        broker.client.ping()
    except redis.RedisError as exc:
        broker.close()
        raise ConfigError(f"job queue: Redis at {safe_url(cfg.redis_url)} does not answer: {exc}") from None
    actor = dramatiq.Actor(handler or _not_a_worker, broker=broker, actor_name=ACTOR, queue_name=QUEUE,
                           priority=0, options={})
    return JobQueue(settings, broker, actor)


def _not_a_worker(*_args: Any) -> None:
    raise RuntimeError("this process only enqueues; jobs run in `shopmon worker`")
