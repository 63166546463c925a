"""A failed scheduler job is alerted through the alert rules: silences and deduplication apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from scheduler_fixtures import make_settings  # noqa: F401  (fixture)
from alerts.silences import add_silence
from models.alerts import Alert
from monitor.db import get_engine
from monitor.scheduler.health import raise_job_alert

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def alerts(settings) -> list[Alert]:  # noqa: ANN001
    with Session(get_engine(settings)) as s:
        return list(s.exec(select(Alert).where(Alert.kind == "crawl_health")).all())


def test_a_failed_job_is_alerted_once_with_its_secrets_scrubbed(make_settings) -> None:  # noqa: F811
    settings = make_settings()
    boom = RuntimeError("relay refused: Authorization: Basic c2VjcmV0\nsecond line")
    assert raise_job_alert(settings, "alerts:send", T0, boom) == 1
    assert raise_job_alert(settings, "alerts:send", T0, boom) == 0  # the same occurrence
    [alert] = alerts(settings)
    assert alert.status == "pending"
    assert alert.payload["error"] == "relay refused: Authorization: [redacted]"


def test_a_silence_on_crawl_health_suppresses_the_scheduler_alert(make_settings) -> None:  # noqa: F811
    settings = make_settings()
    with Session(get_engine(settings)) as s:
        add_silence(s, kind="crawl_health", until=datetime.now(UTC) + timedelta(days=2), created_by="ops")
        s.commit()
    assert raise_job_alert(settings, "alerts:send", T0, RuntimeError("SMTP relay on fire")) == 0
    [alert] = alerts(settings)
    assert alert.status == "suppressed" and "silenced by silence" in alert.last_error
