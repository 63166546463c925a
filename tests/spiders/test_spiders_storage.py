"""Storing items: upserts, edit history, deletions on full crawls, batch commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models import Listing, ListingImage, Review, Reviewer, ReviewRevision
from monitor.config import Settings
from monitor.db import get_engine
from spiders import storage
from spiders.parsing.common import listing_item, review_item
from spiders.item_rows import ensure_shop
from spiders.storage import ItemStore

BOTH_DATABASES = True  # storage, pipeline, case and alert behaviour must hold on SQLite and PostgreSQL


def _store(settings: Settings) -> ItemStore:
    with Session(get_engine(settings)) as s:
        shop = ensure_shop(s, "jd", "jd-test")
        s.commit()
        shop_id = shop.id
    return ItemStore(settings, shop_id=shop_id, platform="jd")


def _review(rid: str, text: str = "好评", rating: int = 5, **kw) -> dict:
    return review_item("jd", review_id=rid, listing_id="100", reviewer_nick=kw.pop("nick", "j***y"), text=text,
                       rating=rating, created_at=kw.pop("created_at", "2026-11-01T10:00:00+08:00"), **kw)


def test_upsert_listing_merges_card_and_item_page(db_settings: Settings) -> None:
    store = _store(db_settings)
    card = listing_item("jd", listing_id="100", title="水壶", review_count=3, images=["https://img/a.png"])
    page = listing_item("jd", listing_id="100", title="电热水壶 1.5L", price=89.0, currency="CNY",
                        images=["https://img/a.png", "https://img/b.png"])
    _, new1 = store.store_listing(card)
    _, new2 = store.store_listing(page)
    store.close()
    assert (new1, new2) == (["https://img/a.png"], ["https://img/b.png"])
    with Session(get_engine(db_settings)) as s:
        row = s.exec(select(Listing)).one()
        assert (row.title, row.price, row.review_count) == ("电热水壶 1.5L", 89.0, 3)  # nothing erased by None
        roles = s.exec(select(ListingImage.role).order_by(ListingImage.position)).all()
        assert roles == ["main", "gallery"]
    assert store.counts.listings_seen == 1 and store.counts.listings_new == 1


def test_reviews_new_unchanged_edited_and_deleted(db_settings: Settings) -> None:
    store = _store(db_settings)
    assert store.store_review(_review("1", "很好用"))[0] == "new"
    assert store.store_review(_review("2", "一般", 3, photos=["https://img/p.jpg"]))[0] == "new"
    store.close()

    again = _store(db_settings)
    assert again.store_review(_review("1", "很好用"))[0] == "unchanged"
    assert again.known_reviews("jd", ["1", "2", "3"]) == {"1", "2"}
    assert again.listing_state("jd", "100")[1] == 2
    # review 1 edited (rating and text), review 2 gone: a full crawl of the listing completes
    assert again.store_review(_review("1", "用了一周坏了", 1))[0] == "updated"
    assert again.record_misses("jd", "100", newer_than=None) == 0  # one complete crawl's word is not enough
    again.close()
    assert (again.counts.reviews_missing, again.counts.reviews_deleted) == (1, 0)

    again = _store(db_settings)
    assert again.store_review(_review("1", "用了一周坏了", 1))[0] == "unchanged"
    assert again.record_misses("jd", "100", newer_than=None) == 1  # the second complete crawl confirms
    again.close()

    with Session(get_engine(db_settings)) as s:
        one = s.exec(select(Review).where(Review.external_id == "1")).one()
        two = s.exec(select(Review).where(Review.external_id == "2")).one()
        assert (one.text, one.rating, one.revision_count, one.scored_at) == ("用了一周坏了", 1, 1, None)
        assert two.deleted_at is not None
        revs = s.exec(select(ReviewRevision).order_by(ReviewRevision.id)).all()
        assert [(r.change, r.old_text, r.old_rating) for r in revs] == [("edited", "很好用", 5), ("deleted", "一般", 3)]
        buyer = s.exec(select(ListingImage).where(ListingImage.role == "buyer")).one()
        assert buyer.url == "https://img/p.jpg"
        assert two.photos == ["https://img/p.jpg"]
        assert s.exec(select(Reviewer)).one().external_id == "j***y"
    assert again.counts.reviews_deleted == 1 and again.counts.reviews_missing == 0


def _crawl(settings: Settings, shown: list[dict], newer_than: str | None = None) -> ItemStore:
    store = _store(settings)
    for item in shown:
        store.store_review(item)
    store.listing_id_for("jd", "100")
    store.record_misses("jd", "100", newer_than=datetime.fromisoformat(newer_than) if newer_than else None)
    store.close()
    return store


def test_missed_review_shown_again_starts_over_and_old_ones_outside_the_window_stay(db_settings: Settings) -> None:
    old = _review("1", created_at="2026-10-01T10:00:00+08:00")
    mid = _review("2", created_at="2026-11-01T10:00:00+08:00")
    new = _review("3", created_at="2026-11-20T10:00:00+08:00")
    _crawl(db_settings, [old, mid, new])
    # the newest page shows only review 3 and ends at review 2's time: 1 is outside the window,
    # 2 sits on the boundary (it may be on the next page): neither is missed
    assert _crawl(db_settings, [new], newer_than="2026-11-01T10:00:00+08:00").counts.reviews_missing == 0
    assert _crawl(db_settings, [old, new]).counts.reviews_missing == 1  # all pages read: 2 is missing
    assert _crawl(db_settings, [old, mid, new]).counts.reviews_deleted == 0  # back: starts over
    with Session(get_engine(db_settings)) as s:
        two = s.exec(select(Review).where(Review.external_id == "2")).one()
        assert (two.missed_crawls, two.missing_since, two.deleted_at) == (0, None, None)
    assert _crawl(db_settings, [old, new]).counts.reviews_deleted == 0
    assert _crawl(db_settings, [old, new]).counts.reviews_deleted == 1


def test_follow_up_counts_as_an_edit(db_settings: Settings) -> None:
    store = _store(db_settings)
    store.store_review(_review("9", "还行"))
    assert store.store_review(_review("9", "还行", follow_up_text="用了一个月坏了"))[0] == "updated"
    store.close()


def test_reviewer_identity_prefers_platform_tokens(db_settings: Settings) -> None:
    store = _store(db_settings)
    store.store_review(_review("a", nick="x**9", raw={"userMark": "token-1"}))
    store.store_review(_review("b", nick="x**9", raw={"userMark": "token-2"}))
    store.close()
    with Session(get_engine(db_settings)) as s:
        assert sorted(s.exec(select(Reviewer.external_id)).all()) == ["token-1", "token-2"]


def test_batches_are_committed_before_the_end(db_settings: Settings, monkeypatch) -> None:
    """A crash mid-crawl keeps every full batch: rows are visible to others before close()."""
    monkeypatch.setattr(storage, "BATCH_SIZE", 5)
    store = _store(db_settings)
    for n in range(12):
        store.store_review(_review(str(n), f"评论{n}"))
    with Session(get_engine(db_settings)) as other:
        visible = len(other.exec(select(Review)).all())
    assert visible >= 10
    store.session.rollback()  # the process dies: the unflushed tail is lost, the batches are not
    with Session(get_engine(db_settings)) as other:
        assert len(other.exec(select(Review)).all()) == visible
    store.session.close()


def test_mis_decoded_reviews_are_marked(db_settings: Settings) -> None:
    store = _store(db_settings)
    store.store_review(_review("m", "\ufffd\ufffd质量"))
    store.close()
    with Session(get_engine(db_settings)) as s:
        assert s.exec(select(Review.decode_errors)).one() == 2


def test_shop_dsr_is_kept(db_settings: Settings) -> None:
    from models import Shop

    store = _store(db_settings)
    store.set_shop_dsr({"description": 4.5, "service": 4.6, "logistics": 4.6})
    store.close()
    with Session(get_engine(db_settings)) as s:
        dsr = s.exec(select(Shop)).one().dsr
        assert (dsr["description"], dsr["service"], dsr["logistics"]) == (4.5, 4.6, 4.6) and "seen_at" in dsr
