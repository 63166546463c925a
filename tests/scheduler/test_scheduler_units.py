"""Lease, cron translation, job plan/sync and the log format."""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from monitor.db import get_engine
from monitor.errors import ConfigError
from scheduler_fixtures import doubles, make_settings  # noqa: F401  (fixtures)
from monitor.crontab import crontab_trigger
from monitor.scheduler.lease import Lease, current_lease
from monitor.scheduler.logs import setup_logging
from monitor.scheduler.plan import plan_jobs, sync_jobs
from monitor.scheduler.service import make_scheduler

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday


def test_lease_goes_to_one_holder_until_it_expires(make_settings) -> None:
    settings = make_settings()
    a = Lease(settings, 10, holder="a")
    b = Lease(settings, 10, holder="b")
    assert a.acquire(T0)
    assert not b.acquire(T0 + timedelta(seconds=9))
    assert a.acquire(T0 + timedelta(seconds=9))  # renewal moves the expiry
    assert not b.acquire(T0 + timedelta(seconds=18))
    assert b.acquire(T0 + timedelta(seconds=19.5))  # a stopped renewing: b takes over
    info = current_lease(b.engine)
    assert info.holder == "b" and info.expires_at == T0 + timedelta(seconds=29.5)
    assert not a.acquire(T0 + timedelta(seconds=20))
    b.release()
    assert current_lease(b.engine) is None
    assert a.acquire(T0 + timedelta(seconds=20))


def test_lease_held_is_false_after_its_own_expiry(make_settings) -> None:
    lease = Lease(make_settings(), 1, holder="a")
    assert not lease.held()
    assert lease.acquire()
    assert lease.held()
    assert not lease.held(datetime.now(UTC) + timedelta(seconds=2))


@pytest.mark.parametrize(
    ("expr", "day"),
    [("0 3 * * 0", "Sun"), ("0 3 * * 7", "Sun"), ("0 3 * * 1", "Mon"), ("0 3 * * 6", "Sat"), ("0 3 * * sun", "Sun")],
)
def test_crontab_weekdays_mean_what_cron_means(expr: str, day: str) -> None:
    fire = crontab_trigger(expr, "UTC").get_next_fire_time(None, T0)
    assert f"{fire:%a %H:%M}" == f"{day} 03:00"


def test_crontab_weekday_ranges_and_steps() -> None:
    def days(expr: str) -> list[str]:
        trigger, now, out = crontab_trigger(expr, "UTC"), T0.replace(hour=2), []
        for _ in range(7):
            now = trigger.get_next_fire_time(None, now + timedelta(minutes=1))
            out.append(f"{now:%a}")
        return out

    assert days("0 3 * * 1-5") == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
    assert days("0 3 * * */2") == ["Tue", "Thu", "Sat", "Sun", "Tue", "Thu", "Sat"]
    with pytest.raises(ValueError, match="backwards"):
        crontab_trigger("0 3 * * 5-1", "UTC")
    with pytest.raises(ValueError, match="out of range"):
        crontab_trigger("0 3 * * 9", "UTC")


def test_bad_cron_in_scheduler_commands_is_a_config_error(make_settings) -> None:
    with pytest.raises(ConfigError, match=r"scheduler\.commands\.0\.cron"):
        make_settings(scheduler={"commands": [{"id": "retrain", "cron": "0 3 * * funday", "argv": ["shopmon"]}]})


def test_plan_has_explicit_ids_and_spreads_shops_by_jitter(make_settings) -> None:
    settings = make_settings(
        shops=[
            {"id": "a", "platform": "jd", "url": "http://127.0.0.1:9/a", "interval_minutes": 30, "jitter_seconds": 600},
            {"id": "b", "platform": "jd", "url": "http://127.0.0.1:9/b", "cron": "15 */6 * * *", "jitter_seconds": 0},
        ],
        scheduler={"commands": [{"id": "retrain", "cron": "0 3 * * 0", "argv": ["shopmon", "model", "train"]}]},
    )
    specs = {s.id: s for s in plan_jobs(settings, T0)}
    assert list(specs) == [
        "crawl:a",
        "crawl:b",
        "alerts:send",
        "alerts:escalation",
        "report:daily_digest",
        "report:weekly_report",
        "command:retrain",
    ]
    firsts = {specs["crawl:a"].trigger.get_next_fire_time(None, T0) for _ in range(20)}
    assert len(firsts) > 1 and all(T0 <= f <= T0 + timedelta(seconds=600) for f in firsts)
    assert specs["crawl:b"].trigger.get_next_fire_time(None, T0) == T0.replace(hour=6, minute=15)
    assert specs["crawl:a"].misfire_grace_time == 1800
    assert specs["command:retrain"].params == {"command_id": "retrain"}


