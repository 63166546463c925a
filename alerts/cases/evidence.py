"""What flags say about reviews: which reviews a flag touches, and whether it opens a case or enriches one.

A review flag touches its review; a reviewer flag the reviewer's bad reviews; an attack flag its members.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, select

from models.detection import Flag
from models.reviews import Review

from monitor.config import Settings
from monitor.in_lists import chunks, id_filters

OPENING_FLAG_KINDS = ("malicious", "professional", "attack")
ENRICHING_FLAG_KINDS = (*OPENING_FLAG_KINDS, "deceptive", "watchlist")


@dataclass
class Evidence:
    kinds: set[str] = field(default_factory=set)
    opening: bool = False
    cause: str | None = None
    cause_score: float = -1.0
    flag_id: int | None = None
    reasons: list[str] = field(default_factory=list)


EVIDENCE_KINDS = (*ENRICHING_FLAG_KINDS, "cause")


def all_flags(session: Session) -> list[Flag]:
    return list(session.exec(select(Flag).where(Flag.kind.in_(EVIDENCE_KINDS), Flag.status != "rejected")))


def flags_touching(session: Session, review_ids: set[int]) -> list[Flag]:
    """Every flag that can say something about ``review_ids``: theirs, their reviewers', and the
    attack flags (their member ids are JSON; there are few of them)."""
    reviewers: set[int] = set()
    found: dict[int, Flag] = {}
    live = (Flag.kind.in_(EVIDENCE_KINDS), Flag.status != "rejected")
    for chunk in chunks(sorted(set(review_ids))):
        reviewers.update(r for r in session.exec(select(Review.reviewer_id).where(Review.id.in_(chunk))) if r)
        for column in (Flag.target_id, Flag.review_id):
            stmt = select(Flag).where(*live, column.in_(chunk))
            if column is Flag.target_id:
                stmt = stmt.where(Flag.target_type == "review")
            found.update((f.id, f) for f in session.exec(stmt))
    for where in id_filters(Flag.target_id, reviewers):
        stmt = select(Flag).where(*live, Flag.target_type == "reviewer", where)
        found.update((f.id, f) for f in session.exec(stmt))
    found.update((f.id, f) for f in session.exec(select(Flag).where(*live, Flag.kind == "attack")))
    return list(found.values())


def collect_flag_evidence(session: Session, settings: Settings, flags: list[Flag]) -> dict[int, Evidence]:
    """Map review id -> what ``flags`` say about it."""
    max_rating = settings.detection.case_max_rating
    evidence: dict[int, Evidence] = defaultdict(Evidence)
    reviewer_ids = {f.target_id for f in flags if f.target_type == "reviewer"}
    by_reviewer: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    if reviewer_ids:
        rows = session.exec(
            select(Review.id, Review.reviewer_id, Review.rating).where(
                Review.reviewer_id.in_(reviewer_ids), Review.deleted_at.is_(None)
            )
        ).all()
        for rid, reviewer_id, rating in rows:
            by_reviewer[reviewer_id].append((rid, rating))

    for flag in flags:
        if flag.kind == "attack":
            targets = flag.attack_reviews()
        elif flag.target_type == "review":
            targets = [flag.target_id]
        elif flag.target_type == "reviewer":
            # A professional reviewer's praise is not a case; their bad reviews (and the one
            # the flag points at) are.
            targets = [rid for rid, rating in by_reviewer.get(flag.target_id, []) if rating is None or rating <= max_rating]
            if flag.review_id and flag.review_id not in targets:
                targets.append(flag.review_id)
        else:
            targets = [flag.review_id] if flag.review_id else []
        for rid in targets:
            ev = evidence[rid]
            if flag.kind == "cause":
                if flag.label and flag.score > ev.cause_score:
                    ev.cause, ev.cause_score = flag.label, flag.score
                continue
            ev.kinds.add(flag.kind)
            if flag.kind in OPENING_FLAG_KINDS:
                ev.opening = True
                if ev.flag_id is None:
                    ev.flag_id = flag.id
            ev.reasons.extend(r for r in flag.reasons if r not in ev.reasons)
    return evidence
