"""``benchmarks/scale.py --workers 1,2,4``: shops crawled per hour by 1, 2 and 4 ``shopmon worker``s.

For each worker count, in a fresh database and Redis key prefix: ``--shops`` (200) shops on the
local marketplace (``fixtures.many_shops``), every crawl with a ``--delay`` (1 s) politeness delay
between requests and autothrottle off; one scheduler pass (``run_once`` with the job queue)
queues a crawl of every shop; then N worker processes (one job at a time each) are started.
Crawling all 200 shops with one worker takes most of an hour on a 2-core machine, so the rate is
measured over the first ``--per-worker`` x N crawls to finish (20 x N by default):

    crawls_per_hour = finished crawls x 3600 / (last of them finished - first crawl started)

read from the JobRun rows the workers wrote (``started_at``, ``finished_at``). Speed-ups are the
rates divided by the 1-worker rate (targets: >= 1.8 at 2 workers, >= 3.2 at 4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from benchmarks import benchdb
from fixtures.many_shops import copy_shops
from models.scheduler import JobRun
from monitor.child_process import stop_group
from monitor.config import load_settings
from monitor.db import dispose_engines, get_engine, upgrade
from monitor.demo_site.server import serve_marketplace
from monitor.scheduler.service import run_once
from monitor.workers.queue import open_queue

TARGETS = {"2": 1.8, "4": 3.2}
WAIT_S = 7200.0  # an upper bound for a loaded machine, never reached on a working setup


def _finished(settings) -> list[JobRun]:  # noqa: ANN001
    with Session(get_engine(settings)) as s:
        return list(s.exec(select(JobRun).where(JobRun.task == "crawl", JobRun.finished_at.is_not(None))))


def _one(n_workers: int, shops_n: int, delay: float, per_worker: int, redis_url: str, url: str | None,
         workdir: Path) -> dict:
    prefix = f"shopmon-bench-{uuid.uuid4().hex[:8]}"
    data_dir = workdir / f"w{n_workers}"
    with benchdb.database(url, f"workers{n_workers}") as db_url, serve_marketplace() as market:
        market.data = copy_shops(market.data, shops_n)
        shops = [{**s, "interval_minutes": 1440, "jitter_seconds": 0} for s in market.shops()]
        env = {"SHOPMON_DATA_DIR": str(data_dir), "SHOPMON_SHOPS": json.dumps(shops),
               "SHOPMON_CRAWL": json.dumps({"download_delay": delay, "autothrottle": False, "retry_times": 0}),
               "SHOPMON_WORKERS": json.dumps({"redis_url": redis_url, "namespace": prefix}),
               "SHOPMON_ALERTS": json.dumps({"recipients": {"serious_case": ["owner@example.com"]}})}
        if db_url:
            env["SHOPMON_DATABASE_URL"] = db_url
        os.environ.update(env)
        settings = load_settings()
        upgrade(settings)
        queue = open_queue(settings)
        procs: list[subprocess.Popen] = []
        try:
            queued = [r for r in run_once(settings, now=datetime.now(UTC), queue=queue) if r["event"] == "queued"]
            assert len(queued) == shops_n, f"{len(queued)} crawls queued, expected {shops_n}"
            data_dir.mkdir(parents=True, exist_ok=True)
            procs = [subprocess.Popen([sys.executable, "-m", "monitor", "worker", "--threads", "1"],
                                      stdout=(data_dir / f"worker{i}.log").open("wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True)
                     for i in range(n_workers)]
            want = per_worker * n_workers
            deadline = time.monotonic() + WAIT_S
            while len(done := _finished(settings)) < want:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError(f"{n_workers} worker(s): {len(done)} of {want} crawls after the wait")
                time.sleep(1)
        finally:
            for p in procs:  # SIGTERM: each stops after its running crawl
                stop_group(p, 120)
            keys = list(queue.broker.client.scan_iter(match=f"{prefix}:*"))
            if keys:
                queue.broker.client.delete(*keys)
            queue.close()
        with Session(get_engine(settings)) as s:
            started = min(r.started_at for r in s.exec(select(JobRun).where(JobRun.task == "crawl",
                                                                             JobRun.status != "queued")))
        dispose_engines()
    first = sorted(done, key=lambda r: r.finished_at)[:want]
    span = (first[-1].finished_at - started).total_seconds()
    statuses = sorted({r.status for r in first})
    return {"workers": n_workers, "crawls": want, "seconds": round(span, 1),
            "crawls_per_hour": round(want * 3600 / span, 1), "statuses": statuses,
            "mean_crawl_seconds": round(sum(r.duration_s or 0 for r in first) / want, 1)}


def measure(counts: list[int], *, shops: int, delay: float, per_worker: int, redis_url: str, url: str | None,
            workdir: Path) -> dict:
    rows = [_one(n, shops, delay, per_worker, redis_url, url, workdir) for n in counts]
    base = rows[0]["crawls_per_hour"] if rows and rows[0]["workers"] == 1 else None
    for row in rows:
        if base:
            row["speedup"] = round(row["crawls_per_hour"] / base, 2)
            target = TARGETS.get(str(row["workers"]))
            if target is not None:
                row["target_speedup"], row["target_met"] = target, row["speedup"] >= target
    return {"shops": shops, "politeness_delay_s": delay, "database": benchdb.backend(url), "redis": redis_url,
            "rate": "finished crawls x 3600 / (last of the first per_worker x N finished - first crawl started)",
            "per_worker": per_worker, "runs": rows}


def redis_default() -> str:
    return os.environ.get("SHOPMON_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

