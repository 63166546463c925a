"""Inhibition (a promise not yet due, a platform appeal), one advice line by precedence, and
phone escalations held for the shop's call windows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from alerts_testkit import T0, Factory, factory, make_settings, smtp_server  # noqa: F401
from sqlmodel import select

from alerts.callwindows import next_call_time
from alerts.cases import open_cases, update_case
from alerts.guidance import ATTACK, EXTORTION, case_kind, guidance_for
from alerts.render import build_message
from alerts.rules import evaluate
from alerts.sender import send_pending
from models import Alert, Case
from monitor.db import upgrade

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def settings(tmp_path):
    s = make_settings(tmp_path, timezone="Asia/Shanghai", group_window_minutes=0)
    upgrade(s)
    return s


def escalations(session) -> list[Alert]:  # noqa: ANN001
    return list(session.exec(select(Alert).where(Alert.kind == "escalation").order_by(Alert.id)).all())


def test_a_promised_case_is_not_escalated_or_reminded_before_its_date_and_is_after(session, settings, factory):
    opened = local("2026-12-03T09:25")
    listing = factory.listing(factory.shop(), sales=3000)  # a serious case: it also gets reminders
    review = factory.review(listing, rating=1, at=opened)
    open_cases(session, settings, now=opened)
    assert evaluate(session, settings, now=opened) == 1  # the serious-case alert
    case = factory.case_for(review)
    update_case(session, case.id, actor="amy", contact="sms", promise_date=local("2026-12-05T23:59"), now=opened)

    # 48 h without progress and two reminder periods later, the promise is still not due
    assert evaluate(session, settings, now=local("2026-12-05T09:25")) == 0
    assert evaluate(session, settings, now=local("2026-12-05T23:58")) == 0
    assert escalations(session) == [] and case.escalated_at is None

    # past the date: the broken promise escalates (and the reminders resume)
    assert evaluate(session, settings, now=local("2026-12-06T00:05")) >= 1
    [alert] = escalations(session)
    assert alert.payload["broken_promise"] is True and alert.payload["next_step"] == "phone"
    assert case.escalated_at == local("2026-12-06T00:05")


def test_an_appealed_extortion_case_waits_for_the_appeal_limit_and_is_never_told_to_phone(session, tmp_path, factory):
    settings = make_settings(tmp_path, timezone="Asia/Shanghai", group_window_minutes=0, appeal_limit_hours=72,
                             language="zh")
    upgrade(settings)
    t0 = local("2026-12-01T10:00")
    review = factory.review(factory.listing(factory.shop(), sales=3000), rating=1, at=t0,
                            text="不给我退50元我就天天给你差评")
    factory.flag("malicious", target_type="review", target_id=review.id)
    open_cases(session, settings, now=t0)
    case = factory.case_for(review)
    assert case.guidance == EXTORTION["zh"]
    update_case(session, case.id, actor="amy", state="platform_appeal", now=t0)

    # the escalation clock (48 h) and the reminders are held while the platform has the case
    for hours in (24, 48, 71):
        evaluate(session, settings, now=t0 + timedelta(hours=hours))
    assert escalations(session) == []
    assert not session.exec(select(Alert).where(Alert.dedup_key.like("%:repeat:%"))).all()

    evaluate(session, settings, now=t0 + timedelta(hours=72))
    [alert] = escalations(session)
    assert alert.payload["appeal_overdue"] is True and alert.payload["next_step"] == "appeal_overdue"
    # not a phone call: it is sent at once, whatever the hour in Shanghai
    assert alert.next_attempt_at == t0 + timedelta(hours=72)
    for language in ("en", "zh"):
        settings.alerts.language = language
        msg = build_message(settings, "escalation", [(alert.id, alert.payload, alert.severity)], ["x@shop.example"],
                            now=t0)
        text = msg["Subject"] + msg.get_body(("plain",)).get_content() + msg.get_body(("html",)).get_content()
        assert "phone" not in text.lower() and "call the buyer" not in text.lower() and "电话" not in text
    assert "平台申诉自" in text and "请主管催促平台处理" in text


def test_an_extortion_case_outside_an_appeal_escalates_to_the_platform_not_the_phone(session, settings, factory):
    t0 = local("2026-12-01T10:00")
    review = factory.review(factory.listing(factory.shop()), rating=1, at=t0)
    factory.flag("malicious", target_type="review", target_id=review.id)
    factory.flag("cause", target_type="review", target_id=review.id, label="quality")
    open_cases(session, settings, now=t0)
    evaluate(session, settings, now=t0 + timedelta(hours=48))
    [alert] = escalations(session)
    assert alert.payload["next_step"] == "appeal"
    assert factory.case_for(review).guidance == EXTORTION["en"]  # not also "apologise and refund"


def test_attack_members_get_one_advice_line(session, settings, factory):
    listing = factory.listing(factory.shop())
    members = [factory.review(listing, rating=1, text=f"fake {n}").id for n in range(10)]
    factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                 shop_id=listing.shop_id, members=members)
    for rid in members[:5]:
        factory.flag("cause", target_type="review", target_id=rid, label="quality")
    open_cases(session, settings, now=T0)
    cases = session.exec(select(Case).where(Case.review_id.in_(members))).all()
    assert len(cases) == 10
    assert {c.guidance for c in cases} == {ATTACK["en"]}
    assert all("\n" not in c.guidance and "refund" not in c.guidance for c in cases)


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["attack", "malicious", "professional"], "extortion"),
        (["professional", "attack"], "attack"),
        (["professional", "deceptive"], "professional"),
        (["deceptive", "watchlist"], "quality"),
        ([], "quality"),
    ],
)
def test_advice_precedence(kinds, expected):
    assert case_kind(kinds, "quality") == expected
    assert "\n" not in guidance_for(kinds, "quality", "en")


def test_a_phone_escalation_due_at_3am_is_sent_at_the_next_call_window(session, settings, factory, smtp_server):
    settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(
        update={"host": "127.0.0.1", "port": smtp_server.port, "security": "none"})})
    t0 = local("2026-12-01T03:00")
    review = factory.review(factory.listing(factory.shop()), rating=3, at=t0)  # low: only the escalation mails
    open_cases(session, settings, now=t0)
    due = t0 + timedelta(hours=48)  # 03:00 in Shanghai
    assert evaluate(session, settings, now=due) == 1
    session.commit()
    [alert] = escalations(session)
    assert alert.payload["next_step"] == "phone"
    assert alert.next_attempt_at == local("2026-12-03T10:00")
    assert factory.case_for(review).escalated_at == due  # the stall is recorded when found
    assert send_pending(settings, now=local("2026-12-03T09:59")).emails == 0
    assert smtp_server.messages == []
    assert send_pending(settings, now=local("2026-12-03T10:00")).emails == 1
    [got] = smtp_server.messages
    assert "Next step: phone the buyer." in got.message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ("2026-12-03T03:00", "2026-12-03T10:00"),
        ("2026-12-03T10:30", "2026-12-03T10:30"),  # inside a window: now
        ("2026-12-03T12:00", "2026-12-03T16:00"),  # a window's end is outside it
        ("2026-12-03T20:15", "2026-12-04T10:00"),
    ],
)
def test_next_call_time(wall, expected):
    windows = [(time(10), time(12)), (time(16), time(20))]
    assert next_call_time(local(wall), windows, "Asia/Shanghai") == local(expected)
    assert next_call_time(local(wall), [], "Asia/Shanghai") == local(wall)


def test_call_windows_are_checked(tmp_path):
    from monitor.config import load_settings
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match="call window 20:00-10:00 must end after it starts"):
        load_settings(data_dir=tmp_path, alerts={"call_windows": [["20:00", "10:00"]]})
