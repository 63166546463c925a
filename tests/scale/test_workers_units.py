"""The queue's parts without workers: settings, taking and recording a queued occurrence once, the
scheduler handing jobs to a queue, and (with the local Redis) the worker list, depth and the
one-waiting-processing-job rule."""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.errors import ConfigError
from monitor.scheduler import runs
from monitor.scheduler.service import run_once

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHOPS = [{"id": "alpha", "platform": "schemaorg", "url": "http://127.0.0.1:9/alpha", "jitter_seconds": 0},
         {"id": "beta", "platform": "schemaorg", "url": "http://127.0.0.1:9/beta", "jitter_seconds": 0}]
ALERTS = {"recipients": {"serious_case": ["owner@example.com"]}}


def test_workers_settings_reject_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="redis_url must start with redis://"):
        load_settings(workers={"redis_url": "http://127.0.0.1:6379"})
    with pytest.raises(ConfigError, match="namespace"):
        load_settings(workers={"namespace": "has space"})
    with pytest.raises(ConfigError, match="lease_seconds"):
        load_settings(workers={"lease_seconds": 0})
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('[workers]\nredis_url = "redis://:hunter2@queue:6379/0"\n')
    with pytest.raises(ConfigError, match="workers.redis_url contains a password"):
        load_settings(cfg)
    assert load_settings(workers={"redis_url": "redis://queue:6379/1"}).workers.threads == 2


def test_an_occurrence_is_taken_from_a_dead_worker_and_recorded_once(db_settings) -> None:  # noqa: ANN001
    run_id = runs.claim(db_settings, "crawl:alpha", "crawl", T0, "sched:1", status="queued")
    assert runs.take(db_settings, run_id, "worker:a")
    alive = {"worker:a"}
    # Delivered again while worker a still runs it: not run twice.
    assert not runs.take(db_settings, run_id, "worker:b", unless_alive=alive.__contains__)
    alive.clear()  # worker a stops heartbeating (kill -9)
    assert runs.take(db_settings, run_id, "worker:b", unless_alive=alive.__contains__)
    assert not runs.finish_taken(db_settings, run_id, "worker:a", "ok", started_at=T0)  # a's late result loses
    assert runs.finish_taken(db_settings, run_id, "worker:b", "ok", started_at=T0, counts={"reviews_new": 3})
    assert not runs.take(db_settings, run_id, "worker:c")  # ended: a third delivery does nothing
    [row] = runs.history(db_settings, job_id="crawl:alpha")
    assert (row["status"], row["holder"], row["counts"]) == ("ok", "worker:b", {"reviews_new": 3})


def test_a_new_scheduler_leaves_runs_held_by_workers(db_settings) -> None:  # noqa: ANN001
    by_worker = runs.claim(db_settings, "crawl:alpha", "crawl", T0, "sched:old", status="queued")
    by_scheduler = runs.claim(db_settings, "crawl:beta", "crawl", T0, "sched:old")
    assert runs.take(db_settings, by_worker, "worker:host:1:ab")
    assert runs.abandon_stale(db_settings, "sched:new") == 1
    status = {r["id"]: r["status"] for r in runs.history(db_settings)}
    assert status == {by_worker: "running", by_scheduler: "interrupted"}


class FakeQueue:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple] = []
        self.fail = fail

    def takes(self, task: str) -> bool:
        return task in ("crawl", "command")

    def enqueue(self, task, params, *, run_id=None, job_id=None, scheduled_for=None) -> str:  # noqa: ANN001
        if self.fail:
            raise ConnectionError("Redis went away")
        self.sent.append((task, params, run_id, job_id, scheduled_for))
        return "m1"


def test_the_scheduler_queues_crawls_and_runs_the_rest_itself(tmp_path: Path) -> None:
    from monitor.db import upgrade

    settings = load_settings(data_dir=tmp_path / "data", shops=SHOPS, alerts=ALERTS)
    upgrade(settings)
    queue = FakeQueue()
    ran = {r["job"]: r["event"] for r in run_once(settings, now=T0, queue=queue, holder="sched:1")}
    assert ran == {"crawl:alpha": "queued", "crawl:beta": "queued", "alerts:send": "ok", "alerts:escalation": "ok"}
    rows = {r["job_id"]: r for r in runs.history(settings)}
    assert sorted(q[3] for q in queue.sent) == ["crawl:alpha", "crawl:beta"]
    for task, params, run_id, job_id, when in queue.sent:
        assert (task, params, when) == ("crawl", {"shop_id": job_id.split(":")[1]}, T0)
        assert rows[job_id]["id"] == run_id and rows[job_id]["status"] == "queued"


