"""Detection does not depend on crawl order (issue 12, item 5).

The scheduler crawls one shop at a time and processes after each crawl; an operator may crawl
every shop first and process once. Both must end with the same flags and case severities:
reviewer and attack detection re-examine every reviewer whose history or text neighbourhood
changed in a run, across shops.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import Case, Flag, Listing, Review, Reviewer, ReviewSignature
from monitor.config import load_settings
from monitor.db import get_engine, upgrade
from monitor.detection import detect
from monitor.pipeline import process
from spiders.item_rows import ensure_shop
from spiders.storage import ItemStore

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
# One template posted by two accounts in each shop: alone, each shop shows one copy-paster pair.
TEMPLATE = "质量太差了，用了两天就坏了，客服也不理人，大家千万别买这家的东西，浪费钱又浪费时间"
GENUINE = [
    "物流很快，包装完好，东西和图片一样，很满意", "颜色有点偏暗，不过质量还可以，性价比不错",
    "第二次购买了，一直很好用，推荐给朋友了", "尺码偏小一号，建议买大一码，面料舒服",
    "Great value, arrived quickly and works as described", "Sturdy build, the strap feels solid",
]
SHOP_ITEMS: dict[str, list[dict]] = {}


def _review(shop: str, n: int, listing: str, user: str, hours: float, rating: int, text: str) -> dict:
    return {
        "platform": "taobao", "review_id": f"{shop}-r{n}", "listing_id": listing, "rating": rating, "text": text,
        "created_at": (T0 + timedelta(hours=hours)).isoformat(), "reviewer_nick": f"{user[0]}***{user[-1]}",
        "raw": {"userMark": user},
    }


def _shop_items(shop: str, offset: float) -> list[dict]:
    items = []
    n = 0
    for k in range(12):  # a normal trickle of genuine reviews from distinct buyers
        n += 1
        items.append(_review(shop, n, f"{shop}-L{k % 2}", f"{shop}-buyer{k}", offset - 40 + 3 * k, 5,
                             GENUINE[k % len(GENUINE)] + f" 第{k}单"))
    for j, user in enumerate((f"{shop}-tpl1", f"{shop}-tpl2")):
        n += 1
        items.append(_review(shop, n, f"{shop}-L{j}", user, offset + 0.2 * j, 1, TEMPLATE))
    for j in range(3):  # one account hammering both shops with different complaints
        n += 1
        items.append(_review(shop, n, f"{shop}-L{j % 2}", "roamer", offset + 1 + j,
                             1, f"第{j}次在{shop}买，{['做工粗糙线头很多', '发错颜色还不给换', '一洗就掉色严重'][j]}"))
    return items


def _store(settings, shop: str) -> None:
    with Session(get_engine(settings)) as session:
        shop_id = ensure_shop(session, "taobao", shop, name=shop).id
        session.commit()
    store = ItemStore(settings, shop_id=shop_id, platform="taobao", now=NOW)
    for item in _shop_items(shop, offset=2.0 if shop == "alpha" else 5.0):
        store.store_review(item)
    store.close()


def _outcome(settings) -> tuple[set, dict]:
    """Flags and case severities named by external ids (row ids differ between the two databases)."""
    with Session(get_engine(settings)) as s:
        reviewers = dict(s.exec(select(Reviewer.id, Reviewer.external_id)).all())
        reviews = dict(s.exec(select(Review.id, Review.external_id)).all())
        listings = dict(s.exec(select(Listing.id, Listing.external_id)).all())
        names = {"reviewer": reviewers, "review": reviews, "listing": listings}
        flags, flag_names = set(), {}
        for f in s.exec(select(Flag)):
            target = names.get(f.target_type, {}).get(f.target_id, f"{f.target_type}#{f.target_id}")
            members = tuple(sorted(reviews[m] for m in f.members))
            flags.add((f.kind, f.target_type, target, f.label, members))
            flag_names[f.id] = (f.kind, target)
        # a case opened for a flag (an attack's parent case) is named by that flag, not its row id
        cases = {reviews[c.review_id] if c.review_id else flag_names[c.flag_id]: (c.severity, tuple(sorted(c.kinds)))
                 for c in s.exec(select(Case))}
    return flags, cases


@pytest.fixture
def two_databases(tmp_path: Path):
    made = []
    for name in ("one_at_a_time", "all_first"):
        settings = load_settings(data_dir=tmp_path / name)
        upgrade(settings)
        made.append(settings)
    return made


def test_one_shop_at_a_time_ends_like_all_shops_at_once(two_databases):
    serial, batch = two_databases
    for shop in ("alpha", "beta"):  # what the scheduler does
        _store(serial, shop)
        process(serial, now=NOW)
    for shop in ("alpha", "beta"):
        _store(batch, shop)
    process(batch, now=NOW)

    serial_flags, serial_cases = _outcome(serial)
    batch_flags, batch_cases = _outcome(batch)
    pros = {f[2] for f in batch_flags if f[0] == "professional"}
    # The scenario matters: four accounts sharing one template across shops, one roaming account.
    assert {"alpha-tpl1", "alpha-tpl2", "beta-tpl1", "beta-tpl2", "roamer"} <= pros
    assert serial_flags == batch_flags
    assert serial_cases == batch_cases
    # And a later run with nothing new changes nothing.
    process(serial, now=NOW)
    assert _outcome(serial) == (serial_flags, serial_cases)


def test_runs_over_new_reviews_find_the_clusters_a_whole_database_run_finds(two_databases):
    serial, _ = two_databases
    for shop in ("alpha", "beta"):
        _store(serial, shop)
        process(serial, now=NOW)
    before = _outcome(serial)[0]
    with Session(get_engine(serial)) as session:
        detect(session, serial, rescore=True, now=NOW)  # clusters from every stored text at once
        session.commit()
        signed = session.exec(select(ReviewSignature.review_id)).all()
    assert _outcome(serial)[0] == before
    assert len(signed) == 2 * (2 + 3)  # every bad review with enough text, in both shops


def test_a_backlog_taken_in_slices_ends_like_the_backlog_at_once(tmp_path: Path, caplog):
    """An import or a first crawl leaves thousands of reviews to score; reviewer and attack
    detection take them ``catch_up_slice`` at a time, oldest first, so memory follows the slice."""
    whole = load_settings(data_dir=tmp_path / "whole")
    sliced = load_settings(data_dir=tmp_path / "sliced", detection={"catch_up_slice": 4})
    for settings in (whole, sliced):
        upgrade(settings)
        for shop in ("alpha", "beta"):
            _store(settings, shop)
    process(whole, now=NOW)
    with caplog.at_level("INFO", logger="monitor.detection.runner"):
        process(sliced, now=NOW)
    # 2 x 17 reviews in passes of 4
    assert sum("slice" in r.getMessage() for r in caplog.records) == 9
    whole_flags, whole_cases = _outcome(whole)
    assert {f[2] for f in whole_flags if f[0] == "professional"} >= {"alpha-tpl1", "beta-tpl2", "roamer"}
    assert _outcome(sliced) == (whole_flags, whole_cases)
