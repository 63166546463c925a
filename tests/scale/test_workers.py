"""Three `shopmon worker` processes and one scheduler on the local PostgreSQL and Redis: 30 shops
of the local marketplace crawled exactly once per interval, a worker killed with -9 mid-crawl
has its job finished by another, and reviews, cases and alerts are stored once.

Skipped when Redis does not answer on 127.0.0.1:6379 (PostgreSQL as the other PostgreSQL
tests). Each run uses its own Redis key prefix and PostgreSQL schema, so runs can overlap.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from fixtures.many_shops import copy_shops
from market_driver import serve_marketplace
from models import Case, CrawlRun, Review
from models.alerts import Alert
from models.scheduler import JobRun
from monitor.child_process import stop_group
from monitor.config import load_settings
from monitor.db import get_engine, upgrade
from monitor.scheduler.service import run_once

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
SHOPS = 30
WORKERS = 3
WAIT = 900.0  # generous: an upper bound for a loaded machine, not a speed target


def _stop(proc: subprocess.Popen) -> int:
    """SIGTERM (a worker stops after its running job), then SIGKILL to the group if it does not."""
    stop_group(proc, 120)
    return proc.returncode


def _runs(settings, since: datetime) -> list[JobRun]:  # noqa: ANN001
    """The crawl occurrences of one interval: scheduled at or after ``since``."""
    with Session(get_engine(settings)) as s:
        return list(s.exec(select(JobRun).where(JobRun.task == "crawl", JobRun.scheduled_for >= since)))


def _all_done(settings, queue, since: datetime) -> bool:  # noqa: ANN001
    runs = _runs(settings, since)
    depth = queue.depth()
    return (len(runs) == SHOPS and all(r.status in ("ok", "failed") for r in runs)
            and depth == {"waiting": 0, "taken": 0})


def test_three_workers_crawl_each_shop_once_and_finish_a_killed_workers_job(
        pg_url: str, redis_url: str, redis_prefix: str, wait_for, tmp_path: Path,  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.workers.queue import open_queue

    with serve_marketplace() as market:
        market.data = copy_shops(market.data, SHOPS)
        shops = [{**s, "interval_minutes": 60, "jitter_seconds": 0} for s in market.shops()]
        env = {
            "SHOPMON_DATA_DIR": str(tmp_path / "data"), "SHOPMON_DATABASE_URL": pg_url,
            "SHOPMON_SHOPS": json.dumps(shops),
            # A polite delay between requests, so crawls overlap on the three workers.
            "SHOPMON_CRAWL": json.dumps({"download_delay": 0.1, "autothrottle": False, "retry_times": 0}),
            "SHOPMON_WORKERS": json.dumps({"redis_url": redis_url, "namespace": redis_prefix, "lease_seconds": 5}),
            "SHOPMON_ALERTS": json.dumps({"recipients": {"serious_case": ["owner@example.com"]}}),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = load_settings()
        upgrade(settings)
        # The first Taobao shop's first item page hangs: its crawl is mid-way when we kill its worker.
        victim = market.data["shops"][0]
        hang = f"/taobao/item.htm?id={victim['listings'][0]['id']}"
        market.inject(hang, body=None, delay=3600, times=1)
        procs = [subprocess.Popen([sys.executable, "-m", "monitor", "worker", "--threads", "1"], cwd=tmp_path,
                                  stdout=(tmp_path / f"worker{i}.log").open("wb"), stderr=subprocess.STDOUT,
                                  start_new_session=True)
                 for i in range(WORKERS)]
        killed = None
        queue = open_queue(settings)
        try:
            t0 = datetime.now(UTC)
            first = run_once(settings, now=t0, queue=queue)
            assert sorted(r["job"] for r in first if r["event"] == "queued") == sorted(f"crawl:{s['id']}" for s in shops)

            wait_for("the victim's crawl to reach the hanging page", lambda: hang in market.request_log, WAIT, procs)
            victim_run = next(r for r in _runs(settings, t0) if r.job_id == f"crawl:{victim['id']}")
            assert victim_run.status == "running" and victim_run.holder.startswith("worker:")
            killed_pid = int(victim_run.holder.split(":")[2])
            killed = next(p for p in procs if p.pid == killed_pid)  # only a pid we started
            killed.send_signal(signal.SIGKILL)
            killed.wait()
            alive = [p for p in procs if p is not killed]

            wait_for("every first-interval crawl and the processing", lambda: _all_done(settings, queue, t0), WAIT, alive)
            # Later in the same interval the scheduler has nothing to queue: no second crawl.
            mid = run_once(settings, now=t0 + timedelta(minutes=30), queue=queue)
            assert [r for r in mid if r["job"].startswith("crawl:")] == []
            # The next interval: the occurrences due at t0 + 60 min (run_once runs each once, however late).
            t1 = t0 + timedelta(minutes=60)
            second = run_once(settings, now=t1 + timedelta(minutes=1), queue=queue)
            assert len([r for r in second if r["event"] == "queued"]) == SHOPS
            wait_for("every second-interval crawl and the processing", lambda: _all_done(settings, queue, t1), WAIT, alive)
        finally:
            queue.close()
            codes = [p.returncode if p is killed else _stop(p) for p in procs]
        assert sorted(codes) == [-signal.SIGKILL, 0, 0], codes
        total_reviews = sum(len(li["reviews"]) for s in market.data["shops"] for li in s["listings"])

    engine = get_engine(settings)
    with Session(engine) as s:
        jobs = list(s.exec(select(JobRun).where(JobRun.task == "crawl")))
        crawls = list(s.exec(select(CrawlRun)))
        reviews = s.exec(select(func.count()).select_from(Review)).one()
        distinct_reviews = s.exec(select(func.count(func.distinct(Review.platform + ":" + Review.external_id)))).one()
        # A case is about one review, or (attacks) about one flag without a review.
        case_keys = [("review", r) if r is not None else ("flag", f) for r, f in s.exec(select(Case.review_id, Case.flag_id))]
        serious_alerts = list(s.exec(select(Alert).where(Alert.kind == "serious_case")))
        serious = [a.case_id for a in serious_alerts]

    # Every job recorded once, ok; the killed worker's job was finished by another worker.
    assert Counter((j.job_id, j.scheduled_for) for j in jobs) == Counter(
        {(f"crawl:{sh['id']}", t): 1 for sh in shops for t in (t0, t1)})
    assert {j.status for j in jobs} == {"ok"}
    finished = next(j for j in jobs if j.job_id == f"crawl:{victim['id']}" and j.scheduled_for == t0)
    assert finished.holder != victim_run.holder and f":{killed_pid}:" not in finished.holder
    # Every shop crawled exactly once per interval (the killed attempt is recorded as interrupted).
    ok = Counter(c.shop_config_id for c in crawls if c.status == "ok")
    assert ok == Counter({sh["id"]: 2 for sh in shops})
    assert [c.shop_config_id for c in crawls if c.status != "ok"] == [victim["id"]]
    assert [c.status for c in crawls if c.status != "ok"] == ["interrupted"]
    # Nothing stored twice.
    assert reviews == distinct_reviews == total_reviews
    assert case_keys and len(case_keys) == len(set(case_keys))
    doubled = {c for c, n in Counter(serious).items() if n > 1}
    assert serious and not doubled, [(a.case_id, a.dedup_key, a.group_key, str(a.created_at)) for a in serious_alerts
                                     if a.case_id in doubled][:12]
