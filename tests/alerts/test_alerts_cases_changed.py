"""The pipeline's case opening (only_changed) links attack members the outbox names, and does
nothing at all when the outbox is empty."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from alerts.cases import open_cases, opening
from models import Case, CaseEvent
from monitor import outbox
from alerts_testkit import T0, factory  # noqa: F401

BOTH_DATABASES = True


def test_a_member_found_later_joins_its_attack_and_an_empty_outbox_does_nothing(session, factory, db_settings):
    settings = db_settings.model_copy(update={"detection": db_settings.detection.model_copy(
        update={"case_max_age_days": 0})})
    shop = factory.shop()
    listing = factory.listing(shop)
    members = [factory.review(listing, rating=1, text=f"scam shop {k}", at=T0 + timedelta(minutes=k)) for k in range(3)]
    flag = factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id, shop_id=shop.id,
                        members=[m.id for m in members[:2]])
    outbox.record(session, "cases", "review", [m.id for m in members[:2]])
    session.commit()
    assert open_cases(session, settings, now=T0, only_changed=True) == 3  # two cases and the attack's parent
    session.commit()
    parent = session.exec(select(Case).where(Case.flag_id == flag.id, Case.review_id.is_(None))).one()
    assert {c.parent_id for c in session.exec(select(Case).where(Case.review_id.is_not(None)))} == {parent.id}

    events = session.exec(select(func.count(CaseEvent.id))).one()
    assert open_cases(session, settings, now=T0, only_changed=True) == 0
    assert session.exec(select(func.count(CaseEvent.id))).one() == events  # nothing read, nothing written

    flag.members = [m.id for m in members]  # detection found a third member
    session.add(flag)
    outbox.record(session, "cases", "review", [members[2].id])
    session.commit()
    assert open_cases(session, settings, now=T0, only_changed=True) == 1
    session.commit()
    late = session.exec(select(Case).where(Case.review_id == members[2].id)).one()
    assert late.parent_id == parent.id


@pytest.mark.parametrize("open_slice", [None, 2], ids=["one-slice", "slices-of-2"])
def test_the_outboxs_reviews_taken_a_few_at_a_time_open_the_same_cases(session, factory, db_settings, open_slice,
                                                                       monkeypatch):
    """A first run after an import takes every stored review from the outbox; slices of them (as
    separate runs would take them) open, enrich and link exactly what one pass does."""
    if open_slice:
        monkeypatch.setattr(opening, "OPEN_SLICE", open_slice)
    settings = db_settings.model_copy(update={"detection": db_settings.detection.model_copy(
        update={"case_max_age_days": 0})})
    shop = factory.shop()
    listing = factory.listing(shop)
    pro = factory.reviewer()
    at = [T0 + timedelta(minutes=k) for k in range(8)]
    r = [factory.review(listing, rating=1, reviewer=pro, text="stale tea", at=at[0]),
         factory.review(listing, rating=5, reviewer=pro, text="lovely", at=at[1]),  # praise: no case
         factory.review(listing, rating=2, text="box crushed", at=at[2]),
         factory.review(listing, rating=1, text="pay me or else", at=at[3]),
         factory.review(listing, rating=1, text="scam shop a", at=at[4]),
         factory.review(listing, rating=5, text="fine", at=at[5]),
         factory.review(listing, rating=1, text="never again", at=at[6])]
    factory.flag("professional", target_type="reviewer", target_id=pro.id, review_id=r[0].id)
    factory.flag("cause", target_type="review", target_id=r[2].id, review_id=r[2].id, label="packaging")
    factory.flag("malicious", target_type="review", target_id=r[3].id, review_id=r[3].id)
    attack = factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                          shop_id=shop.id, members=[r[3].id, r[4].id])  # in two slices of 2, not the last
    outbox.record(session, "cases", "review", [x.id for x in r])
    session.commit()

    assert open_cases(session, settings, now=T0, only_changed=True) == 6  # five reviews and the attack's parent
    session.commit()
    cases = {c.review_id: c for c in session.exec(select(Case))}
    parent = cases.pop(None)
    assert parent.flag_id == attack.id
    assert set(cases) == {r[0].id, r[2].id, r[3].id, r[4].id, r[6].id}
    assert "professional" in cases[r[0].id].kinds and "malicious" in cases[r[3].id].kinds
    assert cases[r[2].id].cause == "packaging"
    assert {rid for rid, c in cases.items() if c.parent_id == parent.id} == {r[3].id, r[4].id}
    assert open_cases(session, settings, now=T0, only_changed=True) == 0
