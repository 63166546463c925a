"""The analysts' watchlist of known professional reviewers.

Two sources, both honoured by detection: ``Reviewer.watchlisted`` (maintained here, with a
note saying why) and ``detection.watchlist`` in the config file (ids as ``external_id`` or
``platform:external_id``, for accounts known before the spiders ever met them).
"""

from __future__ import annotations

from sqlalchemy import or_, true
from sqlmodel import Session, select

from models import Reviewer
from monitor.config import Settings
from monitor.errors import DataError
from monitor.in_lists import id_filters
from monitor.platform_refs import find_reviewer, split_ref


def add(session: Session, ref: int | str, *, note: str | None = None) -> Reviewer:
    """Put a reviewer on the watchlist; the next detection run writes its ``watchlist`` flag."""
    reviewer = find_reviewer(session, ref)
    reviewer.watchlisted = True
    if note is not None:
        reviewer.watch_note = note.strip() or None
    session.add(reviewer)
    session.flush()
    return reviewer


def remove(session: Session, ref: int | str) -> Reviewer:
    """Take a reviewer off the watchlist; flags already written stay as history."""
    reviewer = find_reviewer(session, ref)
    if not reviewer.watchlisted:
        raise DataError(f"reviewer {reviewer.platform}:{reviewer.external_id} is not on the watchlist")
    reviewer.watchlisted = False
    session.add(reviewer)
    session.flush()
    return reviewer


def configured(settings: Settings) -> tuple[set[str], set[tuple[str, str]]]:
    """(bare external ids, (platform, external id) pairs) from ``detection.watchlist``."""
    bare: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for ref in settings.detection.watchlist:
        platform, external = split_ref(ref.strip())
        if platform:
            pairs.add((platform, external))
        elif external:
            bare.add(external)
    return bare, pairs


def watched(session: Session, settings: Settings, reviewer_ids: list[int] | None = None) -> list[Reviewer]:
    """Watchlisted reviewers (database flag or config), optionally only among ``reviewer_ids``."""
    bare, pairs = configured(settings)
    externals = bare | {e for _, e in pairs}
    cond = Reviewer.watchlisted.is_(True)
    if externals:
        cond = or_(cond, Reviewer.external_id.in_(sorted(externals)))
    out: list[Reviewer] = []
    scopes = [true()] if reviewer_ids is None else list(id_filters(Reviewer.id, reviewer_ids))
    for scope in scopes:
        stmt = select(Reviewer).where(cond, scope)
        for r in session.exec(stmt.order_by(Reviewer.id)):
            if r.watchlisted or r.external_id in bare or (r.platform, r.external_id) in pairs:
                out.append(r)
    return out