def test_a_job_that_cannot_be_queued_is_recorded_as_failed(tmp_path: Path) -> None:
    from monitor.db import upgrade

    settings = load_settings(data_dir=tmp_path / "data", shops=SHOPS[:1], alerts=ALERTS)
    upgrade(settings)
    ran = {r["job"]: r["event"] for r in run_once(settings, now=T0, queue=FakeQueue(fail=True), holder="sched:1")}
    assert ran["crawl:alpha"] == "error"
    [row] = runs.history(settings, job_id="crawl:alpha")
    assert row["status"] == "failed" and "could not queue the job" in row["error"] and "Redis went away" in row["error"]


@pytest.fixture
def redis_queue(redis_url: str, redis_prefix: str, tmp_path: Path):  # noqa: ANN201
    """A job queue on the local Redis under the test's own prefix (tests/scale/conftest.py: skipped
    when Redis or dramatiq is missing, keys deleted afterwards)."""
    from monitor.workers.queue import open_queue

    settings = load_settings(data_dir=tmp_path / "data", workers={"redis_url": redis_url, "namespace": redis_prefix,
                                                                   "lease_seconds": 5})
    queue = open_queue(settings)
    yield queue
    queue.close()


def test_unreachable_redis_is_one_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("dramatiq", reason="dramatiq not installed (pip install '.[distributed]')")
    from monitor.workers.queue import open_queue

    settings = load_settings(data_dir=tmp_path, workers={"redis_url": "redis://:secret@127.0.0.1:1/0"})
    with pytest.raises(ConfigError, match=r"job queue: Redis at redis://:\*\*\*@127.0.0.1:1/0 does not answer") as err:
        open_queue(settings)
    assert "secret" not in str(err.value)


def test_depth_worker_list_and_one_waiting_processing_job(redis_queue) -> None:  # noqa: ANN001
    from monitor.workers import jobs, registry, status

    assert redis_queue.depth() == {"waiting": 0, "taken": 0}
    redis_queue.enqueue("crawl", {"shop_id": "alpha"}, run_id=1, job_id="crawl:alpha", scheduled_for=T0)
    assert jobs.request_processing(redis_queue)
    assert not jobs.request_processing(redis_queue)  # one is already waiting: the pipeline reads the outbox
    assert redis_queue.depth() == {"waiting": 2, "taken": 0}

    registry.beat(redis_queue, "worker:h1:11:aa", threads=2, started=1.0, running=["crawl:alpha"])
    registry.beat(redis_queue, "worker:h2:22:bb", threads=1, started=2.0, running=[])
    assert registry.alive(redis_queue, "worker:h1:11:aa") and not registry.alive(redis_queue, "worker:h3:33:cc")
    listed = registry.workers(redis_queue)
    assert [(w["host"], w["running"], w["alive"]) for w in listed] == [
        (listed[0]["host"], ["crawl:alpha"], True), (listed[1]["host"], [], True)]
    assert not registry.alive(redis_queue, "worker:h1:11:aa", now=listed[0]["heartbeat"] + 6)

    data = status.gather(redis_queue.settings)
    text = status.render(data)
    assert "2 waiting, 0 taken by workers" in text and "workers: 2 alive" in text
    assert f"pid {listed[0]['pid']}: 1/2 running (crawl:alpha); last heartbeat" in text
    registry.leave(redis_queue, "worker:h2:22:bb")
    assert [w["id"] for w in registry.workers(redis_queue)] == ["worker:h1:11:aa"]


