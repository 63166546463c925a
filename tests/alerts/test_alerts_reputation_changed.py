"""The pipeline's reputation step writes rows only for what the outbox says changed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models import ReputationSnapshot
from monitor import outbox
from monitor.labels.single import label_flag
from monitor.reputation.reads import latest
from monitor.reputation.changed import snapshot_changed
from alerts_testkit import T0, Factory, factory  # noqa: F401

BOTH_DATABASES = True


def _two_listings(factory: Factory):
    shop = factory.shop()
    one, two = factory.listing(shop, title="one"), factory.listing(shop, title="two")
    for i in range(4):
        factory.review(one, rating=5, text=f"fine tea {i}", at=T0 + timedelta(days=i))
        factory.review(two, rating=4, text=f"good cup {i}", at=T0 + timedelta(days=i))
    return shop, one, two


def _rows(session) -> list[tuple[str, int]]:
    return [(r.scope, r.target_id) for r in session.exec(select(ReputationSnapshot).order_by(ReputationSnapshot.id))]


def test_nothing_in_the_outbox_writes_nothing(session, factory, db_settings):
    _two_listings(factory)
    session.commit()
    assert snapshot_changed(session, db_settings, now=T0) == 0
    assert _rows(session) == []


def test_only_the_touched_listing_and_its_shop_get_new_rows(session, factory, db_settings):
    shop, one, two = _two_listings(factory)
    outbox.record(session, "reputation", "listing", [one.id, two.id])
    session.commit()
    assert snapshot_changed(session, db_settings, now=T0) == 3
    session.commit()
    assert snapshot_changed(session, db_settings, now=T0) == 0  # the outbox was taken
    before = latest(session, "listing")
    factory.review(two, rating=1, text="stale leaves", at=T0 + timedelta(days=9))
    outbox.record(session, "reputation", "listing", [two.id])
    session.commit()
    assert snapshot_changed(session, db_settings, now=T0 + timedelta(days=9)) == 2
    session.commit()
    assert _rows(session)[3:] == [("shop", shop.id), ("listing", two.id)]
    after = latest(session, "listing")
    assert after[one.id].id == before[one.id].id  # untouched: its row is still the latest
    assert (after[two.id].reviews, after[two.id].rating) == (5, round((4 * 4 + 1) / 5, 2))
    assert latest(session, "shop")[shop.id].reviews == 9  # the shop row counts every listing


def test_a_changed_attack_flag_moves_its_members_listing(session, factory, db_settings):
    shop, one, two = _two_listings(factory)
    members = [factory.review(one, rating=1, text=f"scam {k}", at=T0 + timedelta(days=5, minutes=k)).id
               for k in range(3)]
    flag = factory.flag("attack", target_type="listing", target_id=one.id, shop_id=shop.id, members=members)
    outbox.record(session, "reputation", "flag", [flag.id])
    session.commit()
    assert snapshot_changed(session, db_settings, now=T0) == 2
    session.commit()
    row = latest(session, "listing")[one.id]
    assert (row.reviews, row.removed, row.adjusted_rating) == (7, 3, 5.0)
    assert two.id not in latest(session, "listing")


def test_a_rejected_flag_brings_its_review_back(session, factory, db_settings):
    shop, one, _ = _two_listings(factory)
    bad = factory.review(one, rating=1, text="pay me or else", at=T0 + timedelta(days=6))
    flag = factory.flag("malicious", target_type="review", target_id=bad.id, review_id=bad.id,
                        listing_id=one.id, shop_id=shop.id)
    outbox.record(session, "reputation", "listing", [one.id])
    session.commit()
    snapshot_changed(session, db_settings, now=T0)
    session.commit()
    assert latest(session, "listing")[one.id].removed == 1
    label_flag(session, flag.id, "no", labeler="amy")
    session.commit()
    assert snapshot_changed(session, db_settings, now=T0 + timedelta(days=1)) == 2
    session.commit()
    assert latest(session, "listing")[one.id].removed == 0
