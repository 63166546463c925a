"""End to end after a crawl: detection flags an extortion review, a case opens, the email arrives."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from alerts.sender import send_pending
from models import Case
from monitor.reputation.reads import latest
from alerts_testkit import factory, smtp_server  # noqa: F401  (fixtures)

BOTH_DATABASES = True  # storage, pipeline, case and alert behaviour must hold on SQLite and PostgreSQL


def test_extortion_review_reaches_the_team_with_never_pay_advice(session, tmp_path, factory, smtp_server):
    from alerts_testkit import make_settings

    from monitor.db import upgrade
    from monitor.pipeline import process

    settings = make_settings(tmp_path, smtp_server.port, group_window_minutes=0)
    upgrade(settings)
    listing = factory.listing(factory.shop("Tea House"), sales=3000, title="Longjing 250g")
    now = datetime.now(UTC)
    review = factory.review(listing, rating=1, nick="q***z", text="不给我退50元我就天天给你差评，让你店开不下去", at=now)
    session.commit()

    counts = process(settings)
    assert counts["cases_opened"] == 1 and counts["alerts_queued"] == 1
    case = session.exec(select(Case).where(Case.review_id == review.id)).one()
    assert "malicious" in case.kinds and case.severity == "critical"
    # The pipeline stored the reputation: the extortion review is left out of the adjusted rating.
    assert counts["reputation_snapshots"] == 2  # the shop and its listing
    snap = latest(session, "listing")[listing.id]
    assert (snap.reviews, snap.removed, snap.rating, snap.adjusted_rating, snap.grade) == (1, 1, 1.0, None, "F")

    assert send_pending(settings).emails == 1
    [got] = smtp_server.messages
    assert got.rcpt_tos == ["service@shop.example"]
    assert got.message["Subject"] == f"shopmon: Critical case #{case.id}: 1-star review by q***z on Longjing 250g"
    text = got.message.get_body(("plain",)).get_content()
    assert "Never pay or refund in exchange for a review change" in text
    assert "不给我退50元" in text
