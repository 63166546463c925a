"""Sender details with transport doubles: ordering, stale claims, an unwritable outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlmodel import select

from alerts.cases import open_cases
from alerts.rules import evaluate
from alerts.delivery_state import claim_lease
from alerts.sender import send_pending
from alerts.transports import OutboxTransport, PermanentError
from models import Alert, AlertAttempt
from alerts_testkit import factory  # noqa: F401  (fixtures)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Recorder:
    """A transport that keeps messages in memory (the contract: send -> id, or raise)."""

    name = "memory"

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with = fail_with
        self.closed = False

    def send(self, message: EmailMessage) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
        return f"<m{len(self.sent)}@test>"

    def close(self) -> None:
        self.closed = True


def _settings(tmp_path):
    from alerts_testkit import make_settings
    from monitor.db import upgrade

    s = make_settings(tmp_path, None, group_window_minutes=0)
    upgrade(s)
    return s


def test_worst_group_is_sent_first(session, tmp_path, factory):
    settings = _settings(tmp_path)
    mild = factory.listing(factory.shop("Mild"), sales=2000)
    bad = factory.listing(factory.shop("Bad"), sales=2000)
    factory.review(mild, rating=1)  # high
    factory.review(bad, rating=1, helpful_votes=20)  # critical
    open_cases(session, settings, now=T0)
    evaluate(session, settings, now=T0)
    session.commit()
    transport = Recorder()
    assert send_pending(settings, now=T0, transport=transport).emails == 2
    assert [m["Subject"].split(":")[1].strip().split()[0] for m in transport.sent] == ["Critical", "High"]
    assert transport.closed
    ids = session.exec(select(AlertAttempt.message_id).order_by(AlertAttempt.id)).all()
    assert ids == ["<m1@test>", "<m2@test>"]


def test_claims_of_a_dead_sender_are_taken_back_after_the_lease(session, tmp_path, factory):
    settings = _settings(tmp_path)
    factory.review(factory.listing(factory.shop(), sales=2000), rating=1)
    open_cases(session, settings, now=T0)
    evaluate(session, settings, now=T0)
    alert = session.exec(select(Alert)).one()
    alert.status, alert.claimed_by, alert.claimed_at = "sending", "crashed:1:abc", T0
    session.add(alert)
    session.commit()
    transport = Recorder()
    assert send_pending(settings, now=T0 + claim_lease(settings) - timedelta(seconds=1), transport=transport).claimed == 0
    summary = send_pending(settings, now=T0 + claim_lease(settings) + timedelta(seconds=1), transport=transport)
    assert (summary.reclaimed, summary.sent) == (1, 1)
    assert len(transport.sent) == 1


def test_permanent_error_from_transport_marks_failed_without_retry(session, tmp_path, factory):
    settings = _settings(tmp_path)
    factory.review(factory.listing(factory.shop(), sales=2000), rating=1)
    open_cases(session, settings, now=T0)
    evaluate(session, settings, now=T0)
    session.commit()
    summary = send_pending(settings, now=T0, transport=Recorder(PermanentError("550 mailbox unavailable")))
    assert (summary.failed, summary.retrying) == (1, 0)
    assert send_pending(settings, now=T0 + timedelta(days=1), transport=Recorder()).claimed == 0
    attempt = session.exec(select(AlertAttempt)).one()
    assert (attempt.ok, attempt.temporary, attempt.error) == (False, False, "550 mailbox unavailable")


def test_unwritable_outbox_keeps_alerts_queued(session, tmp_path, factory):
    settings = _settings(tmp_path)
    factory.review(factory.listing(factory.shop(), sales=2000), rating=1)
    open_cases(session, settings, now=T0)
    evaluate(session, settings, now=T0)
    session.commit()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    summary = send_pending(settings, now=T0, transport=OutboxTransport(blocker / "outbox"))
    assert summary.retrying == 1
    alert = session.exec(select(Alert)).one()
    session.refresh(alert)
    assert alert.status == "pending" and "cannot write to outbox" in alert.last_error
    good = OutboxTransport(tmp_path / "outbox")
    assert send_pending(settings, now=T0 + timedelta(minutes=1), transport=good).sent == 1
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert not list((tmp_path / "outbox").glob(".*.tmp"))


def test_scheduler_job_failure_alerts_render(session, tmp_path):
    """The scheduler writes crawl_health rows for failed jobs with its own payload keys."""
    settings = _settings(tmp_path)
    session.add(Alert(kind="crawl_health", dedup_key="crawl_health:job:crawl:tea:1", group_key="crawl_health:scheduler:x",
                      recipients=["ops@shop.example"], severity="medium", next_attempt_at=T0, created_at=T0,
                      payload={"job_id": "crawl:tea", "failure_kind": "JobTimeout", "error": "crawl ran past 30 min",
                               "scheduled_for": T0.isoformat(), "shop_config_id": "tea"}))
    session.commit()
    transport = Recorder()
    assert send_pending(settings, now=T0, transport=transport).sent == 1
    [msg] = transport.sent
    # The failure kind is named for people (alerts.i18n.failure_name), not as the exception class.
    assert msg["Subject"] == "shopmon: Crawl failing for tea: ran too long"
    text = msg.get_body(("plain",)).get_content()
    assert "tea / crawl:tea: ran too long (2026-03-02 09:00 UTC)" in text and "crawl ran past 30 min" in text


def test_backlog_bigger_than_one_run_sends_worst_groups_first(session, tmp_path, factory):
    settings = _settings(tmp_path)
    for i in range(3):
        factory.review(factory.listing(factory.shop(f"High {i}"), sales=2000), rating=1)
    factory.review(factory.listing(factory.shop("Worst"), sales=2000), rating=1, helpful_votes=30)
    open_cases(session, settings, now=T0)
    evaluate(session, settings, now=T0)
    session.commit()
    transport = Recorder()
    assert send_pending(settings, now=T0, transport=transport, max_groups=1).emails == 1
    assert "Critical" in transport.sent[0]["Subject"]
