"""Review changes into cases: a raised rating or a confirmed removal moves the case; one complete
crawl's miss only records "possibly removed" for staff, once per absence, and shows in emails."""

from __future__ import annotations

from datetime import timedelta

from alerts_testkit import T0, Factory, factory, make_settings  # noqa: F401
from sqlmodel import select

from alerts.cases import open_cases, update_case
from alerts.changes import POSSIBLY_REMOVED, follow_review_changes
from alerts.render import build_message
from alerts.rules import evaluate
from models import Alert, CaseEvent
from monitor.db import upgrade


def test_a_missing_review_asks_staff_once_and_keeps_the_case_escalating(session, tmp_path, factory):
    settings = make_settings(tmp_path, group_window_minutes=0, call_windows=[])
    upgrade(settings)
    review = factory.review(factory.listing(factory.shop()), rating=2)
    open_cases(session, settings, now=T0)
    case = factory.case_for(review)
    update_case(session, case.id, actor="amy", contact="sms", now=T0)

    review.missed_crawls, review.missing_since = 1, T0 + timedelta(hours=1)
    session.add(review)
    counts = follow_review_changes(session, now=T0 + timedelta(hours=2))
    assert (counts.cases_modified, counts.cases_possibly_removed) == (0, 1)
    assert follow_review_changes(session, now=T0 + timedelta(hours=3)).cases_possibly_removed == 0  # once
    [event] = session.exec(select(CaseEvent).where(CaseEvent.action == POSSIBLY_REMOVED)).all()
    assert event.actor == "shopmon" and "check the listing" in event.note
    assert case.state == "contacted"

    # still escalates on time, and the email tells the lead the review may be gone
    assert evaluate(session, settings, now=T0 + timedelta(hours=48)) == 1
    alert = session.exec(select(Alert).where(Alert.kind == "escalation")).one()
    msg = build_message(settings, "escalation", [(alert.id, alert.payload, alert.severity)], ["x@shop.example"],
                        now=T0)
    assert "Possibly removed" in msg.get_body(("plain",)).get_content()

    # seen again, then missed by a later crawl: a new absence, a new question
    review.missed_crawls, review.missing_since = 0, None
    session.add(review)
    session.flush()
    review.missed_crawls, review.missing_since = 1, T0 + timedelta(hours=60)
    session.add(review)
    assert follow_review_changes(session, now=T0 + timedelta(hours=61)).cases_possibly_removed == 1

    # the second complete crawl's miss is the proof: deleted, the case moves
    review.missed_crawls, review.deleted_at = 2, T0 + timedelta(hours=70)
    session.add(review)
    assert follow_review_changes(session, now=T0 + timedelta(hours=71)).cases_modified == 1
    assert case.state == "modified"