def test_two_takers_of_one_shop_crawl_it_once_and_the_loser_is_retried_not_failed(
        redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    """Two occurrences of one shop's crawl taken by two worker threads at the same moment: the
    shop's lease decides, once. Whoever loses puts its JobRun back to 'queued' and asks Dramatiq
    for a retry; it is not a failed run, and the retry crawls the shop."""
    import dramatiq
    from sqlmodel import Session, select

    from market_driver import serve_marketplace
    from models import CrawlRun
    from monitor.db import get_engine, upgrade
    from monitor.workers import jobs
    from monitor.workers.queue import open_queue

    with serve_marketplace() as market:
        shop = {**market.shops()[0], "jitter_seconds": 0}
        # The crawl's first request answers 2 s late: the winner is still crawling when the loser tries.
        market.inject("", body=None, delay=2.0, times=1)
        settings = load_settings(data_dir=tmp_path / "data", shops=[shop], alerts=ALERTS,
                                 crawl={"download_delay": 0, "autothrottle": False, "retry_times": 0},
                                 workers={"redis_url": redis_url, "namespace": redis_prefix, "lease_seconds": 5})
        upgrade(settings)
        job_id = f"crawl:{shop['id']}"
        run_ids = {f"worker:h:{i}:aa": runs.claim(settings, job_id, "crawl", T0 + timedelta(hours=i), "sched:1",
                                                  status="queued") for i in (1, 2)}
        queue = open_queue(settings)
        start = threading.Barrier(len(run_ids))
        outcome: dict[str, object] = {}

        def take(worker: str, run_id: int) -> None:
            start.wait()
            try:
                jobs.handle(queue, worker, lambda _name: nullcontext(), "crawl", {"shop_id": shop["id"]}, run_id,
                            job_id, None)
                outcome[worker] = "ran"
            except dramatiq.Retry as exc:
                outcome[worker] = exc

        try:
            threads = [threading.Thread(target=take, args=item) for item in run_ids.items()]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            kinds = sorted("retried" if isinstance(o, dramatiq.Retry) else o for o in outcome.values())
            assert kinds == ["ran", "retried"], outcome
            [winner] = [w for w, o in outcome.items() if o == "ran"]
            [loser] = [w for w, o in outcome.items() if isinstance(o, dramatiq.Retry)]
            assert outcome[loser].delay >= jobs.MIN_RETRY_MS
            rows = {r["id"]: r for r in runs.history(settings, job_id=job_id)}
            assert rows[run_ids[winner]]["status"] == "ok"
            assert (rows[run_ids[loser]]["status"], rows[run_ids[loser]]["error"]) == ("queued", None)
            with Session(get_engine(settings)) as s:
                assert [c.status for c in s.exec(select(CrawlRun))] == ["ok"]  # crawled once

            # The retry's delivery: the shop is free now, and the loser's occurrence is crawled.
            jobs.handle(queue, loser, lambda _name: nullcontext(), "crawl", {"shop_id": shop["id"]},
                        run_ids[loser], job_id, None)
        finally:
            queue.close()
    assert {r["status"] for r in runs.history(settings, job_id=job_id)} == {"ok"}
    with Session(get_engine(settings)) as s:
        assert [c.status for c in s.exec(select(CrawlRun))] == ["ok", "ok"]


def test_a_stopping_worker_kills_its_crawl_which_is_recorded_interrupted_and_retried(
        redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    """The worker runs the crawl's own part itself (no job child): when it stops and kills the
    spider, the CrawlRun says 'interrupted', the JobRun goes back to 'queued' and the job is retried."""
    import dramatiq
    from sqlmodel import Session, select

    from market_driver import serve_marketplace
    from models import CrawlRun
    from monitor import child_process
    from monitor.db import get_engine, upgrade
    from monitor.workers import jobs
    from monitor.workers.queue import open_queue

    with serve_marketplace() as market:
        shop = {**market.shops()[0], "jitter_seconds": 0}
        hang = "item"
        market.inject(hang, body=None, delay=60.0, times=1)
        settings = load_settings(data_dir=tmp_path / "data", shops=[shop], alerts=ALERTS,
                                 crawl={"download_delay": 0, "autothrottle": False, "retry_times": 0},
                                 workers={"redis_url": redis_url, "namespace": redis_prefix, "lease_seconds": 5})
        upgrade(settings)
        job_id = f"crawl:{shop['id']}"
        run_id = runs.claim(settings, job_id, "crawl", T0, "sched:1", status="queued")
        queue = open_queue(settings)
        outcome: list[BaseException] = []

        def work() -> None:
            try:
                jobs.handle(queue, "worker:h:1:aa", lambda _name: nullcontext(), "crawl", {"shop_id": shop["id"]},
                            run_id, job_id, None)
            except dramatiq.Retry as exc:
                outcome.append(exc)

        thread = threading.Thread(target=work)
        try:
            thread.start()
            deadline = time.monotonic() + 120
            while not any(hang in p for p in market.request_log) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert child_process.kill_all() == 1  # the spider, the worker's direct child
            thread.join(timeout=120)
        finally:
            queue.close()
    assert len(outcome) == 1 and "interrupted" in str(outcome[0])
    [row] = runs.history(settings, job_id=job_id)
    assert (row["status"], row["error"]) == ("queued", None)
    with Session(get_engine(settings)) as s:
        [crawl] = s.exec(select(CrawlRun)).all()
    assert (crawl.status, crawl.failure_kind) == ("interrupted", "interrupted")
