"""Two people updating one case at the same moment: the second is refused, nothing is overwritten."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from alerts.cases import open_cases
from alerts.cases import workflow
from alerts.cases.states import CaseError
from models import Case, CaseEvent, Listing, Review, Shop
from monitor.db import get_engine

BOTH_DATABASES = True
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _one_case(settings) -> int:  # noqa: ANN001
    with Session(get_engine(settings)) as s:
        shop = Shop(platform="jd", external_id="s1", name="Shop")
        s.add(shop)
        s.flush()
        listing = Listing(platform="jd", external_id="l1", shop_id=shop.id, title="Kettle")
        s.add(listing)
        s.flush()
        s.add(Review(platform="jd", external_id="r1", listing_id=listing.id, shop_id=shop.id, rating=1,
                     text="arrived broken", first_seen=T0))
        s.flush()
        open_cases(s, settings, now=T0)
        s.commit()
        return s.exec(select(Case.id)).one()


def test_an_update_that_meets_another_committed_between_its_read_and_its_write_is_refused(
        db_settings, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    case_id = _one_case(db_settings)
    engine = get_engine(db_settings)
    original = workflow.check_transition
    raced: list[bool] = []

    def another_closes_it_meanwhile(case, current, target) -> None:  # noqa: ANN001
        # Li's update has read the case (open); Wang's close commits before Li's write.
        if not raced:
            raced.append(True)
            with Session(engine) as other:
                workflow.update_case(other, case_id, actor="wang", state="closed")
                other.commit()
        original(case, current, target)

    monkeypatch.setattr(workflow, "check_transition", another_closes_it_meanwhile)
    with Session(engine) as mine:
        with pytest.raises(CaseError, match="changed by someone else"):
            workflow.update_case(mine, case_id, actor="li", state="platform_appeal")
        mine.rollback()
    with Session(engine) as s:
        case = s.get(Case, case_id)
        moves = s.exec(select(CaseEvent.actor, CaseEvent.data).where(CaseEvent.case_id == case_id,
                                                                    CaseEvent.action == "state")).all()
    assert case.state == "closed" and case.closed_at is not None  # Wang's close was not overwritten
    assert [(actor, data["after"]) for actor, data in moves] == [("wang", "closed")]


def test_updates_one_after_another_each_apply(db_settings) -> None:  # noqa: ANN001
    case_id = _one_case(db_settings)
    with Session(get_engine(db_settings)) as s:
        workflow.update_case(s, case_id, actor="li", contact="wangwang")
        s.commit()
        workflow.update_case(s, case_id, actor="wang", state="closed")
        s.commit()
        assert s.get(Case, case_id).state == "closed"
