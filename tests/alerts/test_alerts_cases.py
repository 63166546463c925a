"""Case workflow: opening from reviews and flags, severity, guidance, transitions, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from alerts.cases import CaseError, case_events, open_cases, severity_for, update_case
from alerts.changes import follow_review_changes
from alerts.guidance import guidance_for
from models import Case, CaseEvent
from alerts_testkit import factory  # noqa: F401  (fixtures)

BOTH_DATABASES = True  # storage, pipeline, case and alert behaviour must hold on SQLite and PostgreSQL

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_bad_reviews_open_one_case_each_and_good_ones_none(session, db_settings, factory):
    shop = factory.shop()
    listing = factory.listing(shop)
    bad = factory.review(listing, rating=2, nick="z***y")
    neutral = factory.review(listing, rating=3)
    factory.review(listing, rating=5)
    assert open_cases(session, db_settings, now=T0) == 2
    assert open_cases(session, db_settings, now=T0 + timedelta(hours=1)) == 0  # idempotent
    cases = session.exec(select(Case).order_by(Case.id)).all()
    assert [c.review_id for c in cases] == [bad.id, neutral.id]
    case = cases[0]
    assert (case.buyer_nick, case.rating, case.item_title, case.state) == ("z***y", 2, listing.title, "open")
    assert case.review_text == bad.text
    events = case_events(session, case.id)
    assert [(e.action, e.actor) for e in events] == [("opened", "shopmon")]
    assert events[0].data["severity_reasons"] == ["2-star review (+2)"]


def test_case_max_rating_is_configurable(session, db_settings, factory):
    db_settings.detection.case_max_rating = 1
    listing = factory.listing(factory.shop())
    factory.review(listing, rating=2)
    one = factory.review(listing, rating=1)
    assert open_cases(session, db_settings, now=T0) == 1
    assert session.exec(select(Case.review_id)).all() == [one.id]


def test_a_shops_old_history_opens_no_cases(session, db_settings, factory):
    """The first crawl brings years of bad reviews; only recent ones are work for the team."""
    assert db_settings.detection.case_max_age_days == 30
    listing = factory.listing(factory.shop())
    recent = factory.review(listing, rating=1, at=T0 - timedelta(days=29))
    old = factory.review(listing, rating=1, at=T0 - timedelta(days=31))
    old_extortion = factory.review(listing, rating=5, at=T0 - timedelta(days=400), text="Pay me or I post bad reviews")
    factory.flag("malicious", target_type="review", target_id=old_extortion.id, review_id=old_extortion.id)
    assert open_cases(session, db_settings, now=T0) == 1
    assert session.exec(select(Case.review_id)).all() == [recent.id]

    db_settings.detection.case_max_age_days = 0  # no limit: every bad review and flag opens a case
    assert open_cases(session, db_settings, now=T0) == 2
    assert sorted(session.exec(select(Case.review_id)).all()) == sorted([recent.id, old.id, old_extortion.id])


def test_malicious_flag_opens_case_even_for_good_rating_and_gives_extortion_guidance(session, db_settings, factory):
    listing = factory.listing(factory.shop(), sales=5000)
    review = factory.review(listing, rating=4, text="Pay me 200 yuan or I post a bad review everywhere")
    factory.flag("malicious", target_type="review", target_id=review.id, review_id=review.id, reasons=["demands money"])
    assert open_cases(session, db_settings, now=T0) == 1
    case = factory.case_for(review)
    assert case.kinds == ["malicious"]
    assert case.severity == "high"  # malicious 3 + 5000 sales 2
    assert "never pay" in case.guidance.lower()
    assert "evidence" in case.guidance
    assert case_events(session, case.id)[0].data["flag_reasons"] == ["demands money"]


def test_flags_enrich_existing_case_instead_of_opening_another(session, db_settings, factory):
    listing = factory.listing(factory.shop())
    review = factory.review(listing, rating=2)
    assert open_cases(session, db_settings, now=T0) == 1
    case = factory.case_for(review)
    assert case.severity == "low" and case.cause is None
    factory.flag("cause", target_type="review", target_id=review.id, label="missing_item", score=0.8)
    factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id, members=[review.id])
    # The review keeps its one case; the attack itself is one more case, the member's parent.
    assert open_cases(session, db_settings, now=T0 + timedelta(hours=1)) == 1
    session.refresh(case)
    parent = session.exec(select(Case).where(Case.id != case.id)).one()
    assert parent.review_id is None and parent.kinds == ["attack"] and case.parent_id == parent.id
    assert case.kinds == ["attack"] and case.cause == "missing_item"
    assert case.severity == "high"  # 2 (rating) + 3 (attack)
    # one advice line, the attack's: "re-ship" beside "file one appeal" would contradict it
    assert case.guidance == guidance_for(["attack"], None, "en") and "re-ship" not in case.guidance.lower()
    assert [e.action for e in case_events(session, case.id)] == ["opened", "enriched", "attack"]


def test_professional_reviewer_flag_opens_cases_for_their_bad_reviews_only(session, db_settings, factory):
    listing = factory.listing(factory.shop())
    pro = factory.reviewer("p***o")
    bad = factory.review(listing, rating=1, reviewer=pro)
    factory.review(listing, rating=5, reviewer=pro)
    factory.flag("professional", target_type="reviewer", target_id=pro.id, reviewer_id=pro.id)
    assert open_cases(session, db_settings, now=T0) == 1
    assert factory.case_for(bad).kinds == ["professional"]


def test_rejected_flags_are_ignored(session, db_settings, factory):
    review = factory.review(factory.listing(factory.shop()), rating=5)
    factory.flag("malicious", target_type="review", target_id=review.id, status="rejected")
    assert open_cases(session, db_settings, now=T0) == 0


def test_attack_without_member_reviews_gets_a_shop_level_case(session, db_settings, factory):
    shop = factory.shop()
    flag = factory.flag("attack", target_type="shop", target_id=shop.id, shop_id=shop.id)
    assert open_cases(session, db_settings, now=T0) == 1
    assert open_cases(session, db_settings, now=T0) == 0
    case = session.exec(select(Case)).one()
    assert (case.flag_id, case.review_id, case.severity) == (flag.id, None, "critical")


@pytest.mark.parametrize(
    ("cause", "phrase"),
    [
        ("quality", "exchange"),
        ("missing_item", "re-ship"),
        ("late_delivery", "courier"),
        ("transport_damage", "photos"),
        ("not_as_pictured", "listing photos"),
        ("service_attitude", "apologises"),
    ],
)
def test_guidance_per_cause(cause, phrase):
    assert phrase in guidance_for([], cause, "en")
    assert guidance_for([], cause, "zh") != guidance_for([], cause, "en")


def test_severity_weighs_rating_flags_sales_and_reach():
    assert severity_for(3, [])[0] == "low"
    assert severity_for(1, [])[0] == "medium"
    assert severity_for(1, [], sales=2000)[0] == "high"
    level, reasons = severity_for(1, ["malicious"], sales=2000, helpful_votes=12, photos=2)
    assert level == "critical"
    assert "12 helpful votes (+2)" in reasons and "review has photos (+1)" in reasons


def test_update_records_contact_promise_owner_note_with_history(session, db_settings, factory):
    review = factory.review(factory.listing(factory.shop()), rating=1)
    open_cases(session, db_settings, now=T0)
    case = factory.case_for(review)
    later = T0 + timedelta(hours=3)
    update_case(session, case.id, actor="amy", contact="messaged", owner="amy", note="sent apology", now=later)
    assert (case.state, case.contact_status, case.owner) == ("contacted", "wangwang", "amy")  # "messaged" is 旺旺's old name
    assert case.last_progress_at == later
    promise = T0 + timedelta(days=2)
    update_case(session, case.id, actor="amy", promise_date=promise, now=later + timedelta(hours=1))
    assert case.state == "promised" and case.promised_by == promise
    update_case(session, case.id, actor="bob", state="modified", now=later + timedelta(hours=2))
    update_case(session, case.id, actor="bob", state="closed", now=later + timedelta(hours=3))
    assert case.closed_at == later + timedelta(hours=3)
    actions = [(e.action, e.actor) for e in case_events(session, case.id)]
    assert actions == [
        ("opened", "shopmon"),
        ("assign", "amy"),
        ("contact", "amy"),
        ("state", "amy"),
        ("note", "amy"),
        ("promise", "amy"),
        ("state", "amy"),
        ("state", "bob"),
        ("state", "bob"),
    ]
    notes = session.exec(select(CaseEvent.note).where(CaseEvent.action == "note")).all()
    assert notes == ["sent apology"]


def test_illegal_transition_is_refused_and_changes_nothing(session, db_settings, factory):
    review = factory.review(factory.listing(factory.shop()), rating=1)
    open_cases(session, db_settings, now=T0)
    case = factory.case_for(review)
    with pytest.raises(CaseError, match="cannot go from 'open' to 'promised'.*allowed: contacted"):
        update_case(session, case.id, actor="amy", state="promised", note="should not be stored", owner="amy")
    assert (case.state, case.owner) == ("open", None)
    assert [e.action for e in case_events(session, case.id)] == ["opened"]
    with pytest.raises(CaseError, match="unknown state 'done'"):
        update_case(session, case.id, actor="amy", state="done")
    with pytest.raises(CaseError, match="unknown contact channel 'fax'"):
        update_case(session, case.id, actor="amy", contact="fax")
    with pytest.raises(CaseError, match="nothing to update"):
        update_case(session, case.id, actor="amy")
    with pytest.raises(CaseError, match="no case with id 999"):
        update_case(session, 999, actor="amy", note="x")


def test_note_alone_is_not_progress(session, db_settings, factory):
    review = factory.review(factory.listing(factory.shop()), rating=1)
    open_cases(session, db_settings, now=T0)
    case = factory.case_for(review)
    update_case(session, case.id, actor="amy", note="called, no answer", now=T0 + timedelta(hours=5))
    assert case.last_progress_at == T0


def test_raised_rating_or_removed_review_moves_case_to_modified(session, db_settings, factory):
    listing = factory.listing(factory.shop())
    raised = factory.review(listing, rating=1)
    removed = factory.review(listing, rating=2)
    untouched = factory.review(listing, rating=2)
    open_cases(session, db_settings, now=T0)
    update_case(session, factory.case_for(removed).id, actor="amy", contact="sms", now=T0)
    raised.rating = 5
    removed.deleted_at = T0 + timedelta(hours=2)
    session.add_all([raised, removed])
    later = T0 + timedelta(hours=3)
    assert follow_review_changes(session, now=later).cases_modified == 2
    assert factory.case_for(raised).state == "modified" and factory.case_for(raised).rating == 5
    assert factory.case_for(removed).state == "modified"
    assert factory.case_for(untouched).state == "open"
    last = case_events(session, factory.case_for(removed).id)[-1]
    assert (last.actor, last.note, last.data) == ("shopmon", "the review was removed", {"before": "contacted", "after": "modified"})
