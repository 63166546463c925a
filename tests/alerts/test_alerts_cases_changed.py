"""The pipeline's case opening (only_changed) links attack members the outbox names, and does
nothing at all when the outbox is empty."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from alerts.cases import open_cases
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
