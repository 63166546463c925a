"""Reputation reads that need no assessment: the snapshots stored, and which reviews the flags take
out of a rating.

The alert rules' reports import this at start-up, so it holds nothing that signs or judges texts
(checks.py and store.py do, through monitor.detection, which loads scikit-learn and SciPy).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, func, select

from models.detection import Flag
from models.reputation import ReputationSnapshot

#: Flag kinds whose reviews are left out of the adjusted rating.
REMOVING_KINDS = ("attack", "malicious", "deceptive")


def flag_marks(session: Session, review_ids: set[int], reviewer_ids: set[int]) -> tuple[dict[int, set[str]], set[int]]:
    """Why each review is removed (flag kinds) and which reviewers carry a professional flag."""
    removed: dict[int, set[str]] = defaultdict(set)
    professional: set[int] = set()
    flags = session.exec(
        select(Flag.kind, Flag.target_type, Flag.target_id, Flag.members).where(
            Flag.kind.in_((*REMOVING_KINDS, "professional")), Flag.status != "rejected"
        )
    ).all()
    for kind, target_type, target_id, members in flags:
        if kind == "professional":
            if target_type == "reviewer" and target_id in reviewer_ids:
                professional.add(target_id)
        elif kind == "attack":
            for rid in members or []:
                if rid in review_ids:
                    removed[rid].add(kind)
        elif target_type == "review" and target_id in review_ids:
            removed[target_id].add(kind)
    return removed, professional


def latest(session: Session, scope: str, target_ids: Iterable[int] | None = None) -> dict[int, ReputationSnapshot]:
    """The newest snapshot per target of a scope."""
    newest = (
        select(ReputationSnapshot.target_id, func.max(ReputationSnapshot.id).label("id"))
        .where(ReputationSnapshot.scope == scope)
        .group_by(ReputationSnapshot.target_id)
    )
    if target_ids is not None:
        newest = newest.where(ReputationSnapshot.target_id.in_(list(target_ids)))
    sub = newest.subquery()
    rows = session.exec(select(ReputationSnapshot).join(sub, sub.c.id == ReputationSnapshot.id)).all()
    return {r.target_id: r for r in rows}


def history(session: Session, scope: str, target_id: int, limit: int = 20) -> list[ReputationSnapshot]:
    """Newest first."""
    return list(session.exec(
        select(ReputationSnapshot)
        .where(ReputationSnapshot.scope == scope, ReputationSnapshot.target_id == target_id)
        .order_by(ReputationSnapshot.id.desc())
        .limit(limit)
    ).all())
