"""The analysts' watchlist of known professional reviewers.

Two sources, both honoured by detection: ``Reviewer.watchlisted`` (maintained here, with a
note saying why) and ``detection.watchlist`` in the config file (ids as ``external_id`` or
``platform:external_id``, for accounts known before the spiders ever met them).
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, select

from models import Reviewer
from monitor.config import Settings
from monitor.errors import DataError

_PLATFORMS = ("taobao", "tmall", "jd", "amazon", "schemaorg", "shopify")


def _split(ref: str) -> tuple[str | None, str]:
    platform, sep, rest = ref.partition(":")
    if sep and platform in _PLATFORMS and rest:
        return platform, rest
    return None, ref


def find_reviewer(session: Session, ref: int | str) -> Reviewer:
    """A reviewer by database id (int) or by ``[platform:]external_id`` (str); DataError if none or ambiguous."""
    if isinstance(ref, int):
        row = session.get(Reviewer, ref)
        if row is None:
            raise DataError(f"no reviewer with id {ref}")
        return row
    ref = ref.strip()
    if not ref:
        raise DataError("reviewer reference is empty")
    platform, external = _split(ref)
    stmt = select(Reviewer).where(Reviewer.external_id == external)
    if platform:
        stmt = stmt.where(Reviewer.platform == platform)
    found = list(session.exec(stmt))
    if not found:
        raise DataError(f"no reviewer {ref!r} (give platform:external_id or the numeric id)")
    if len(found) > 1:
        options = ", ".join(f"{r.platform}:{r.external_id}" for r in found)
        raise DataError(f"reviewer {ref!r} is ambiguous ({options}); prefix it with the platform")
    return found[0]


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
        platform, external = _split(ref.strip())
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
    chunks = [None] if reviewer_ids is None else [reviewer_ids[i : i + 900] for i in range(0, len(reviewer_ids), 900)]
    for chunk in chunks:
        stmt = select(Reviewer).where(cond)
        if chunk is not None:
            stmt = stmt.where(Reviewer.id.in_(chunk))
        for r in session.exec(stmt.order_by(Reviewer.id)):
            if r.watchlisted or r.external_id in bare or (r.platform, r.external_id) in pairs:
                out.append(r)
    return out
