"""Adjusted rating, the reputation tests and the grade, on fixed data with hand-computed values."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from models import CrawlRun, ReputationSnapshot
from monitor.cli import main
from monitor.reputation.checks import ReviewFact, assess
from monitor.reputation.store import current, shop_facts, snapshot
from alerts_testkit import T0, Factory, factory  # noqa: F401

BOTH_DATABASES = True  # the figures must be the same on SQLite and PostgreSQL

GENUINE = [5] * 12 + [4] * 5 + [3] * 2 + [2]  # sum 88 over 20 reviews: mean 4.4
TEXTS = [
    "Fresh leaves, lovely aroma, will buy again", "Arrived quickly and well packed, nice tea",
    "Good value for the price, brews a clear cup", "Tastes like the tea my grandmother made",
    "Slightly bitter but fine with milk", "My husband drinks it every morning now",
    "Second order, same quality as the first", "The tin is pretty enough to keep",
    "Delivery took four days which was okay", "Sweet aftertaste, not smoky at all",
    "Gift for my boss and he liked it", "Smaller bag than I expected for this money",
    "Steep it for two minutes, perfect", "Some broken leaves at the bottom",
    "Seller answered my questions patiently", "Cheaper here than in the supermarket",
    "Strong flavour, good for cold brew", "Packaging smelled a little of plastic",
    "Would prefer a resealable pouch", "Colour of the liquor is bright green",
]


def _attacked_listing(factory: Factory):
    """20 genuine reviews over 20 days, then 10 one-star template reviews from 10 accounts in one hour."""
    shop = factory.shop()
    listing = factory.listing(shop)
    for i, rating in enumerate(GENUINE):
        factory.review(listing, rating=rating, text=TEXTS[i], at=T0 + timedelta(days=i))
    attack_day = T0 + timedelta(days=25)
    members = [
        factory.review(listing, rating=1, text="Fake product!!! Total scam, do not buy from this shop, cheaters",
                       at=attack_day + timedelta(minutes=5 * k)).id
        for k in range(10)
    ]
    factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id, shop_id=shop.id,
                 members=members)
    return shop, listing, members


def test_adjusted_rating_without_the_ten_attack_reviews_is_the_hand_computed_mean(session, factory, db_settings):
    shop, listing, members = _attacked_listing(factory)
    facts = shop_facts(session, shop.id)[listing.id]
    assert len(facts) == 30 and {f.id for f in facts if f.removed} == set(members)

    verdict = assess(facts, ZoneInfo("UTC"))
    assert verdict.adjusted_rating == 4.4  # 88 / 20, by hand
    assert verdict.rating == round((88 + 10) / 30, 2) == 3.27
    assert (verdict.reviews, verdict.removed) == (30, 10)

    checks = {c.key: c for c in verdict.checks}
    assert checks["flagged_share"].status == "fail" and checks["flagged_share"].value == round(10 / 30, 4)
    # One review a day, then ten on one day: the median day holds 1, so the limit is 5 and one day bursts.
    assert checks["burst_days"].params["days"] == 1 and checks["burst_days"].params["n"] == 10
    assert checks["near_duplicates"].params["n"] == 10 and checks["near_duplicates"].status == "fail"
    assert checks["rating_gap"].value == round(1.0 - 4.4, 2) and checks["rating_gap"].status == "fail"
    assert checks["professional_reviewers"].status == "pass"
    assert verdict.grade == "F"


def test_rejected_flags_keep_their_review_and_text_flags_remove_theirs(session, factory, db_settings):
    shop = factory.shop()
    listing = factory.listing(shop)
    reviews = [factory.review(listing, rating=r, text=TEXTS[i], at=T0 + timedelta(days=i))
               for i, r in enumerate([5, 4, 1, 1, 5])]
    factory.flag("malicious", target_type="review", target_id=reviews[2].id)
    factory.flag("deceptive", target_type="review", target_id=reviews[4].id)
    factory.flag("malicious", target_type="review", target_id=reviews[3].id, status="rejected")
    verdict = assess(shop_facts(session, shop.id)[listing.id], ZoneInfo("UTC"))
    assert verdict.adjusted_rating == round((5 + 4 + 1) / 3, 2)  # 3.33: reviews 0, 1 and the rejected 3
    assert verdict.removed == 2


def test_clean_listing_gets_an_a_and_every_test_passes():
    facts = [ReviewFact(id=i, rating=5 - i % 2, posted=T0 + timedelta(days=i), reviewer_id=i, text=TEXTS[i],
                        reviewer_reviews=2)
             for i in range(12)]
    verdict = assess(facts, ZoneInfo("UTC"))
    assert [c.status for c in verdict.checks] == ["pass"] * 6
    assert (verdict.grade, verdict.adjusted_rating, verdict.rating) == ("A", 4.5, 4.5)


def test_professional_reviewers_and_one_time_accounts_are_counted():
    facts = [ReviewFact(id=i, rating=1 if i < 4 else 5, posted=T0 + timedelta(days=i), reviewer_id=i,
                        professional=i < 2, reviewer_reviews=1 if i < 4 else 3)
             for i in range(10)]
    checks = {c.key: c for c in assess(facts, ZoneInfo("UTC")).checks}
    assert checks["professional_reviewers"].value == 0.2 and checks["professional_reviewers"].status == "fail"
    # 4 of 10 from single-review accounts: under half, so their -4 star gap is reported but passes.
    assert checks["one_time_reviewers"].value == 0.4 and checks["one_time_reviewers"].params["gap"] == -4.0
    assert checks["one_time_reviewers"].status == "pass"


def test_pipeline_snapshot_is_stored_once_per_crawl_and_builds_a_history(session, factory, db_settings):
    shop, listing, _ = _attacked_listing(factory)
    run = CrawlRun(shop_id=shop.id, spider="taobao", status="ok", started_at=T0, finished_at=T0)
    session.add(run)
    session.commit()
    assert snapshot(session, db_settings, now=T0) == 2  # the shop and its one listing
    assert snapshot(session, db_settings, now=T0) == 0  # same crawl: nothing new
    session.add(CrawlRun(shop_id=shop.id, spider="taobao", status="ok", started_at=T0, finished_at=T0 + timedelta(hours=4)))
    session.commit()
    assert snapshot(session, db_settings, now=T0 + timedelta(hours=4)) == 2
    rows = session.exec(select(ReputationSnapshot).where(ReputationSnapshot.scope == "listing")).all()
    assert [(r.adjusted_rating, r.grade, r.removed) for r in rows] == [(4.4, "F", 10)] * 2
    session.commit()
    entry = current(session, db_settings, shop="tea")[0]
    assert len(entry["history"]) == 2 and entry["adjusted_rating"] == 4.4


def test_cli_prints_the_tests_and_json(session, factory, db_settings, capsys, tmp_path):
    shop, listing, _ = _attacked_listing(factory)
    session.commit()
    config = tmp_path / "shopmon.toml"
    config.write_text(f'data_dir = "{db_settings.data_dir}"\n', encoding="utf-8")
    assert main(["--config", str(config), "reputation", "--listing", listing.external_id, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["listings"][0]["adjusted_rating"] == 4.4 and data[0]["listings"][0]["grade"] == "F"
    assert main(["--config", str(config), "reputation", "--shop", "tea"]) == 0
    out = capsys.readouterr().out
    assert "Adjusted rating 4.40" in out and "10 of 30 reviews (33%) judged fabricated" in out
    assert main(["--config", str(config), "reputation", "--shop", "nope"]) == 2
    assert "no shop 'nope'" in capsys.readouterr().err
