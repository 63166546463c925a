"""Following review changes reads only the reviews the triggers of migration 0017 queued: every
writer (ORM objects, Core UPDATEs as the crawl's storage and case claims issue, a staff reopen, a
case opened for a review already missing) is seen, and a run with nothing queued reads no case.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, text, update
from sqlmodel import func, select

from alerts.cases import open_cases
from alerts.changes import CONSUMER, POSSIBLY_REMOVED, follow_review_changes
from models import Case, CaseEvent, Outbox, Review
from monitor.db import get_engine
from alerts_testkit import T0, factory  # noqa: F401

BOTH_DATABASES = True


def _queued(session) -> int:  # noqa: ANN001
    return session.exec(select(func.count(Outbox.id)).where(Outbox.consumer == CONSUMER)).one()


def _full_scan(session) -> set[int]:  # noqa: ANN001
    """What the run before the outbox looked at: every unresolved case's review that changed."""
    return set(session.exec(select(Review.id).join(Case, Case.review_id == Review.id).where(
        Case.state.not_in(("modified", "closed")),
        Review.deleted_at.is_not(None) | (Review.rating > Case.rating) | (Review.missed_crawls > 0))).all())


def test_every_writer_queues_its_review_and_nothing_queued_reads_nothing(session, factory, db_settings):
    listing = factory.listing(factory.shop())
    raised, removed, missed, reopened, quiet = (factory.review(listing, rating=1) for _ in range(5))
    open_cases(session, db_settings, now=T0)
    session.commit()
    follow_review_changes(session, now=T0)  # the cases just opened were queued: nothing to move
    session.commit()
    assert _queued(session) == 0
    assert follow_review_changes(session, now=T0).as_dict() == {"cases_modified": 0, "cases_possibly_removed": 0}

    raised.rating = 5  # an ORM object
    session.add(raised)
    session.flush()
    # Core UPDATEs, as spiders.storage and the case claim write them
    session.execute(update(Review).where(Review.id == removed.id).values(deleted_at=T0 + timedelta(hours=1)),
                    execution_options={"synchronize_session": False})
    session.execute(update(Review).where(Review.id == missed.id).values(
        missed_crawls=1, missing_since=T0 + timedelta(hours=1)), execution_options={"synchronize_session": False})
    session.commit()
    assert _full_scan(session) == {raised.id, removed.id, missed.id}
    counts = follow_review_changes(session, now=T0 + timedelta(hours=2))
    session.commit()
    assert (counts.cases_modified, counts.cases_possibly_removed) == (2, 1)
    assert factory.case_for(raised).state == factory.case_for(removed).state == "modified"
    assert factory.case_for(missed).state == "open" and factory.case_for(quiet).state == "open"

    # A review removed while its case was resolved, the case reopened by staff afterwards: the
    # full scan would move it again, so the reopen must queue it.
    case = factory.case_for(reopened)
    session.execute(update(Case).where(Case.id == case.id).values(state="closed"),
                    execution_options={"synchronize_session": False})
    session.execute(update(Review).where(Review.id == reopened.id).values(deleted_at=T0 + timedelta(hours=3)),
                    execution_options={"synchronize_session": False})
    session.commit()
    assert follow_review_changes(session, now=T0 + timedelta(hours=4)).cases_modified == 0  # closed: no action
    session.commit()
    session.execute(update(Case).where(Case.id == case.id).values(state="open"),
                    execution_options={"synchronize_session": False})
    session.commit()
    assert follow_review_changes(session, now=T0 + timedelta(hours=5)).cases_modified == 1
    session.commit()

    # A review already missing when its case opens
    late = factory.review(listing, rating=1, at=T0 + timedelta(hours=5))
    session.commit()
    session.execute(update(Review).where(Review.id == late.id).values(missed_crawls=1, missing_since=T0),
                    execution_options={"synchronize_session": False})
    session.commit()
    assert follow_review_changes(session, now=T0 + timedelta(hours=6)).cases_possibly_removed == 0  # no case
    open_cases(session, db_settings, now=T0 + timedelta(hours=7))
    session.commit()
    assert follow_review_changes(session, now=T0 + timedelta(hours=8)).cases_possibly_removed == 1
    session.commit()
    events = session.exec(select(func.count(CaseEvent.id)).where(CaseEvent.action == POSSIBLY_REMOVED)).one()
    assert events == 2

    # The same columns written with the same values queue nothing; reviews without a case neither.
    session.execute(update(Review).where(Review.id == quiet.id).values(rating=1),
                    execution_options={"synchronize_session": False})
    factory.review(listing, rating=2)
    session.commit()
    assert _queued(session) == 0


def test_the_triggers_exist_at_the_head_revision(db_settings):
    """A later migration that rebuilds review or case (SQLite batch mode) would drop them silently."""
    engine = get_engine(db_settings)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        else:
            names = set(conn.execute(text(
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal")).scalars())
    assert {"review_changes_review", "review_changes_case_insert", "review_changes_case_update"} <= names
    assert inspect(engine).has_table("outbox")