def test_sync_keeps_unchanged_jobs_and_reschedules_changed_ones(make_settings) -> None:
    settings = make_settings()
    scheduler = make_scheduler(settings)
    scheduler.start(paused=True)
    try:
        first = sync_jobs(scheduler, plan_jobs(settings, T0), T0)
        assert set(first.added) == {j.id for j in scheduler.get_jobs()}
        before = {j.id: j.next_run_time for j in scheduler.get_jobs()}

        later = T0 + timedelta(minutes=10)
        again = sync_jobs(scheduler, plan_jobs(settings, later), later)
        assert again.added == again.changed == again.removed == []
        assert {j.id: j.next_run_time for j in scheduler.get_jobs()} == before

        shorter = settings.model_copy(
            update={"shops": [settings.shops[0], settings.shops[1].model_copy(update={"interval_minutes": 30})]}
        )
        changed = sync_jobs(scheduler, plan_jobs(shorter, later), later)
        assert changed.changed == ["crawl:beta"] and changed.removed == []
        assert scheduler.get_job("crawl:beta").next_run_time <= later + timedelta(minutes=30)
        assert scheduler.get_job("crawl:alpha").next_run_time == before["crawl:alpha"]

        fewer = settings.model_copy(update={"shops": [settings.shops[0]]})
        removed = sync_jobs(scheduler, plan_jobs(fewer, later), later)
        assert removed.removed == ["crawl:beta"]
        assert scheduler.get_job("crawl:beta") is None
    finally:
        scheduler.shutdown(wait=False)


def test_json_log_lines_carry_the_job_fields() -> None:
    from monitor.scheduler.runner import log_run

    stream = io.StringIO()
    handler = setup_logging(json_lines=True, stream=stream)
    try:
        log_run("crawl:alpha", "crawl", T0, "ok", 1.23456, {"reviews_new": 3})
        log_run("alerts:send", "send", T0, "failed", 0.5, {}, error="SMTP down\nsecond line")
    finally:
        for name in ("shopmon.scheduler", "apscheduler"):
            logging.getLogger(name).removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["job"] == "crawl:alpha" and first["status"] == "ok"
    assert first["duration_s"] == 1.235 and first["counts"] == {"reviews_new": 3}
    assert first["scheduled_for"] == "2026-03-02T06:00:00+00:00"
    assert second["level"] == "error" and second["error"] == "SMTP down"


def test_daemon_that_loses_its_lease_steps_down_and_stops_running_jobs(make_settings, doubles, caplog) -> None:
    import threading

    from sqlalchemy import update

    from models.scheduler import JobRun, SchedulerLease
    from monitor.scheduler.service import Daemon

    settings = make_settings(shops=[], scheduler={"send_every_seconds": 1, "stop_timeout_seconds": 5})
    daemon = Daemon(settings, lease_seconds=1, holder="host:1:mine")
    thread = threading.Thread(target=daemon.run)
    caplog.set_level(logging.INFO, logger="shopmon.scheduler")
    thread.start()
    try:
        engine = get_engine(settings)

        def my_runs() -> int:
            with engine.connect() as conn:
                return len(conn.execute(JobRun.__table__.select().where(JobRun.__table__.c.holder == "host:1:mine")).all())

        _wait(lambda: my_runs() >= 2, "the daemon to run jobs")
        # Another scheduler takes the lease (as after a long pause of this one).
        table = SchedulerLease.__table__
        with engine.begin() as conn:
            conn.execute(update(table).values(holder="host:2:thief", expires_at=datetime.now(UTC) + timedelta(minutes=5)))
        _wait(lambda: "lost its lease" in caplog.text, "the daemon to step down")
        _wait(lambda: "standing by: host:2:thief is active" in caplog.text, "the daemon to stand by")
        settled = my_runs()
        time.sleep(2.5)  # the send job is due every second: none of it may run here now
        assert my_runs() == settled
        assert current_lease(engine).holder == "host:2:thief"
    finally:
        daemon.request_stop()
        thread.join(timeout=30)
    assert not thread.is_alive()


def _wait(condition, what: str, timeout: float = 30) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_scheduled_commands_run_with_a_limit_and_report_failures(make_settings) -> None:
    import sys

    from monitor import child_process
    from monitor.scheduler import tasks

    settings = make_settings(
        scheduler={
            "commands": [
                {"id": "help", "cron": "0 3 * * 0", "argv": ["shopmon", "status", "--help"]},
                {"id": "fails", "cron": "0 3 * * 0", "argv": [sys.executable, "-c", "import sys; sys.exit('model gate refused')"]},
                {"id": "hangs", "cron": "0 3 * * 0", "argv": [sys.executable, "-c", "import time; time.sleep(60)"], "timeout_minutes": 0.02},
            ]
        }
    )
    assert tasks.command(settings, "help") == {"exit_code": 0}
    with pytest.raises(child_process.ChildFailed, match="model gate refused"):
        tasks.command(settings, "fails")
    with pytest.raises(child_process.JobTimeout, match="killed"):  # not the 60 s the command wanted
        tasks.command(settings, "hangs")
    with pytest.raises(ConfigError, match="no scheduler command"):
        tasks.command(settings, "gone")


def test_a_job_child_reports_held_elsewhere_as_itself_not_as_a_failure(make_settings, doubles) -> None:
    from monitor import child_process
    from monitor.errors import HeldElsewhere

    settings = make_settings()
    params = {"shop_id": "alpha", "timeout": 60}
    with pytest.raises(HeldElsewhere, match="crawl:alpha is held by host:7:other") as held:
        child_process.run_function("scheduler_doubles:crawl_held", settings, params, 60)
    assert not isinstance(held.value, child_process.ChildFailed)
    assert held.value.held_by == "host:7:other"
    # The exit status alone, without the child's report, is not taken for "held elsewhere".
    with pytest.raises(child_process.ChildFailed):
        child_process.run_function("scheduler_doubles:crawl_exits_75", settings, params, 60)
