"""Post-crawl case opening reads the outbox of what detection changed, not the stored history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from alerts.cases import open_cases
from models import Case, Flag, Outbox, Review
from monitor.db import get_engine
from monitor.pipeline import process
from spiders.item_rows import ensure_shop
from spiders.storage import ItemStore

BOTH_DATABASES = True
NOW = datetime(2026, 6, 1, tzinfo=UTC)
COMPLAINTS = ["拉链第一天就坏了", "颜色和图片完全不一样", "快递压坏了盒子", "少发了一个充电器", "客服一直不回消息"]


def _store(settings, n: int, start: int = 0) -> None:
    with Session(get_engine(settings)) as session:
        shop_id = ensure_shop(session, "taobao", "tea", name="Tea").id
        session.commit()
    store = ItemStore(settings, shop_id=shop_id, platform="taobao", now=NOW)
    for i in range(start, start + n):
        store.store_review({"platform": "taobao", "review_id": f"r{i}", "listing_id": "L1", "rating": 1 if i % 2 else 5,
                            "text": COMPLAINTS[i // 2 % len(COMPLAINTS)] if i % 2 else f"很好用，推荐，第{i}次回购",
                            "created_at": (NOW - timedelta(days=1 + 3 * i)).isoformat(),
                            "raw": {"userMark": f"u{i}"}})
    store.close()


def test_pipeline_opens_cases_from_the_outbox_only(db_settings):
    settings = db_settings.model_copy(update={"detection": db_settings.detection.model_copy(
        update={"case_max_age_days": 0})})
    _store(settings, 6)
    assert process(settings, now=NOW)["cases_opened"] == 3
    with Session(get_engine(settings)) as s:
        assert s.exec(select(func.count()).select_from(Outbox)).one() == 0  # taken by the run that used it
        # A flag written behind detection's back (no outbox row) is not news to the pipeline ...
        praise = s.exec(select(Review.id).where(Review.external_id == "r0")).one()
        s.add(Flag(kind="malicious", target_type="review", target_id=praise, review_id=praise, score=0.9,
                   model_version="by-hand", reasons=["written by hand"]))
        s.commit()
    _store(settings, 2, start=6)
    counts = process(settings, now=NOW)
    assert counts["reviews_scored"] == 2 and counts["cases_opened"] == 1  # only the new bad review
    with Session(get_engine(settings)) as s:
        assert s.exec(select(Case).where(Case.review_id == praise)).first() is None
        # ... while a full run (``shopmon cases open``) still reads every flag.
        assert open_cases(s, settings, now=NOW) == 1
        s.commit()
        assert s.exec(select(Case).where(Case.review_id == praise)).one().kinds == ["malicious"]
