"""Rules + sender against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import event
from sqlmodel import select

from alerts.cases import open_cases, update_case
from alerts.rules import evaluate, queue_report
from alerts.sender import backoff, send_pending
from alerts.silences import add_silence
from models import Alert, AlertAttempt, Case, CrawlRun
from alerts_testkit import alert_settings, factory, smtp_port, smtp_server  # noqa: F401  (fixtures)

BOTH_DATABASES = True  # storage, pipeline, case and alert behaviour must hold on SQLite and PostgreSQL

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def serious_review(factory, listing, **kw):
    # 1 star (+3) on a listing with 2000 sales (+2): "high"
    return factory.review(listing, rating=1, **kw)


def run_pipeline(session, settings, now):
    open_cases(session, settings, now=now)
    n = evaluate(session, settings, now=now)
    session.commit()
    return n


def alert_ids(received) -> list[int]:
    return [int(i) for i in received.message["X-Shopmon-Alerts"].split(",")]


def test_related_alerts_go_out_as_one_grouped_email_after_the_window(session, alert_settings, factory, smtp_server):
    shop = factory.shop("Tea House")
    listing = factory.listing(shop, sales=2000)
    first = serious_review(factory, listing, nick="a***1", text="Leaves were dusty.")
    second = serious_review(factory, listing, nick="b***2", text="Arrived opened.", helpful_votes=15)
    factory.review(listing, rating=3)  # low severity: a case, but no immediate alert
    assert run_pipeline(session, alert_settings, T0) == 2

    assert send_pending(alert_settings, now=T0 + timedelta(minutes=4)).claimed == 0  # window still open
    summary = send_pending(alert_settings, now=T0 + timedelta(minutes=5))
    assert summary.as_dict() | {} == {"claimed": 2, "sent": 2, "emails": 1, "retrying": 0, "failed": 0, "deferred": 0, "reclaimed": 0}

    [got] = smtp_server.messages
    assert got.rcpt_tos == ["service@shop.example"]
    assert got.mail_from == "shopmon@shop.example"
    assert got.message["Subject"] == "shopmon: 2 serious bad reviews need handling (Tea House)"
    text = got.message.get_body(("plain",)).get_content()
    html = got.message.get_body(("html",)).get_content()
    case_second = factory.case_for(second)
    case_first = factory.case_for(first)
    # Worst first: the review with 15 helpful votes is critical.
    assert text.index(f"#{case_second.id}") < text.index(f"#{case_first.id}")
    assert "Leaves were dusty." in text and "Arrived opened." in html
    assert case_second.severity == "critical"
    assert send_pending(alert_settings, now=T0 + timedelta(hours=1)).claimed == 0
    assert len(smtp_server.messages) == 1


def test_attack_is_immediate_and_reaches_supervisors(session, alert_settings, factory, smtp_server):
    listing = factory.listing(factory.shop(), sales=10)
    members = [factory.review(listing, rating=1, nick=f"x***{i}", text=f"bad {i}") for i in range(3)]
    factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                 shop_id=listing.shop_id, members=[m.id for m in members], reasons=["3 one-star reviews in 10 minutes"])
    run_pipeline(session, alert_settings, T0)
    send_pending(alert_settings, now=T0)  # no waiting for the group window
    attack = [m for m in smtp_server.messages if m.message["X-Shopmon-Kind"] == "attack"]
    assert len(attack) == 1
    assert sorted(attack[0].rcpt_tos) == ["security@shop.example", "supervisor@shop.example"]
    assert attack[0].message["Subject"] == f"shopmon: Coordinated attack detected on {listing.title} (3 reviews)"
    body = attack[0].message.get_body(("plain",)).get_content()
    assert "3 one-star reviews in 10 minutes" in body and "x***2" in body


def test_a_later_attack_on_the_same_listing_is_alerted_again(session, alert_settings, factory, smtp_server):
    listing = factory.listing(factory.shop(), sales=10)
    first = [factory.review(listing, rating=1, nick=f"x***{i}", text=f"bad {i}") for i in range(3)]
    flag = factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                        shop_id=listing.shop_id, members=[m.id for m in first], reasons=["burst"])
    run_pipeline(session, alert_settings, T0)
    send_pending(alert_settings, now=T0)
    assert run_pipeline(session, alert_settings, T0 + timedelta(hours=1)) == 0  # the same attack: no news

    later = [factory.review(listing, rating=1, nick=f"y***{i}", text=f"worse {i}", at=T0 + timedelta(days=60))
             for i in range(3)]
    flag.members = [m.id for m in first + later]
    flag.incident = 1  # what detection records for a burst weeks after the last one
    session.add(flag)
    session.commit()
    run_pipeline(session, alert_settings, T0 + timedelta(days=60))
    send_pending(alert_settings, now=T0 + timedelta(days=60))
    attack = [m for m in smtp_server.messages if m.message["X-Shopmon-Kind"] == "attack"]
    assert len(attack) == 2
    body = attack[1].message.get_body(("plain",)).get_content()
    assert "y***2" in body  # the alert shows the new attack's reviews first


def test_smtp_down_keeps_alerts_queued_then_delivers_exactly_once(session, tmp_path, factory, smtp_port):
    from alerts_testkit import SmtpServer, make_settings

    from monitor.db import upgrade

    settings = make_settings(tmp_path, smtp_port, group_window_minutes=0)
    upgrade(settings)
    listing = factory.listing(factory.shop(), sales=2000)
    serious_review(factory, listing)
    serious_review(factory, factory.listing(factory.shop("Other"), sales=2000))
    assert run_pipeline(session, settings, T0) == 2

    down = send_pending(settings, now=T0)
    # The first email finds the server down; the second is not even tried (it would fail the
    # same way) and waits for the same retry time without spending an attempt.
    assert (down.sent, down.retrying, down.deferred, down.failed) == (0, 1, 1, 0)
    alerts = session.exec(select(Alert).order_by(Alert.id)).all()
    for a in alerts:
        session.refresh(a)
    assert sorted((a.status, a.attempts, a.claimed_by) for a in alerts) == [("pending", 0, None), ("pending", 1, None)]
    assert all(a.next_attempt_at == T0 + backoff(1) for a in alerts)
    attempts = session.exec(select(AlertAttempt)).all()
    assert len(attempts) == 1 and not attempts[0].ok and attempts[0].temporary
    assert "cannot reach SMTP server 127.0.0.1" in attempts[0].error

    server = SmtpServer(smtp_port)
    server.start()
    try:
        assert send_pending(settings, now=T0 + timedelta(seconds=30)).claimed == 0  # backing off
        up = send_pending(settings, now=T0 + timedelta(minutes=1))
        assert (up.sent, up.emails) == (2, 2)
        assert send_pending(settings, now=T0 + timedelta(hours=2)).claimed == 0
        assert sorted(i for m in server.messages for i in alert_ids(m)) == sorted(a.id for a in alerts)
    finally:
        server.stop()
    for a in alerts:
        session.refresh(a)
    assert sorted((a.status, a.attempts) for a in alerts) == [("sent", 1), ("sent", 2)]


def test_permanent_refusal_stops_and_temporary_gives_up_after_max_attempts(session, tmp_path, factory, smtp_port):
    from aiosmtpd.controller import Controller

    from alerts_testkit import make_settings
    from monitor.db import upgrade

    class Refuse:
        code = "550 5.7.1 rejected by policy"

        async def handle_DATA(self, server, sess, envelope):  # noqa: N802, ANN001, ANN201
            return self.code

    settings = make_settings(tmp_path, smtp_port, group_window_minutes=0, max_attempts=2)
    upgrade(settings)
    serious_review(factory, factory.listing(factory.shop(), sales=2000))
    run_pipeline(session, settings, T0)
    handler = Refuse()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        summary = send_pending(settings, now=T0)
        assert (summary.failed, summary.retrying) == (1, 0)
        alert = session.exec(select(Alert)).one()
        session.refresh(alert)
        assert (alert.status, alert.attempts) == ("failed", 1)
        assert "550" in alert.last_error

        serious_review(factory, factory.listing(factory.shop("B"), sales=2000))
        run_pipeline(session, settings, T0 + timedelta(minutes=1))
        handler.code = "451 4.3.0 try later"
        # Shop B's alert, and the ops (crawl_health) alert the first failure raised.
        assert send_pending(settings, now=T0 + timedelta(minutes=1)).retrying == 2
        assert send_pending(settings, now=T0 + timedelta(minutes=2)).failed == 2  # second of max 2 attempts
    finally:
        controller.stop()
    kinds = sorted((a.kind, a.status) for a in session.exec(select(Alert)).all())
    assert kinds == [("crawl_health", "failed"), ("serious_case", "failed"), ("serious_case", "failed")]


def test_escalation_after_48h_without_progress_under_frozen_time(session, alert_settings, factory, smtp_server):
    import time_machine

    review = factory.review(factory.listing(factory.shop()), rating=3)  # low: no serious alert
    open_cases(session, alert_settings, now=T0)
    session.commit()
    case = factory.case_for(review)
    with time_machine.travel(T0 + timedelta(hours=47, minutes=59), tick=False):
        assert evaluate(session, alert_settings) == 0
    with time_machine.travel(T0 + timedelta(hours=48), tick=False):
        assert evaluate(session, alert_settings) == 1
        assert evaluate(session, alert_settings) == 0
        session.commit()
        # 09:00 is before the first call window (alerts.call_windows, 10:00-12:00): held until 10:00
        assert send_pending(alert_settings, now=T0 + timedelta(hours=48, minutes=5)).emails == 0
        assert send_pending(alert_settings, now=T0 + timedelta(hours=49, minutes=5)).emails == 1
    [got] = smtp_server.messages
    assert got.rcpt_tos == ["lead@shop.example"]
    assert got.message["Subject"] == "shopmon: 1 case(s) without progress for 48 h: call the buyer (Tea House)"
    assert "Next step: phone the buyer." in got.message.get_body(("plain",)).get_content()
    assert case.escalated_at == T0 + timedelta(hours=48)

    # Progress resets the clock; a new stall escalates again, once.
    update_case(session, case.id, actor="amy", contact="phoned", now=T0 + timedelta(hours=50))
    assert evaluate(session, alert_settings, now=T0 + timedelta(hours=97)) == 0
    assert evaluate(session, alert_settings, now=T0 + timedelta(hours=98)) == 1
    escalations = session.exec(select(Alert).where(Alert.kind == "escalation").order_by(Alert.id)).all()
    assert escalations[-1].payload["next_step"] == "platform"


def test_broken_promise_escalates_and_business_hours_defer(session, tmp_path, factory):
    from alerts_testkit import make_settings
    from monitor.db import upgrade

    settings = make_settings(tmp_path, None, business_hours=["09:00:00", "18:00:00"], timezone="Asia/Shanghai")
    upgrade(settings)
    review = factory.review(factory.listing(factory.shop()), rating=3)
    open_cases(session, settings, now=T0)
    case = factory.case_for(review)
    update_case(session, case.id, actor="amy", contact="sms", now=T0)
    update_case(session, case.id, actor="amy", promise_date=T0 + timedelta(hours=10), now=T0)
    # T0 + 12 h is 05:00 in Shanghai: outside business hours, nothing yet.
    assert evaluate(session, settings, now=T0 + timedelta(hours=12)) == 0
    # T0 + 16 h is 09:00 in Shanghai.
    assert evaluate(session, settings, now=T0 + timedelta(hours=16)) == 1
    alert = session.exec(select(Alert).where(Alert.kind == "escalation")).one()
    assert alert.payload["broken_promise"] is True
    assert "promised to update the review" in alert.payload["reason"]


def test_silence_suppresses_only_what_it_names(session, alert_settings, factory, smtp_server):
    shop = factory.shop()
    muted = factory.listing(shop, sales=2000, title="Muted tea")
    loud = factory.listing(shop, sales=2000, title="Loud tea")
    serious_review(factory, muted)
    serious_review(factory, loud)
    add_silence(session, listing_id=muted.id, until=T0 + timedelta(days=1), created_by="amy", reason="known issue", now=T0)
    assert run_pipeline(session, alert_settings, T0) == 1
    rows = {a.payload["item_title"]: a for a in session.exec(select(Alert)).all()}
    assert rows["Muted tea"].status == "suppressed" and "silence #" in rows["Muted tea"].last_error
    send_pending(alert_settings, now=T0 + timedelta(minutes=10))
    [got] = smtp_server.messages
    assert "Loud tea" in got.message["Subject"] and "Muted tea" not in got.message.get_body(("plain",)).get_content()
    # After the silence ends the review is not announced again as new (it was recorded once);
    # only the time-based rules (reminders, escalations) speak about it from now on.
    evaluate(session, alert_settings, now=T0 + timedelta(days=2))
    firsts = session.exec(select(Alert.dedup_key).where(Alert.dedup_key.like("serious_case:review:%"))).all()
    assert len(firsts) == 2
    later = session.exec(select(Alert).where(Alert.created_at > T0)).all()
    assert {a.kind for a in later} == {"serious_case", "escalation"} and all(a.status == "pending" for a in later)
    assert all(a.payload.get("reminder") for a in later if a.kind == "serious_case")


def test_same_review_never_alerts_twice_but_open_serious_cases_get_reminders(session, alert_settings, factory):
    listing = factory.listing(factory.shop(), sales=2000)
    review = serious_review(factory, listing)
    assert run_pipeline(session, alert_settings, T0) == 1
    factory.flag("malicious", target_type="review", target_id=review.id)  # severity rises
    assert run_pipeline(session, alert_settings, T0 + timedelta(hours=1)) == 0
    assert run_pipeline(session, alert_settings, T0 + timedelta(hours=23)) == 0
    assert evaluate(session, alert_settings, now=T0 + timedelta(hours=24)) == 1  # reminder 1
    assert evaluate(session, alert_settings, now=T0 + timedelta(hours=30)) == 0
    case = factory.case_for(review)
    update_case(session, case.id, actor="amy", state="modified", contact="phoned", now=T0 + timedelta(hours=31))
    assert evaluate(session, alert_settings, now=T0 + timedelta(hours=72)) == 0  # resolved: quiet
    kinds = [(a.kind, a.payload.get("reminder")) for a in session.exec(select(Alert).order_by(Alert.id)).all()]
    assert kinds == [("serious_case", None), ("serious_case", 1)]


def test_hostile_review_and_nickname_arrive_harmless(session, alert_settings, factory, smtp_server):
    listing = factory.listing(factory.shop(), sales=2000, url="javascript:alert(1)", title='Tea "<b>bold</b>"')
    serious_review(
        factory, listing, nick="evil\r\nBcc: victim@evil.example", text='<script>alert("x")</script><img src=x onerror=alert(1)>'
    )
    run_pipeline(session, alert_settings, T0)
    send_pending(alert_settings, now=T0 + timedelta(minutes=5))
    [got] = smtp_server.messages
    assert got.rcpt_tos == ["service@shop.example"]
    msg = got.message
    assert msg["Bcc"] is None and "victim@evil.example" not in str(msg["To"])
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert "evil Bcc: victim@evil.example" in msg["Subject"]  # shown, as text, on one line
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "onerror=alert(1)&gt;" in html
    assert "javascript:" not in html.replace("&lt;", "")
    assert "<b>bold</b>" not in html
    text = msg.get_body(("plain",)).get_content()
    assert '<script>alert("x")</script>' in text  # plain text keeps the words, nothing executes there
    raw_headers = bytes(got.message)[: bytes(got.message).index(b"\r\n\r\n")] if b"\r\n\r\n" in bytes(got.message) else b""
    assert b"\nBcc:" not in raw_headers


def test_bidi_controls_are_neutralised_in_html_and_text(session, alert_settings, factory, smtp_server):
    """Issue 12 item 6: U+202E reached the HTML part raw and reversed what staff read."""
    bidi = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    listing = factory.listing(factory.shop("Tea\u202eHouse"), sales=2000, title="Oolong \u202egpj.exe")
    serious_review(factory, listing, nick="a\u2067***\u2069b", text="退款\u202e!won dnuofer")
    run_pipeline(session, alert_settings, T0)
    send_pending(alert_settings, now=T0 + timedelta(minutes=5))
    [got] = smtp_server.messages
    html = got.message.get_body(("html",)).get_content()
    text = got.message.get_body(("plain",)).get_content()
    for part in (html, text, str(got.message["Subject"])):
        assert not any(ch in part for ch in bidi), part
    assert "退款!won dnuofer" in html and "Oolong gpj.exe" in html


def test_crawl_health_and_image_mismatch_alerts(session, alert_settings, factory, smtp_server):
    shop = factory.shop("Tea House")
    listing = factory.listing(shop)
    session.add(CrawlRun(shop_id=shop.id, shop_config_id="tea", spider="taobao", status="failed",
                         failure_kind="captcha", error="captcha page at https://s.example/verify\nCookie: secret=1",
                         started_at=T0, finished_at=T0))
    session.add(CrawlRun(shop_id=shop.id, spider="taobao", status="ok", started_at=T0))
    factory.flag("image_mismatch", target_type="listing", target_id=listing.id, listing_id=listing.id,
                 reasons=["main image shows a teapot, title says green tea"])
    assert run_pipeline(session, alert_settings, T0) == 2
    assert evaluate(session, alert_settings, now=T0 + timedelta(minutes=1)) == 0
    send_pending(alert_settings, now=T0 + timedelta(minutes=5))
    by_kind = {m.message["X-Shopmon-Kind"]: m for m in smtp_server.messages}
    assert by_kind["crawl_health"].rcpt_tos == ["ops@shop.example"]
    assert by_kind["crawl_health"].message["Subject"] == "shopmon: Crawl failing for Tea House: captcha"
    body = by_kind["crawl_health"].message.get_body(("plain",)).get_content()
    assert "captcha page" in body and "secret=1" not in body
    assert by_kind["image_mismatch"].rcpt_tos == ["catalog@shop.example"]
    assert "teapot" in by_kind["image_mismatch"].message.get_body(("html",)).get_content()


def test_outbox_when_no_smtp_host_and_chinese_templates(session, tmp_path, factory):
    from alerts_testkit import make_settings
    from monitor.db import upgrade

    settings = make_settings(tmp_path, None, language="zh", group_window_minutes=0)
    upgrade(settings)
    serious_review(factory, factory.listing(factory.shop("茶叶店"), sales=2000, title="龙井绿茶"), nick="小***明")
    run_pipeline(session, settings, T0)
    assert send_pending(settings, now=T0).emails == 1
    [eml] = list(settings.outbox_path.glob("*.eml"))
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "service@shop.example"
    assert "小***明 给 龙井绿茶 打了 1 星" in msg["Subject"]
    assert "处理建议" in msg.get_body(("plain",)).get_content()
    assert "lang=\"zh\"" in msg.get_body(("html",)).get_content()


def test_no_recipients_means_not_queued_until_configured(session, db_settings, factory):
    serious_review(factory, factory.listing(factory.shop(), sales=2000))
    open_cases(session, db_settings, now=T0)
    assert evaluate(session, db_settings, now=T0) == 0
    assert session.exec(select(Alert)).all() == []


def test_unrouted_rules_read_no_cases_and_alert_once_someone_is_configured(session, db_settings, factory, caplog):
    """With nobody to tell, the case rules skip their reads (every alert would be left unwritten)
    and say so once per kind, not once per case; configured later, the alerts come then."""
    listing = factory.listing(factory.shop(), sales=2000)
    for _ in range(3):
        serious_review(factory, listing)
    open_cases(session, db_settings, now=T0)
    later = T0 + timedelta(hours=49)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with caplog.at_level(logging.WARNING, logger="alerts.rules.queue"):
            assert evaluate(session, db_settings, now=later) == 0
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if re.search(r"\bFROM \"?case\"?\b", s)]
    warned = [r.getMessage() for r in caplog.records if "no recipients configured" in r.getMessage()]
    assert len(warned) == len(set(warned)) and any("serious_case" in w for w in warned)
    assert session.exec(select(Alert)).all() == []
    assert all(c.escalated_at is None for c in session.exec(select(Case)).all())

    db_settings.alerts.recipients = {"serious_case": ["service@shop.example"], "escalation": ["lead@shop.example"]}
    assert evaluate(session, db_settings, now=later) == 6
    kinds = sorted(a.kind for a in session.exec(select(Alert)).all())
    assert kinds == ["escalation"] * 3 + ["serious_case"] * 3
    assert all(c.escalated_at == later for c in session.exec(select(Case)).all())


def test_daily_digest_and_weekly_report(session, alert_settings, factory, smtp_server):
    listing = factory.listing(factory.shop(), sales=10)
    day = T0 - timedelta(hours=5)  # Monday 04:00 UTC: inside the digest day (Sunday? no: Monday) below
    r1 = factory.review(listing, rating=1, at=T0 - timedelta(days=1))
    factory.review(listing, rating=5, at=T0 - timedelta(days=1))
    factory.review(listing, rating=4, at=T0 - timedelta(days=3))
    open_cases(session, alert_settings, now=T0 - timedelta(days=1))
    factory.flag("cause", target_type="review", target_id=r1.id, label="quality", created_at=T0 - timedelta(days=1))
    open_cases(session, alert_settings, now=T0 - timedelta(days=1))
    case = factory.case_for(r1)
    update_case(session, case.id, actor="amy", contact="messaged", now=T0 - timedelta(days=1) + timedelta(hours=2))
    session.commit()
    assert day < T0
    assert queue_report(session, alert_settings, "daily_digest", now=T0) == 1
    assert queue_report(session, alert_settings, "daily_digest", now=T0 + timedelta(hours=1)) == 0
    digest = session.exec(select(Alert).where(Alert.kind == "daily_digest")).one()
    p = digest.payload
    assert p["period"]["label"] == "2026-03-01"
    assert (p["reviews_new"], p["bad_reviews_new"], p["cases_opened"]) == (2, 1, 1)
    assert p["by_cause"] == {"quality": 1} and p["by_flag"] == {"cause": 1}
    assert p["response"]["contacted"] == 1 and p["response"]["median_minutes"] == 120.0
    assert p["open_by_age"]["1-2d"] == 1
    assert p["rating"]["avg"] == 3.0
    assert queue_report(session, alert_settings, "weekly_report", now=T0) == 1
    weekly = session.exec(select(Alert).where(Alert.kind == "weekly_report")).one()
    assert weekly.payload["period"]["label"] == "2026-W09"
    assert weekly.payload["reviews_new"] == 3
    session.commit()
    send_pending(alert_settings, now=T0)
    subjects = sorted(m.message["Subject"] for m in smtp_server.messages)
    assert subjects == ["shopmon: Daily digest for 2026-03-01", "shopmon: Weekly report for 2026-W09"]
    assert all(m.rcpt_tos == ["boss@shop.example"] for m in smtp_server.messages)


def test_unknown_report_kind_is_refused(session, alert_settings):
    from monitor.errors import DataError

    with pytest.raises(DataError, match="unknown report kind"):
        queue_report(session, alert_settings, "monthly", now=T0)  # type: ignore[arg-type]


def test_crawl_errors_are_scrubbed_of_secrets():
    from alerts.rules import scrub_error

    assert scrub_error("blocked at https://bob:hunter2@shop.example/x Cookie: sid=abc; token=xyz\nsecond") == (
        "blocked at https://[redacted]@shop.example/x Cookie: [redacted]"
    )
    assert scrub_error("GET /rate?token=abc&page=2 failed, password: hunter2") == (
        "GET /rate?token=[redacted]&page=2 failed, password: [redacted]"
    )
    assert scrub_error("  \n") is None


def test_huge_group_is_split_into_emails_of_at_most_100_alerts(session, tmp_path, factory, smtp_server):
    from alerts_testkit import make_settings
    from monitor.db import upgrade

    settings = make_settings(tmp_path, smtp_server.port, group_window_minutes=0)
    upgrade(settings)
    listing = factory.listing(factory.shop(), sales=2000)
    for i in range(130):
        serious_review(factory, listing, nick=f"n{i}")
    assert run_pipeline(session, settings, T0) == 130
    summary = send_pending(settings, now=T0)
    assert (summary.sent, summary.emails) == (130, 2)
    assert sorted(len(alert_ids(m)) for m in smtp_server.messages) == [30, 100]
