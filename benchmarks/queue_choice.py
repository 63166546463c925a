"""Which Redis-backed task queue for `shopmon worker`: Dramatiq, RQ or Celery. Prints JSON.

For each library installed here (only the chosen one, Dramatiq, is a project dependency; the
others were installed into a scratch virtual environment to measure them), against the local
Redis, with one worker process running one job at a time:

- ``latency_ms``: enqueue -> start of a no-op job, ``--jobs`` jobs one after the other on an idle
  worker (median and max);
- ``killed``: with a second, idle worker running, a 60 s job is started; after 2 x ``--lease`` + 1 s
  we note whether the idle worker started it too (``started_twice_while_running``: a job still
  running on a live worker must not be), then kill the job's worker (its process group: RQ runs the job in a forked work horse) with -9
  and report whether and
  how many seconds after the kill the other worker started it again (bounded wait of ``--bound``
  s). Each library is set up the way a crashed crawl would need: Dramatiq with a ``--lease`` s
  heartbeat timeout, RQ with one retry, Celery with late acks and a ``--lease`` s visibility
  timeout.

Usage: python benchmarks/queue_choice.py [--jobs 20] [--lease 5] [--bound 120]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REDIS_URL = os.environ.get("SHOPMON_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _client():  # noqa: ANN202
    import redis

    return redis.Redis.from_url(REDIS_URL)


def job(prefix: str, name: str, seconds: float) -> None:
    """The job every library runs: note when it started, then sleep."""
    client = _client()
    client.set(f"{prefix}:start:{name}", repr(time.time()))
    client.set(f"{prefix}:pids:{name}", f"{os.getpid()} {os.getppid()}")  # RQ runs it in a forked work horse
    client.incr(f"{prefix}:starts:{name}")
    time.sleep(seconds)


# Each library: a worker body (runs in a child process) and an enqueue function. -------------

def _dramatiq(prefix: str, lease: float):  # noqa: ANN202
    import dramatiq
    from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

    broker = RedisBroker(url=REDIS_URL, namespace=prefix, heartbeat_timeout=int(lease * 1000),
                         maintenance_chance=MAINTENANCE_SCALE // 20)
    dramatiq.set_broker(broker)
    actor = dramatiq.actor(job, queue_name="bench", max_retries=0, time_limit=3_600_000)
    return broker, actor


def serve_dramatiq(prefix: str, lease: float) -> None:
    import dramatiq

    broker, _ = _dramatiq(prefix, lease)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=250)
    worker.queue_prefetch = 1
    worker.start()
    _ready(prefix)


def enqueue_dramatiq(prefix: str, lease: float, name: str, seconds: float) -> None:
    _dramatiq(prefix, lease)[1].send(prefix, name, seconds)


def serve_rq(prefix: str, lease: float) -> None:
    from rq import Queue, Worker

    conn = _client()
    worker = Worker([Queue(prefix, connection=conn)], connection=conn, maintenance_interval=int(lease))
    _ready(prefix)
    worker.work(with_scheduler=True)


def enqueue_rq(prefix: str, lease: float, name: str, seconds: float) -> None:
    from rq import Queue, Retry

    # By name: RQ refuses functions of __main__.
    Queue(prefix, connection=_client()).enqueue("benchmarks.queue_choice.job", prefix, name, seconds,
                                                retry=Retry(max=1), job_timeout=3600)


def _celery(prefix: str, lease: float):  # noqa: ANN202
    from celery import Celery

    app = Celery(prefix, broker=REDIS_URL)
    app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, task_default_queue=prefix,
                    broker_transport_options={"visibility_timeout": lease, "global_keyprefix": prefix + ":"},
                    worker_hijack_root_logger=False)
    return app, app.task(name="bench.job")(job)


def serve_celery(prefix: str, lease: float) -> None:
    app, _ = _celery(prefix, lease)
    _ready(prefix)
    app.worker_main(["worker", "--pool=solo", "--concurrency=1", "--loglevel=WARNING", "--without-gossip",
                     "--without-mingle", "--without-heartbeat"])


def enqueue_celery(prefix: str, lease: float, name: str, seconds: float) -> None:
    _celery(prefix, lease)[1].delay(prefix, name, seconds)


def _ready(prefix: str) -> None:
    _client().incr(f"{prefix}:ready")


# The measurements ----------------------------------------------------------------------------

def _start(lib: str, prefix: str, lease: float, log: Path) -> subprocess.Popen:
    before = int(_client().get(f"{prefix}:ready") or 0)
    proc = subprocess.Popen([sys.executable, __file__, "--serve", lib, "--prefix", prefix, "--lease", str(lease)],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    _until(lambda: int(_client().get(f"{prefix}:ready") or 0) > before, 120)
    time.sleep(1.0)  # the worker's first fetch
    return proc


def _until(cond, bound: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker's process group (it leads one: start_new_session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def measure(lib: str, jobs: int, lease: float, bound: float, log: Path) -> dict[str, object]:
    prefix = f"qbench-{lib}-{uuid.uuid4().hex[:8]}"
    enqueue = globals()[f"enqueue_{lib}"]
    client = _client()
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_start(lib, prefix, lease, log))
        lat = []
        for i in range(jobs):
            t = time.time()
            enqueue(prefix, lease, f"n{i}", 0)
            if not _until(lambda i=i: client.get(f"{prefix}:start:n{i}"), bound):
                return {"error": f"job n{i} did not start within {bound} s"}
            lat.append((float(client.get(f"{prefix}:start:n{i}")) - t) * 1000)
            time.sleep(0.3)
        out: dict[str, object] = {"latency_ms": {"median": round(statistics.median(lat), 1), "max": round(max(lat), 1),
                                                 "jobs": jobs}}
        procs.append(_start(lib, prefix, lease, log))  # a second, idle worker from now on
        enqueue(prefix, lease, "long", 60)
        _until(lambda: client.get(f"{prefix}:starts:long"), bound)
        time.sleep(2 * lease + 1)  # still running on a live worker: does the idle one start it too?
        out["started_twice_while_running"] = int(client.get(f"{prefix}:starts:long") or 0) > 1
        pids = {int(p) for p in client.get(f"{prefix}:pids:long").split()}
        victim = next(p for p in procs if p.pid in pids)  # only a process this script started
        _kill(victim)  # with what it started (RQ's work horse): the machine is gone
        killed_at = time.time()
        before = int(client.get(f"{prefix}:starts:long") or 0)
        again = _until(lambda: int(client.get(f"{prefix}:starts:long") or 0) > before, bound)
        out["killed"] = ({"run_again": True, "after_kill_s": round(float(client.get(f"{prefix}:start:long")) - killed_at, 1)}
                         if again else {"run_again": False, "waited_s": bound})
        return out
    finally:
        for p in procs:
            _kill(p)
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--bound", type=float, default=120.0)
    parser.add_argument("--serve")
    parser.add_argument("--prefix")
    args = parser.parse_args()
    if args.serve:
        globals()[f"serve_{args.serve}"](args.prefix, args.lease)
        while True:
            time.sleep(3600)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"queue_choice-{os.getpid()}.log"
    result: dict[str, object] = {"redis": REDIS_URL, "lease_s": args.lease, "log": str(log)}
    for lib in ("dramatiq", "rq", "celery"):
        if importlib.util.find_spec(lib) is None:
            result[lib] = {"error": "not installed here"}
            continue
        result[lib] = measure(lib, args.jobs, args.lease, args.bound, log)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
