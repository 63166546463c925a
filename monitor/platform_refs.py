"""Shops, listings and reviewers found by the ids the platform shows, the way staff know them.

A reference is ``[platform:]id``: ``taobao:652311`` or ``652311``; a shop also answers to its
id in the configuration file, a listing to its URL, a reviewer to a nick that names one account.
Unknown or ambiguous references raise DataError with one line naming what was not found.
"""

from __future__ import annotations

from typing import get_args

from sqlmodel import Session, SQLModel, select

from models import Listing, Reviewer, Shop
from monitor.config import Platform
from monitor.errors import DataError

PLATFORMS: tuple[str, ...] = get_args(Platform)


def split_ref(ref: str) -> tuple[str | None, str]:
    """``taobao:123`` -> ("taobao", "123"); anything without a known platform prefix is a bare id."""
    platform, sep, rest = ref.partition(":")
    if sep and platform in PLATFORMS and rest:
        return platform, rest
    return None, ref


def _one(found: list, what: str, ref: str, label) -> SQLModel:  # noqa: ANN001
    if not found:
        raise DataError(f"no {what} {ref!r} (give its id as the platform shows it, optionally as platform:id)")
    if len(found) > 1:
        options = ", ".join(sorted(label(row) for row in found))
        raise DataError(f"{what} {ref!r} is ambiguous ({options}); prefix it with the platform")
    return found[0]


def _clean(ref: str, what: str) -> str:
    ref = (ref or "").strip()
    if not ref:
        raise DataError(f"{what} reference is empty")
    return ref


def find_shop(session: Session, ref: str) -> Shop:
    ref = _clean(ref, "shop")
    platform, external = split_ref(ref)
    stmt = select(Shop).where(Shop.external_id == external)
    if platform:
        stmt = stmt.where(Shop.platform == platform)
    else:
        stmt = select(Shop).where((Shop.external_id == external) | (Shop.config_id == external))
    return _one(list(session.exec(stmt)), "shop", ref, lambda s: f"{s.platform}:{s.external_id}")  # type: ignore[return-value]


def find_listing(session: Session, ref: str) -> Listing:
    ref = _clean(ref, "listing")
    if ref.startswith(("http://", "https://")):
        found = list(session.exec(select(Listing).where(Listing.url == ref)))
    else:
        platform, external = split_ref(ref)
        stmt = select(Listing).where(Listing.external_id == external)
        if platform:
            stmt = stmt.where(Listing.platform == platform)
        found = list(session.exec(stmt))
    return _one(found, "listing", ref, lambda x: f"{x.platform}:{x.external_id}")  # type: ignore[return-value]


def find_reviewer(session: Session, ref: int | str) -> Reviewer:
    """A reviewer by database id (int, for library callers) or by platform reference (str)."""
    if isinstance(ref, int):
        row = session.get(Reviewer, ref)
        if row is None:
            raise DataError(f"no reviewer with id {ref}")
        return row
    ref = _clean(ref, "reviewer")
    platform, external = split_ref(ref)
    stmt = select(Reviewer).where(Reviewer.external_id == external)
    if platform:
        stmt = stmt.where(Reviewer.platform == platform)
    found = list(session.exec(stmt))
    if not found:
        by_nick = select(Reviewer).where(Reviewer.nick == external)
        if platform:
            by_nick = by_nick.where(Reviewer.platform == platform)
        found = list(session.exec(by_nick))
    return _one(found, "reviewer", ref, lambda r: f"{r.platform}:{r.external_id}")  # type: ignore[return-value]


def ref_of(row: Shop | Listing | Reviewer | None) -> str | None:
    """How staff name a row back: ``platform:external_id``."""
    return f"{row.platform}:{row.external_id}" if row is not None else None
