"""An attack is one parent case; bulk updates are all or none and write each case's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from alerts.attacks import attack_members
from alerts.bulk import update_cases
from alerts.cases import CaseError, case_events, open_cases, update_case
from models import Case
from alerts_testkit import factory  # noqa: F401  (fixtures)

BOTH_DATABASES = True  # savepoints, time windows and lookups behave the same on both
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def attack(session, db_settings, factory) -> tuple[Case, list[Case]]:
    listing = factory.listing(factory.shop())
    reviews = [factory.review(listing, rating=1, text=f"fake {i}") for i in range(4)]
    factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                 members=[r.id for r in reviews])
    assert open_cases(session, db_settings, now=T0) == 5  # four reviews and the attack
    parent = session.exec(select(Case).where(Case.review_id.is_(None))).one()
    return parent, [factory.case_for(r) for r in reviews]


def test_members_hang_under_one_parent_and_a_rerun_adds_nothing(session, db_settings, attack) -> None:
    parent, members = attack
    assert parent.kinds == ["attack"] and parent.item_title == "Longjing green tea 250g"
    assert [m.id for m in attack_members(session, parent.id)] == [m.id for m in members]
    assert open_cases(session, db_settings, now=T0 + timedelta(hours=1)) == 0


def test_one_appeal_for_all_then_closed_together_each_with_its_history(session, attack) -> None:
    parent, members = attack
    update_case(session, members[0].id, actor="amy", state="modified", now=T0)  # one buyer already changed it
    done = update_cases(session, [parent.id], actor="lee", state="platform_appeal", note="appeal 5531", now=T0)
    assert [c.id for c in done] == [parent.id, *(m.id for m in members)]
    assert [m.state for m in members] == ["modified", "platform_appeal", "platform_appeal", "platform_appeal"]
    for m in members[1:]:
        assert [(e.action, e.actor) for e in case_events(session, m.id)][-2:] == [("state", "lee"), ("note", "lee")]
    update_cases(session, [parent.id], actor="lee", state="closed", now=T0 + timedelta(days=3))
    assert {c.state for c in (parent, *members)} == {"closed"}


def test_attack_option_updates_the_parent_and_every_member(session, attack) -> None:
    parent, members = attack
    update_cases(session, [], attack=parent.id, actor="amy", contact="wangwang", now=T0)
    assert {c.state for c in (parent, *members)} == {"contacted"}
    with pytest.raises(CaseError, match=f"case {members[0].id} is not an attack"):
        update_cases(session, [], attack=members[0].id, actor="amy", note="x", now=T0)


def test_bulk_update_is_all_or_none(session, attack) -> None:
    _, members = attack
    update_case(session, members[2].id, actor="amy", state="closed", now=T0)
    with pytest.raises(CaseError, match=f"case {members[2].id} cannot go from 'closed' to 'contacted'"):
        update_cases(session, [m.id for m in members], actor="amy", state="contacted", now=T0)
    session.expire_all()
    assert [m.state for m in session.exec(select(Case).where(Case.id.in_([m.id for m in members])).order_by(Case.id))] == [
        "open", "open", "closed", "open"
    ]
    with pytest.raises(CaseError, match="one buyer"):
        update_cases(session, [members[0].id, members[1].id], actor="amy", phone="13812345678", now=T0)
