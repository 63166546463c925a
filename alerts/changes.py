"""Follow what crawls saw happen to reviews into their cases.

A raised rating or a review confirmed removed (missing from two complete crawls, see
spiders.storage) moves an unresolved case to ``modified``. A review missing from only one
complete crawl proves nothing yet (a cut page, a platform hiccup): the case keeps its state and
its escalation clock, and gets a ``possibly_removed`` event asking staff to look.

Only the reviews in the outbox (consumer ``review_changes``) are looked at: database triggers
(migration 0017) queue a review whenever its rating, deletion or missed crawls change while it
has a case, and whenever its case is opened or changes state, rating or review, whoever writes
them. A run with nothing new reads no case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists
from sqlmodel import Session, select

from models.base import utcnow
from models.cases import Case, CaseEvent
from models.reviews import Review

from monitor import outbox
from monitor.in_lists import id_filters

from alerts.cases import SYSTEM_ACTOR, TRANSITIONS, needs_action

CONSUMER = "review_changes"
POSSIBLY_REMOVED = "possibly_removed"
_CAN_BECOME_MODIFIED = [s for s, targets in TRANSITIONS.items() if "modified" in targets]


@dataclass
class ChangeCounts:
    cases_modified: int = 0
    cases_possibly_removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def follow_review_changes(session: Session, *, now: datetime | None = None) -> ChangeCounts:
    """Move cases whose buyer raised the rating or whose review is confirmed removed; flag the
    ones whose review one complete crawl did not show. Safe to run repeatedly."""
    now = now or utcnow()
    counts = ChangeCounts()
    session.flush()  # the triggers queue what this session changed
    changed = outbox.take(session, CONSUMER).get("review", set())
    rows = [row for where in id_filters(Review.id, changed) for row in session.exec(
        select(Case, Review)
        .join(Review, Review.id == Case.review_id)
        .where(
            where,
            needs_action(),
            Case.state.in_(_CAN_BECOME_MODIFIED),
            (Review.deleted_at.is_not(None)) | (Review.rating > Case.rating),
        )
    ).all()]
    for case, review in rows:
        if review.deleted_at is not None:
            note = "the review was removed"
        else:
            note = f"the review is now rated {review.rating} (was {case.rating})"
        session.add(CaseEvent(case_id=case.id, at=now, actor=SYSTEM_ACTOR, action="state", note=note,
                              data={"before": case.state, "after": "modified"}))
        case.state = "modified"
        case.rating = review.rating
        case.updated_at = now
        case.last_progress_at = now
        session.add(case)
        counts.cases_modified += 1

    # One event per absence: a review seen again and missed later gets a new one.
    told = exists().where(CaseEvent.case_id == Case.id, CaseEvent.action == POSSIBLY_REMOVED,
                          CaseEvent.at >= Review.missing_since)
    missing = [row for where in id_filters(Review.id, changed) for row in session.exec(
        select(Case, Review)
        .join(Review, Review.id == Case.review_id)
        .where(where, needs_action(), Review.deleted_at.is_(None), Review.missed_crawls > 0, ~told)
    ).all()]
    for case, review in missing:
        session.add(CaseEvent(
            case_id=case.id, at=max(now, review.missing_since or now), actor=SYSTEM_ACTOR, action=POSSIBLY_REMOVED,
            note="a complete crawl did not show this review; check the listing and update the case if it is gone "
                 "(the case stays as it is until a second complete crawl confirms)",
            data={"missing_since": review.missing_since.isoformat() if review.missing_since else None,
                  "missed_crawls": review.missed_crawls}))
        counts.cases_possibly_removed += 1
    session.flush()
    return counts
