"""The compensation ledger: a payment recorded on a case appears in its week's total, per ISO week in the team's zone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.cases import CaseError, case_events, open_cases
from alerts.ledger import parse_week, record_payment, weekly_ledger
from alerts_testkit import db_cli, factory  # noqa: F401  (fixtures)

BOTH_DATABASES = True  # savepoints, time windows and lookups behave the same on both
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def test_a_payment_appears_in_its_weeks_total_and_the_case_history(session, db_settings, factory) -> None:
    listing = factory.listing(factory.shop())
    a, b = (factory.review(listing, rating=1) for _ in range(2))
    open_cases(session, db_settings, now=T0)
    ca, cb = factory.case_for(a), factory.case_for(b)
    record_payment(session, ca.id, amount_cents=500, purpose="resent missing item", staff="amy", recorded_by="amy",
                   paid_at=T0 + timedelta(days=1), now=T0 + timedelta(days=2))
    record_payment(session, cb.id, amount_cents=1250, purpose="removed neutral review", staff="lee", recorded_by="sue",
                   paid_at=T0 + timedelta(days=2), now=T0 + timedelta(days=2))
    # Sunday 23:30 in Shanghai is Sunday 15:30 UTC: still the same week there.
    record_payment(session, ca.id, amount_cents=300, purpose="postage", staff="amy", recorded_by="amy",
                   paid_at=datetime(2026, 3, 8, 15, 30, tzinfo=UTC), now=T0 + timedelta(days=7))
    # Monday 00:30 in Shanghai: the next week.
    record_payment(session, ca.id, amount_cents=100, purpose="postage", staff="amy", recorded_by="amy",
                   paid_at=datetime(2026, 3, 8, 16, 30, tzinfo=UTC), now=T0 + timedelta(days=7))
    weeks = weekly_ledger(session, first=date(2026, 3, 2), last=date(2026, 3, 9), timezone="Asia/Shanghai")
    assert [(w.label, w.total_cents, len(w.payments)) for w in weeks] == [("2026-W10", 2050, 3), ("2026-W11", 100, 1)]
    assert weeks[0].by_case() == {ca.id: 800, cb.id: 1250}
    assert case_events(session, cb.id)[-1].data == {
        "amount_cents": 1250, "currency": "CNY", "purpose": "removed neutral review", "staff": "lee"}


def test_payments_need_purpose_staff_and_a_past_time(session, db_settings, factory) -> None:
    review = factory.review(factory.listing(factory.shop()), rating=1)
    open_cases(session, db_settings, now=T0)
    case = factory.case_for(review)
    with pytest.raises(CaseError, match="what the payment was for"):
        record_payment(session, case.id, amount_cents=100, purpose=" ", staff="amy", recorded_by="amy", now=T0)
    with pytest.raises(CaseError, match="in the future"):
        record_payment(session, case.id, amount_cents=100, purpose="x", staff="amy", recorded_by="amy",
                       paid_at=T0 + timedelta(hours=1), now=T0)
    with pytest.raises(CaseError, match="no case with id 99"):
        record_payment(session, 99, amount_cents=100, purpose="x", staff="amy", recorded_by="amy", now=T0)
    with pytest.raises(CaseError, match="not an ISO week"):
        parse_week("week 9")
    assert parse_week("2026-W10") == date(2026, 3, 2)


def test_pay_and_ledger_commands(db_cli, session, db_settings, factory) -> None:
    now = datetime.now(UTC)
    review = factory.review(factory.listing(factory.shop()), rating=1, at=now)
    open_cases(session, db_settings, now=now)
    case_id = factory.case_for(review).id
    session.commit()
    assert db_cli("cases", "pay", str(case_id), "--amount", "8.80", "--purpose", "removed bad review",
                  "--staff", "amy", "--by", "sue") == (0, f"payment #1: 8.80 CNY on case #{case_id} (removed bad review, amy)\n", "")
    code, out, _ = db_cli("cases", "ledger", "--weeks", "1")
    assert code == 0 and ": 1 payment(s), total 8.80 CNY" in out and "removed bad review  (amy)" in out
    code, out, _ = db_cli("cases", "ledger", "--weeks", "1", "--json")
    week = json.loads(out)[0]
    assert (week["total_cents"], week["by_case"]) == (880, {str(case_id): 880})
    code, _, err = db_cli("cases", "pay", str(case_id), "--amount", "1.005", "--purpose", "x")
    assert code == 2 and "more than two decimals" in err
