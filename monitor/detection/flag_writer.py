"""Flags written by behaviour detection, insert-or-update: a re-run updates a flag instead of adding one.

One row per kind, target and model version (``models.detection.FLAG_KEY``); two workers writing the same
flag at once end with one row carrying both runs' evidence. New member reviews after an analyst's verdict
reopen the flag rather than hide behind it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models import Flag
from models.detection import FLAG_KEY
from monitor.db import insert_missing
from monitor.in_lists import id_filters

MAX_REASONS = 12


class FlagWriter:
    """Insert-or-update by (kind, target_type, target_id, model_version): re-runs never duplicate."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.new: dict[str, int] = {}
        self.updated = 0
        self.changed: set[int] = set()  # flag ids written or changed, for the cases outbox
        self._known: dict[tuple[str, str, str], dict[int, Flag]] = {}

    def prefetch(self, kind: str, target_type: str, model_version: str, target_ids: list[int]) -> None:
        """Load the existing flags for many targets in a few queries instead of one per flag."""
        known = self._known.setdefault((kind, target_type, model_version), {})
        ids = sorted(set(target_ids) - known.keys())
        for where in id_filters(Flag.target_id, ids):
            stmt = select(Flag).where(
                Flag.kind == kind, Flag.target_type == target_type, Flag.model_version == model_version, where
            )
            for flag in self.session.exec(stmt):
                known[flag.target_id] = flag
        for i in ids:
            known.setdefault(i, None)  # type: ignore[arg-type]

    def put(self, *, kind: str, target_type: str, target_id: int, model_version: str, score: float,
            reasons: list[str], members: list[int] | None = None, **links: int | None) -> Flag:
        existing = self.find(kind, target_type, target_id, model_version)
        if existing is None:
            flag = Flag(kind=kind, target_type=target_type, target_id=target_id, model_version=model_version,
                        score=round(score, 6), reasons=reasons[:MAX_REASONS], members=sorted(members or []),
                        created_at=self.now, **links)
            new_id = insert_missing(self.session, flag, FLAG_KEY)
            known = self._known.setdefault((kind, target_type, model_version), {})
            known.pop(target_id, None)
            existing = self.find(kind, target_type, target_id, model_version)
            known[target_id] = existing
            if new_id is not None:
                self.new[kind] = self.new.get(kind, 0) + 1
                self.changed.add(new_id)
                return existing
            # Another worker wrote it a moment ago: add this run's evidence to theirs.
        changed = False
        if members is not None:
            merged = sorted(set(existing.members) | set(members))
            if merged != existing.members:
                if existing.status != "open" and set(members) - set(existing.members):
                    # New evidence after an analyst's verdict: ask again rather than hide it.
                    reasons = [*reasons, f"new member reviews after the flag was {existing.status}"]
                    existing.status = "open"
                existing.members = merged
                changed = True
            reasons = [*reasons, *(r for r in existing.reasons if r not in reasons)]
        reasons = reasons[:MAX_REASONS]
        if reasons != existing.reasons or round(score, 6) != existing.score:
            existing.reasons = reasons
            existing.score = round(score, 6) if members is None else max(existing.score, round(score, 6))
            changed = True
        for name, value in links.items():
            if value is not None and getattr(existing, name) != value:
                setattr(existing, name, value)
                changed = True
        if changed:
            self.session.add(existing)
            self.updated += 1
            self.changed.add(existing.id)
        return existing

    def find(self, kind: str, target_type: str, target_id: int, model_version: str) -> Flag | None:
        known = self._known.get((kind, target_type, model_version), {})
        if target_id in known:
            return known[target_id]
        return self.session.exec(
            select(Flag).where(
                Flag.kind == kind, Flag.target_type == target_type, Flag.target_id == target_id,
                Flag.model_version == model_version,
            )
        ).first()
