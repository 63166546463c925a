"""``run_once`` with a fast-forwarded clock: order, failures, hung crawls, missed runs, claims."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

import scheduler_doubles
from scheduler_fixtures import doubles, make_settings  # noqa: F401  (fixtures)
from models.alerts import Alert
from models.crawl import CrawlRun
from models.scheduler import JobRun
from monitor.crawl import crawl_lock_name
from monitor.db import get_engine
from monitor.errors import StorageError
from monitor.scheduler import runs, tasks
from monitor.scheduler.lease import Lease, current_lease
from monitor.scheduler.service import run_once

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, two hours before the digest


def job_runs(settings) -> list[JobRun]:  # noqa: ANN001
    with Session(get_engine(settings)) as s:
        return list(s.exec(select(JobRun).order_by(JobRun.id)).all())


def test_jobs_fire_in_order_over_fast_forwarded_hours(make_settings, doubles) -> None:
    settings = make_settings(scheduler={"send_every_seconds": 1800, "escalation_every_minutes": 60})
    fired: list[tuple[str, datetime]] = []
    for step in range(0, 5):  # 06:00 .. 08:00 in half hours
        now = T0 + timedelta(minutes=30 * step)
        fired += [(r["job"], r["scheduled_for"].astimezone(UTC)) for r in run_once(settings, now=now)]

    def at(job: str) -> list[str]:
        return [f"{t:%H:%M}" for j, t in fired if j == job]

    assert at("crawl:alpha") == ["06:00", "07:00", "08:00"]
    assert at("crawl:beta") == ["06:00", "08:00"]
    assert at("alerts:send") == ["06:00", "06:30", "07:00", "07:30", "08:00"]
    assert at("alerts:escalation") == ["06:00", "07:00", "08:00"]
    assert at("report:daily_digest") == ["08:00"]
    assert at("report:weekly_report") == ["08:00"]  # 2 March 2026 is a Monday
    # Each round runs its due jobs oldest first, so the record is sorted by due time.
    assert [t for _, t in fired] == sorted(t for _, t in fired)
    # Each crawl was followed by detection in the scheduler process; the crawl itself ran in a child.
    events = scheduler_doubles.events(settings)
    crawl_pids = {e["pid"] for e in events if e["event"] == "crawl"}
    assert os.getpid() not in crawl_pids and len(crawl_pids) == 5
    assert sum(e["event"] == "process" for e in events) == 5
    assert [e["kind"] for e in events if e["event"] == "report"] == ["daily_digest", "weekly_report"]
    ok = [r for r in job_runs(settings) if r.job_id == "crawl:alpha"]
    assert all(r.status == "ok" for r in ok)
    assert ok[0].counts == {"crawl_status": "ok", "reviews_new": 2, "scored": 2, "cases_opened": 1, "alerts_queued": 0}


def test_crashing_job_is_recorded_alerted_and_the_others_still_run(make_settings, doubles) -> None:
    settings = make_settings()
    doubles(send="send_boom", crawl="crawl_crash")
    ran = run_once(settings, now=T0)
    assert {r["job"]: r["event"] for r in ran} == {
        "alerts:send": "error",
        "crawl:alpha": "error",
        "crawl:beta": "error",
        "alerts:escalation": "ok",
    }
    by_job = {r.job_id: r for r in job_runs(settings)}
    assert by_job["alerts:send"].status == "failed"
    assert "SMTP relay on fire" in by_job["alerts:send"].error
    assert by_job["crawl:alpha"].status == "failed"
    assert "spider exploded" in by_job["crawl:alpha"].error
    with Session(get_engine(settings)) as s:
        alerts = s.exec(select(Alert).where(Alert.kind == "crawl_health")).all()
        crawls = s.exec(select(CrawlRun).order_by(CrawlRun.shop_config_id)).all()
    # The send failure is alerted directly; the crawl failures become failed CrawlRuns that
    # alerts.rules turns into crawl-health alerts (here its double counts the evaluation).
    assert [a.payload["job_id"] for a in alerts] == ["alerts:send"]
    assert alerts[0].recipients == ["owner@example.com"]
    assert [(c.shop_config_id, c.status, c.failure_kind) for c in crawls] == [
        ("alpha", "failed", "error"),
        ("beta", "failed", "error"),
    ]
    assert sum(e["event"] == "evaluate" for e in scheduler_doubles.events(settings)) >= 2
    # The next round runs again: a crash does not wedge the schedule.
    doubles()
    later = run_once(settings, now=T0 + timedelta(hours=1))
    assert ("crawl:alpha", "ok") in {(r["job"], r["event"]) for r in later}


def test_hung_crawl_is_killed_and_recorded(make_settings, doubles) -> None:
    settings = make_settings(
        shops=[{**{"id": "alpha", "platform": "schemaorg", "url": "http://127.0.0.1:9/a"}, "jitter_seconds": 0}],
        crawl={"timeout_minutes": 0.05},  # 3 s: time for the child to start and hang
        scheduler={"kill_grace_seconds": 0.5},
    )
    doubles(crawl="crawl_hang")
    ran = run_once(settings, now=T0)
    assert ("crawl:alpha", "error") in {(r["job"], r["event"]) for r in ran}
    run = next(r for r in job_runs(settings) if r.job_id == "crawl:alpha")
    assert run.status == "timeout"
    assert "killed" in run.error
    hung = [e for e in scheduler_doubles.events(settings) if e["event"] == "crawl_hang"]
    assert len(hung) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(hung[0]["pid"], 0)  # the child is gone, not left running
    with Session(get_engine(settings)) as s:
        crawl = s.exec(select(CrawlRun)).one()
    assert (crawl.shop_config_id, crawl.status, crawl.failure_kind) == ("alpha", "failed", "timeout")


def test_crawl_of_a_shop_held_elsewhere_is_recorded_skipped_naming_the_holder(make_settings, doubles, monkeypatch) -> None:
    settings = make_settings(shops=[{"id": "alpha", "platform": "schemaorg", "url": "http://127.0.0.1:9/a", "jitter_seconds": 0}])
    # The real crawl step: it takes the shop's crawl lease in the job child, as in production.
    monkeypatch.setitem(tasks.HOOKS, "crawl", "monitor.scheduler.tasks:crawl_in_child")
    lock = crawl_lock_name("alpha")
    other = Lease(settings, 300, holder="worker:host:42:other", name=lock)
    assert other.acquire()

    ran = run_once(settings, now=T0)

    assert {r["job"]: r["event"] for r in ran} == {"crawl:alpha": "skipped", "alerts:send": "ok", "alerts:escalation": "ok"}
    [run] = [r for r in job_runs(settings) if r.job_id == "crawl:alpha"]
    assert run.status == "skipped"
    assert run.error.startswith("crawl:alpha is held by worker:host:42:other until ")
    with Session(get_engine(settings)) as s:
        # No CrawlRun written or closed (a running one is the holder's), no crawl-health alert.
        assert s.exec(select(CrawlRun)).all() == []
        assert s.exec(select(Alert)).all() == []
    # No processing after it, and evaluated once: by the escalation job, not by a job-error listener.
    assert [e["event"] for e in scheduler_doubles.events(settings)].count("process") == 0
    assert [e["event"] for e in scheduler_doubles.events(settings)].count("evaluate") == 1
    assert current_lease(get_engine(settings), lock).holder == "worker:host:42:other"  # still theirs
    other.release()


def test_run_later_than_its_grace_time_is_recorded_as_missed(make_settings, doubles) -> None:
    settings = make_settings(shops=[])
    run_once(settings, now=T0)
    # Three and a half days pass with no scheduler. Missed occurrences coalesce into the
    # latest one, which runs if it is within its grace time: Thursday 08:00's digest is
    # 7 h late (grace 6 h) and Monday's weekly report 3 days late (grace 1 day).
    ran = run_once(settings, now=T0 + timedelta(days=3, hours=9))
    events = {r["job"]: r["event"] for r in ran}
    assert events == {
        "report:daily_digest": "missed",
        "report:weekly_report": "missed",
        "alerts:send": "ok",
        "alerts:escalation": "ok",
    }
    missed = [r for r in job_runs(settings) if r.status == "missed"]
    assert sorted((r.job_id, f"{r.scheduled_for:%a %H:%M}") for r in missed) == [
        ("report:daily_digest", "Thu 08:00"),
        ("report:weekly_report", "Mon 08:00"),
    ]
    assert all("grace" in r.error for r in missed)
    assert [e["event"] for e in scheduler_doubles.events(settings)].count("report") == 0


def test_one_occurrence_is_claimed_once(make_settings) -> None:
    settings = make_settings()
    first = runs.claim(settings, "crawl:alpha", "crawl", T0, "scheduler-a")
    second = runs.claim(settings, "crawl:alpha", "crawl", T0, "scheduler-b")
    other_time = runs.claim(settings, "crawl:alpha", "crawl", T0 + timedelta(hours=1), "scheduler-b")
    assert first is not None and second is None and other_time is not None


def test_once_refuses_while_another_scheduler_is_active(make_settings, doubles) -> None:
    settings = make_settings()
    active = Lease(settings, 30, holder="host:1:daemon")
    assert active.acquire()
    with pytest.raises(StorageError, match="host:1:daemon"):
        run_once(settings)
    assert scheduler_doubles.events(settings) == []
    active.release()
    assert run_once(settings, now=datetime.now(UTC))


def test_once_keeps_its_lease_through_jobs_longer_than_the_lease(make_settings, doubles) -> None:
    settings = make_settings(scheduler={"lease_seconds": 1})
    doubles(send="send_slow")  # 1.5 s, longer than the 1 s lease; the crawls come after it
    ran = run_once(settings, now=datetime.now(UTC))
    assert {r["job"]: r["event"] for r in ran} == {
        "alerts:escalation": "ok",
        "alerts:send": "ok",
        "crawl:alpha": "ok",
        "crawl:beta": "ok",
    }
