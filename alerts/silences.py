"""Silences: mute alerts for a listing, a reviewer, a shop or a kind until a given time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from models.alerts import Silence
from models.base import utcnow
from models.catalog import Listing, Shop
from models.reviews import Reviewer
from monitor.config import ALERT_KINDS
from monitor.errors import DataError
from monitor.platform_refs import find_listing, find_reviewer, find_shop, ref_of


@dataclass(frozen=True)
class AlertSubject:
    """What an alert is about, for matching against silences."""

    kind: str
    shop_id: int | None = None
    listing_id: int | None = None
    reviewer_id: int | None = None


def active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(session.exec(select(Silence).where(Silence.until > now)).all())


def matching_silence(silences: list[Silence], subject: AlertSubject) -> Silence | None:
    """The first silence whose every given field matches (unset fields match anything)."""
    for s in silences:
        if s.kind is not None and s.kind != subject.kind:
            continue
        if s.shop_id is not None and s.shop_id != subject.shop_id:
            continue
        if s.listing_id is not None and s.listing_id != subject.listing_id:
            continue
        if s.reviewer_id is not None and s.reviewer_id != subject.reviewer_id:
            continue
        return s
    return None


def add_silence(
    session: Session,
    *,
    until: datetime,
    created_by: str,
    kind: str | None = None,
    listing_id: int | None = None,
    reviewer_id: int | None = None,
    shop_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Silence:
    now = now or utcnow()
    if kind is None and listing_id is None and reviewer_id is None and shop_id is None:
        # Muting everything by accident is how a team misses an attack.
        raise DataError("a silence must name at least one of kind, listing, reviewer or shop")
    if kind is not None and kind not in ALERT_KINDS:
        raise DataError(f"unknown alert kind {kind!r}; choose from {', '.join(ALERT_KINDS)}")
    if until.tzinfo is None:
        raise DataError("silence end time must carry a time zone")
    if until <= now:
        raise DataError(f"silence would end at {until.isoformat()}, which is not in the future")
    if not created_by.strip():
        raise DataError("a silence needs the name of who set it (--by)")
    for model, row_id, what in ((Listing, listing_id, "listing"), (Reviewer, reviewer_id, "reviewer"), (Shop, shop_id, "shop")):
        if row_id is not None and session.get(model, row_id) is None:
            raise DataError(f"no {what} with database id {row_id}")
    silence = Silence(
        kind=kind,
        listing_id=listing_id,
        reviewer_id=reviewer_id,
        shop_id=shop_id,
        until=until,
        created_by=created_by.strip(),
        reason=reason,
        created_at=now,
    )
    session.add(silence)
    session.flush()
    return silence


def expire_silence(session: Session, silence_id: int, *, now: datetime | None = None) -> Silence:
    """End a silence now; the row stays so the audit trail shows it existed."""
    now = now or utcnow()
    silence = session.get(Silence, silence_id)
    if silence is None:
        raise DataError(f"no silence with id {silence_id}")
    if silence.until > now:
        silence.until = now
        session.add(silence)
        session.flush()
    return silence


def silence_by_refs(
    session: Session,
    *,
    until: datetime,
    created_by: str,
    kind: str | None = None,
    listing: str | None = None,
    reviewer: str | None = None,
    shop: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Silence:
    """``add_silence`` with the shop, listing and reviewer named as the platform shows them."""
    return add_silence(
        session,
        until=until,
        created_by=created_by,
        kind=kind,
        listing_id=find_listing(session, listing).id if listing is not None else None,
        reviewer_id=find_reviewer(session, reviewer).id if reviewer is not None else None,
        shop_id=find_shop(session, shop).id if shop is not None else None,
        reason=reason,
        now=now,
    )


def describe(session: Session, silence: Silence) -> str:
    """``kind=attack, listing=taobao:652311``: what a silence mutes, in the platform's ids."""
    parts = [
        ("kind", silence.kind),
        ("listing", ref_of(session.get(Listing, silence.listing_id)) if silence.listing_id else None),
        ("reviewer", ref_of(session.get(Reviewer, silence.reviewer_id)) if silence.reviewer_id else None),
        ("shop", ref_of(session.get(Shop, silence.shop_id)) if silence.shop_id else None),
    ]
    return ", ".join(f"{k}={v}" for k, v in parts if v is not None)
