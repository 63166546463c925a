"""The same lease, claims and job store on PostgreSQL (skipped when no local server answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import scheduler_doubles
from scheduler_fixtures import doubles, make_settings  # noqa: F401  (fixtures)
from monitor.db import get_engine
from monitor.scheduler import runs
from monitor.scheduler.lease import Lease
from monitor.scheduler.service import run_once
from monitor.scheduler.status import gather

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def test_once_lease_and_claims_on_postgresql(make_settings, doubles, pg_url) -> None:
    settings = make_settings(database_url=pg_url, shops=[])
    try:
        assert get_engine(settings).dialect.name == "postgresql"
        a, b = Lease(settings, 10, holder="a"), Lease(settings, 10, holder="b")
        assert a.acquire(T0) and not b.acquire(T0 + timedelta(seconds=5))
        assert b.acquire(T0 + timedelta(seconds=11))
        b.release()

        assert runs.claim(settings, "alerts:send", "send", T0, "a") is not None
        assert runs.claim(settings, "alerts:send", "send", T0, "b") is None

        ran = run_once(settings, now=T0 + timedelta(hours=2))  # Monday 08:00
        assert {r["job"]: r["event"] for r in ran} == {
            "alerts:send": "ok",
            "alerts:escalation": "ok",
            "report:daily_digest": "ok",
            "report:weekly_report": "ok",
        }
        assert [e["kind"] for e in scheduler_doubles.events(settings) if e["event"] == "report"] == [
            "daily_digest",
            "weekly_report",
        ]
        status = gather(settings, now=T0 + timedelta(hours=2))
        jobs = {j["id"]: j for j in status["jobs"]}
        assert jobs["report:daily_digest"]["next_run"] == T0.replace(day=3, hour=8)
        assert jobs["alerts:send"]["last_status"] == "ok"
    finally:
        get_engine(settings).dispose()
