"""The queue's parts without workers: settings, taking and recording a queued occurrence once, the
scheduler handing jobs to a queue, and (with the local Redis) the worker list, depth and the
one-waiting-processing-job rule."""

from __future__ import annotations

from datetime import UTC, datetime
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
