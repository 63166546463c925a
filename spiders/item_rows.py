"""How a normalised item becomes rows: the review's content hash and fields, revisions kept on edits and
deletions, the reviewer's key, and the shop row a crawl stores under."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from models import ListingImage, Review, Reviewer, ReviewRevision, Shop
from monitor.db import insert_missing
from monitor.image_store import STORE_FAILURE

NATURAL_KEY = ("platform", "external_id")  # unique on shops, listings, reviewers and reviews


@dataclass
class StoreCounts:
    listings_seen: int = 0
    listings_new: int = 0
    reviews_new: int = 0
    reviews_updated: int = 0
    reviews_unchanged: int = 0
    reviews_deleted: int = 0
    reviews_missing: int = 0
    images_new: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def review_hash(item: dict[str, Any]) -> str:
    """What counts as an edit: text, rating, follow-up or seller reply changed."""
    key = "\x1f".join(str(item.get(k) or "") for k in ("rating", "text", "follow_up_text", "seller_reply"))
    return hashlib.sha1(key.encode()).hexdigest()


def parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def ensure_shop(session: Session, platform: str, config_id: str, *, name: str | None = None,
                url: str | None = None) -> Shop:
    shop = session.exec(select(Shop).where(Shop.config_id == config_id)).first()
    if shop is None:
        shop = session.exec(select(Shop).where(Shop.platform == platform, Shop.external_id == config_id)).first()
    if shop is None:
        insert_missing(session, Shop(platform=platform, external_id=config_id, config_id=config_id, name=name,
                                     url=url), NATURAL_KEY)
        shop = session.exec(select(Shop).where(Shop.platform == platform, Shop.external_id == config_id)).one()
    return shop


def reviewer_id(session: Session, item: dict[str, Any], now: datetime) -> int | None:
    """The reviewer's row id, inserted on first sight; None when the item names no reviewer."""
    ext = reviewer_key(item)
    if ext is None:
        return None
    key = (Reviewer.platform == item["platform"], Reviewer.external_id == ext)
    found = session.exec(select(Reviewer.id).where(*key)).first()
    if found is None:
        new = Reviewer(platform=item["platform"], external_id=ext, nick=item.get("reviewer_nick"), first_seen=now)
        found = insert_missing(session, new, NATURAL_KEY) or session.exec(select(Reviewer.id).where(*key)).one()
    return found


def reviewer_key(item: dict[str, Any]) -> str | None:
    """The reviewer's stable id on the platform (a masked nick when the page shows nothing better)."""
    raw = item.get("raw") or {}
    ext = raw.get("userMark") or (raw.get("userId") if raw.get("userId") not in (None, "", "0") else None)
    ext = ext or raw.get("profile") or item.get("reviewer_nick")
    return str(ext)[:255] if ext else None


def add_image_rows(session: Session, listing_id: int, urls: list[str], *, role_first: str,
                   role_rest: str) -> tuple[list[str], list[str]]:
    """Add the listing's image URLs not stored before; returns them, and the stored ones to fetch again."""
    if not urls:
        return [], []
    rows = session.exec(
        select(ListingImage.url, ListingImage.local_path, ListingImage.fetch_error)
        .where(ListingImage.listing_id == listing_id)
    ).all()
    existing = {url for url, _, _ in rows}
    # Downloaded before but refused by an unavailable image store: fetched again, not lost.
    retry = [url for url, key, error in rows if key is None and (error or "").startswith(STORE_FAILURE)
             and url in urls]
    new: list[str] = []
    for pos, url in enumerate(urls):
        if url in existing or url in new:
            continue
        session.add(ListingImage(listing_id=listing_id, url=url, position=pos,
                                 role=role_first if pos == 0 else role_rest))
        new.append(url)
    return new, retry


def revision(row: Review, change: str, now: datetime) -> ReviewRevision:
    """What the review said before this ``change`` (edited, restored, deleted)."""
    return ReviewRevision(review_id=row.id, change=change, seen_at=now, old_rating=row.rating, old_text=row.text,
                          old_follow_up_text=row.follow_up_text, old_seller_reply=row.seller_reply)


def fill_review(row: Review, item: dict[str, Any]) -> None:
    """Copy a review item's fields onto its row (the natural key and bookkeeping stay)."""
    row.reviewer_nick = item.get("reviewer_nick")
    row.rating = item.get("rating")
    row.title = item.get("title")
    row.text = item.get("text") or ""
    row.created_at = parse_time(item.get("created_at"))
    row.sku = item.get("sku")
    row.helpful_votes = item.get("helpful_votes")
    row.verified_purchase = item.get("verified_purchase")
    row.follow_up_text = item.get("follow_up_text")
    row.follow_up_at = parse_time(item.get("follow_up_at"))
    row.seller_reply = item.get("seller_reply")
    row.seller_reply_at = parse_time(item.get("seller_reply_at"))
    row.photos = list(item.get("photos") or [])
    row.raw = item.get("raw") or {}
    row.decode_errors = int(item.get("decode_errors") or 0)
