"""Who is working: one Redis hash per live ``shopmon worker``, renewed by its heartbeat.

``shopmon status`` lists them (host, pid, jobs running, last heartbeat). A hash expires three
leases after its last heartbeat, so a killed worker is shown as silent for a while, then gone.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from typing import Any

from monitor.scheduler.runs import WORKER_HOLDER_PREFIX
from monitor.workers.queue import JobQueue


def new_worker_id() -> str:
    """``worker:host:pid:random``: readable, and never reused by a later process with the same pid."""
    return f"{WORKER_HOLDER_PREFIX}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _key(queue: JobQueue, worker_id: str) -> str:
    return queue.key("workers", worker_id)


def beat(queue: JobQueue, worker_id: str, *, threads: int, started: float, running: list[str]) -> None:
    """Record this worker as alive now, with the jobs it is running."""
    ttl = max(1, int(queue.settings.workers.lease_seconds * 3))
    info = {"id": worker_id, "host": socket.gethostname(), "pid": os.getpid(), "threads": threads,
            "started": started, "heartbeat": time.time(), "running": running}
    queue.broker.client.set(_key(queue, worker_id), json.dumps(info), ex=ttl)


def leave(queue: JobQueue, worker_id: str) -> None:
    queue.broker.client.delete(_key(queue, worker_id))


def alive(queue: JobQueue, worker_id: str, now: float | None = None) -> bool:
    """True while the worker's last heartbeat is younger than ``workers.lease_seconds``."""
    raw = queue.broker.client.get(_key(queue, worker_id))
    if raw is None:
        return False
    age = (now or time.time()) - float(json.loads(raw)["heartbeat"])
    return age < queue.settings.workers.lease_seconds


def workers(queue: JobQueue, now: float | None = None) -> list[dict[str, Any]]:
    """Every worker heard from in the last three leases, oldest first, with ``age_s`` and ``alive``."""
    now = now or time.time()
    client = queue.broker.client
    keys = sorted(client.scan_iter(match=_key(queue, "*"), count=500))
    out = []
    for raw in client.mget(keys) if keys else []:
        if raw is None:  # expired between SCAN and MGET
            continue
        info = json.loads(raw)
        info["age_s"] = round(now - float(info["heartbeat"]), 1)
        info["alive"] = info["age_s"] < queue.settings.workers.lease_seconds
        out.append(info)
    return sorted(out, key=lambda w: (w["started"], w["id"]))
