"""The weekly report on fixed data: every figure checked against a hand count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from alerts_testkit import T0, Factory, factory, make_settings  # noqa: F401
from sqlmodel import select

from alerts.cases import open_cases, update_case
from alerts.changes import follow_review_changes
from alerts.i18n import human_duration
from alerts.render import build_message
from alerts.reports import report_period, report_stats
from models import CrawlRun, Review
from monitor.reputation.store import snapshot

BOTH_DATABASES = True  # the figures must be the same on SQLite and PostgreSQL

# The report sent on Monday T0 covers Monday 2026-02-23 00:00 to Monday 2026-03-02 00:00 (UTC).
WEEK = T0.replace(hour=0) - timedelta(days=7)
BURST = ("burst: 6 bad reviews in 3 h vs baseline 0.05/h (Poisson p=2e-07); "
         "6 of 7 reviews in the window were bad vs 10% usually")
TEXTS = {
    1: "Half the leaves were dust and the tin arrived dented",
    2: "Weak flavour, not what the photos promised",
    3: "Last week's order: average tea, slow courier",
    4: "Good aroma, a little pricey for the amount",
    5: "Excellent spring harvest, will order again",
}


def day(n: int, hours: float = 0) -> object:
    return WEEK + timedelta(days=n, hours=hours)


@pytest.fixture
def week(session, factory: Factory, tmp_path):
    """Four reviews posted this week but crawled next Monday, one posted last week and crawled this week."""
    settings = make_settings(tmp_path)
    shop = factory.shop()
    listing = factory.listing(shop, title="Longjing 250g")
    posted = [(5, day(1, 3)), (1, day(2, 10)), (2, day(2, 12)), (4, day(4, 8))]
    reviews = []
    for rating, at in posted:
        r = factory.review(listing, rating=rating, at=at, text=TEXTS[rating])
        r.first_seen = T0 + timedelta(hours=1)  # crawl time: after the period; must not matter
        reviews.append(r)
        if rating <= 3:
            open_cases(session, settings, now=at)
    old = factory.review(listing, rating=3, at=WEEK - timedelta(days=5), text=TEXTS[3])
    old.first_seen = day(3)
    session.add_all([*reviews, old])
    one, two = factory.case_for(reviews[1]), factory.case_for(reviews[2])
    # amy: contacts after 0.15 h (9 minutes), the buyer modifies, then amy closes: one case, one resolution.
    update_case(session, one.id, actor="amy", contact="sms", now=day(2, 10.15))
    update_case(session, one.id, actor="amy", state="modified", now=day(3, 9))
    update_case(session, one.id, actor="amy", state="closed", now=day(4, 9))
    # bob: contacts after 2.5 h and gets a promise.
    update_case(session, two.id, actor="bob", contact="sms", now=day(2, 14.5))
    update_case(session, two.id, actor="bob", promise_date=day(9), now=day(3, 11))
    session.add(CrawlRun(shop_id=shop.id, spider="taobao", status="ok", started_at=day(1), finished_at=day(1, 1), reviews_new=3))
    session.add(CrawlRun(shop_id=shop.id, spider="taobao", status="failed", failure_kind="captcha", started_at=day(5)))
    # The one-star review turns out to be part of an attack: it leaves the adjusted rating.
    factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id, shop_id=shop.id,
                 members=[reviews[1].id], reasons=[BURST], created_at=day(2))
    snapshot(session, settings, now=day(5))
    session.commit()
    return settings, report_stats(session, settings, report_period(settings, "weekly_report", T0), now=T0)


def test_a_case_modified_then_closed_counts_once(week):
    _, p = week
    assert p["cases_resolved"] == 1
    assert p["outcomes"] == {"modified": 1, "deleted": 0, "promised": 1, "awaiting_compensation": 0,
                             "refused": 0, "platform_appeal": 0, "closed": 0}
    amy, bob = p["staff"]
    assert (amy["name"], amy["cases"], amy["contacts"], amy["resolved"], amy["median_response_minutes"]) == ("amy", 1, 1, 1, 9.0)
    assert (bob["name"], bob["resolved"], bob["median_response_minutes"], bob["open_owned"]) == ("bob", 0, 150.0, 0)


def test_counts_and_trend_use_the_review_posted_time(week):
    _, p = week
    assert (p["reviews_new"], p["bad_reviews_new"], p["cases_opened"]) == (4, 2, 2)
    current = [d for d in p["rating"]["trend"] if d["current"]]
    assert [d["day"] for d in current][0] == "2026-02-23" and len(current) == 7
    assert sum(d["reviews"] for d in current) == p["reviews_new"]
    assert p["rating"]["avg"] == (5 + 1 + 2 + 4) / 4
    assert p["rating"]["previous_avg"] == 3.0  # last week's review, though crawled this week
    assert sum(sum(c.values()) for c in p["daily_bad_by_cause"].values()) == p["bad_reviews_new"]
    assert p["daily_bad_by_cause"]["2026-02-25"] == {"unclassified": 2}
    assert p["rating"]["adjusted_avg"] == round((5 + 2 + 4) / 3, 2)  # this week's, the attack's 1 star left out
    # Reputation from the snapshot stored after the last crawl: 5,1,2,4,3 stars, the 1 left out; a 20 %
    # flagged share is a warning, the only one: grade B.
    assert [(s["grade"], s["rating"], s["adjusted_rating"], s["reviews"]) for s in p["shops"]] == [("B", 3.0, 3.5, 5)]
    assert p["worst_listings"][0]["bad_reviews"] == 2 and p["worst_listings"][0]["grade"] == "B"
    assert [(a["reviews"], a["first"], a["reasons"]) for a in p["attacks"]] == [(1, day(2, 10).isoformat(), [BURST])]
    assert p["crawl"] == {"runs": 2, "ok": 1, "failed": 1, "failures": {"captcha": 1}, "reviews_new": 3}


@pytest.mark.parametrize(
    ("minutes", "en", "zh"),
    [
        (0.15000000000000002 * 60, "9 min", "9 分钟"),
        (0.4, "<1 min", "不到 1 分钟"),
        (79.5, "80 min", "80 分钟"),
        (150.0, "2.5 h", "2.5 小时"),
        (120.0, "2 h", "2 小时"),
        (3000.0, "2 d 2 h", "2 天 2 小时"),
        (None, "-", "-"),
    ],
)
def test_durations_print_as_people_read_them(minutes, en, zh):
    assert human_duration(minutes, "en") == en
    assert human_duration(minutes, "zh") == zh


def test_the_email_carries_rounded_durations_and_inline_charts(week):
    settings, p = week
    msg = build_message(settings, "weekly_report", [(1, p, "low")], ["boss@shop.example"], now=T0)
    text = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",))
    html = html_part.get_content()
    assert "median 80 min" in text and "90th percentile 2.5 h" in text
    # Content-IDs are random (make_msgid) and may hold any digits: they are checked below, not here.
    assert "0.15" not in text and "0.15" not in re.sub(r'"cid:[^"]*"', '"cid:"', html)
    assert "amy: Cases worked 1, Contacts 1, Resolved 1, Median response 9 min" in text
    assert "Cases resolved: 1" in text and "review improved: 1" in text and "captcha: 1" in text
    images = [part for part in msg.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 3
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        assert image.get_content().startswith(b"\x89PNG")
    assert msg.get_content_type() == "multipart/alternative"
    assert html_part.get_content_type() == "text/html" and msg.get_payload()[1].get_content_type() == "multipart/related"


def test_a_zh_report_shows_the_attack_reason_in_chinese(week):
    settings, p = week
    settings.alerts.language = "zh"
    msg = build_message(settings, "weekly_report", [(1, p, "low")], ["boss@shop.example"], now=T0)
    for body in (msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()):
        assert "差评突增：3 小时内 6 条差评" in body and "burst" not in body and "9 分钟" in body


def test_deleted_review_is_its_own_outcome(session, factory, tmp_path):
    settings = make_settings(tmp_path)
    listing = factory.listing(factory.shop())
    review = factory.review(listing, rating=1, at=day(1))
    open_cases(session, settings, now=day(1))
    review.deleted_at = day(2)
    session.add(review)
    follow_review_changes(session, now=day(2))  # follows the deletion: the case becomes "modified"
    session.commit()
    p = report_stats(session, settings, report_period(settings, "weekly_report", T0), now=T0)
    assert p["outcomes"]["deleted"] == 1 and p["outcomes"]["modified"] == 0 and p["cases_resolved"] == 1
    assert session.exec(select(Review).where(Review.id == review.id)).one().deleted_at is not None
