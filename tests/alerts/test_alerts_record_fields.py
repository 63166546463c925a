"""The record's own fields: promise dates checked, contact details normalised and masked, compensation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from alerts.case_fields import contact_details, mask_order_no, mask_phone, parse_amount
from alerts.cases import case_events, open_cases, update_case
from models import Case
from models.roles import Role
from monitor.config import CasesConfig
from monitor.errors import DataError
from alerts_testkit import factory  # noqa: F401  (fixtures)

BOTH_DATABASES = True  # savepoints, time windows and lookups behave the same on both
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def case(session, db_settings, factory) -> Case:
    listing = factory.listing(factory.shop())
    review = factory.review(listing, rating=1, at=T0 - timedelta(days=2))
    open_cases(session, db_settings, now=T0)
    return factory.case_for(review)


def test_new_case_carries_the_review_time_and_the_buyer_platform_id(session, case) -> None:
    assert case.review_posted_at == T0 - timedelta(days=2)
    assert case.buyer_platform_id and case.buyer_platform_id.startswith("u")


def test_a_past_promise_date_is_refused_and_changes_nothing(session, case) -> None:
    update_case(session, case.id, actor="amy", contact="wangwang", now=T0)
    with pytest.raises(DataError, match="is in the past"):
        update_case(session, case.id, actor="amy", promise_date=T0 + timedelta(hours=1), now=T0 + timedelta(hours=2))
    session.refresh(case)
    assert (case.state, case.promised_by) == ("contacted", None)
    assert [e.action for e in case_events(session, case.id)] == ["opened", "contact", "state"]


def test_a_promise_beyond_the_platforms_edit_window_is_refused(session, case) -> None:
    update_case(session, case.id, actor="amy", contact="sms", now=T0)
    # Posted T0-2d: with 30 days to edit, the last chance is T0+28d.
    with pytest.raises(DataError, match=r"can no longer change the review \(30 days after it was posted"):
        update_case(session, case.id, actor="amy", promise_date=T0 + timedelta(days=29), now=T0)
    update_case(session, case.id, actor="amy", promise_date=T0 + timedelta(days=27), now=T0)
    short = CasesConfig(review_edit_days_by_platform={"taobao": 7})
    with pytest.raises(DataError, match="7 days after"):
        update_case(session, case.id, actor="amy", promise_date=T0 + timedelta(days=6), now=T0, config=short)


def test_phone_and_order_are_normalised_masked_and_kept_out_of_the_history(session, case) -> None:
    update_case(session, case.id, actor="amy", phone="138-1234 5678", order_no="TB20260301-9981", now=T0)
    assert (case.buyer_phone, case.order_no) == ("13812345678", "TB20260301-9981")
    events = case_events(session, case.id)
    assert events[-1].action == "details" and events[-1].data == {"fields": ["buyer_phone", "order_no"]}
    assert "13812345678" not in repr([e.model_dump() for e in events])
    assert contact_details(case, Role.STAFF, bulk=True) == {"buyer_phone": "138****5678", "order_no": "***********9981"}
    assert contact_details(case, Role.STAFF, bulk=False)["buyer_phone"] == "13812345678"  # to make the call
    assert contact_details(case, Role.ANALYST, bulk=False)["buyer_phone"] == "138****5678"
    assert contact_details(case, Role.SUPERVISOR, bulk=True)["order_no"] == "TB20260301-9981"
    with pytest.raises(DataError, match="6 to 15 digits"):
        update_case(session, case.id, actor="amy", phone="call me", now=T0)
    update_case(session, case.id, actor="amy", phone="", now=T0)
    assert case.buyer_phone is None
    assert (mask_phone("12345"), mask_order_no("1234")) == ("***45", "****1234")


def test_awaiting_compensation_needs_the_amount(session, case) -> None:
    update_case(session, case.id, actor="amy", contact="phoned", now=T0)
    with pytest.raises(DataError, match="needs the amount agreed"):
        update_case(session, case.id, actor="amy", state="awaiting_compensation", now=T0)
    update_case(session, case.id, actor="amy", compensation_cents=parse_amount("12.5"), now=T0)
    assert (case.state, case.compensation_cents) == ("awaiting_compensation", 1250)
    assert case_events(session, case.id)[-2].data == {"amount_cents": 1250}


@pytest.mark.parametrize("text", ["0", "-3", "1.234", "ten", "nan"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(DataError, match="amount"):
        parse_amount(text)


def test_messaged_is_kept_as_wangwangs_alias(session, case) -> None:
    update_case(session, case.id, actor="amy", contact="messaged", now=T0)
    assert session.exec(select(Case.contact_status).where(Case.id == case.id)).one() == "wangwang"
