"""Store normalised items: upsert by (platform, external_id), keep edits and deletions as
ReviewRevision rows, commit in batches so a crash keeps everything stored before it."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from models import Listing, ListingImage, Review, Shop
from monitor import outbox
from monitor.config import Settings
from monitor.db import describe_db_error, get_engine, insert_missing
from monitor.errors import StorageError
from spiders.item_rows import (
    NATURAL_KEY,
    StoreCounts,
    add_image_rows,
    fill_review,
    review_hash,
    reviewer_id,
    revision,
)


BATCH_SIZE = 200
COMMIT_SECONDS = 2.0  # a killed crawl loses at most this much work, whatever the batch size
_LISTING_MERGE = ("url", "title", "price", "currency", "rating_avg", "review_count", "sales")


T = TypeVar("T")


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """A database error in a write becomes ``ItemStore.failed`` (rollback, one line, stop)."""

    @functools.wraps(method)
    def wrapper(self: ItemStore, *args: Any, **kwargs: Any) -> T:
        if self.error is not None:
            raise StorageError(self.error)
        try:
            return method(self, *args, **kwargs)
        except SQLAlchemyError as exc:
            self.failed(exc)
            raise AssertionError("unreachable") from None

    return wrapper


class ItemStore:
    """One per crawl. Not thread-safe: Scrapy calls pipelines from its single reactor thread."""

    def __init__(self, settings: Settings, *, shop_id: int | None, platform: str, now: datetime | None = None) -> None:
        self.settings = settings
        self.session = Session(get_engine(settings), expire_on_commit=False)
        # A failed commit (disk full, database gone) stops storing: ``error`` says why in one
        # line, and ``counts`` go back to what the last good commit stored.
        self.error: str | None = None
        self._committed = StoreCounts()
        self.shop_id = shop_id
        self.platform = platform
        self.now = now or datetime.now(UTC)
        self.counts = StoreCounts()
        self._pending = 0
        self._closed = False
        self._last_commit = time.monotonic()
        self._listing_ids: dict[tuple[str, str], int] = {}
        self._seen_reviews: dict[int, set[str]] = {}
        self._listings_stored: set[tuple[str, str]] = set()

    # Reading state for incremental crawls -----------------------------------------------------
    def listing_state(self, platform: str, external_id: str) -> tuple[int, int] | None:
        """(listing row id, number of stored live reviews) or None for a listing never seen."""
        row = self.session.exec(
            select(Listing.id).where(Listing.platform == platform, Listing.external_id == external_id)
        ).first()
        if row is None:
            return None
        n = self.session.exec(
            select(func.count()).select_from(Review).where(Review.listing_id == row, Review.deleted_at.is_(None))
        ).one()
        return row, int(n)

    def known_reviews(self, platform: str, external_ids: Iterable[str]) -> set[str]:
        ids = [i for i in external_ids if i]
        if not ids:
            return set()
        rows = self.session.exec(
            select(Review.external_id).where(Review.platform == platform, Review.external_id.in_(ids))
        ).all()
        return set(rows)

    # Writing -------------------------------------------------------------------------------------
    def _listing_row(self, platform: str, external_id: str) -> Listing | None:
        return self.session.exec(
            select(Listing).where(Listing.platform == platform, Listing.external_id == external_id)
        ).first()

    @_guarded
    def store_listing(self, item: dict[str, Any]) -> tuple[int, list[str]]:
        """Upsert a listing; returns its row id and the image URLs not stored before."""
        platform, ext = item["platform"], str(item["listing_id"])
        known = self._listing_row(platform, ext)
        row = known or self._new_listing(platform, ext)
        for name in _LISTING_MERGE:
            value = item.get(name)
            if value is not None:  # a shop card knows less than the item page: never erase
                setattr(row, name, value)
        if item.get("attributes"):
            row.attributes = {**(row.attributes or {}), **item["attributes"]}
        if item.get("skus"):
            row.skus = item["skus"]
        if item.get("raw"):
            row.raw = {**(row.raw or {}), **item["raw"]}
        if row.shop_id is None:
            row.shop_id = self.shop_id
        changed = known is None or self.session.is_modified(row)  # before last_seen, which always moves
        row.last_seen = self.now
        self.session.flush()
        if (platform, ext) not in self._listings_stored:  # a card and its item page are one listing
            self._listings_stored.add((platform, ext))
            self.counts.listings_seen += 1
        self._listing_ids[(platform, ext)] = row.id
        new_urls = self._add_images(row.id, item.get("images") or [], role_first="main", role_rest="gallery")
        if changed or new_urls:  # the image check looks at this listing after the crawl
            outbox.record(self.session, "listings", "listing", [row.id])
        self._tick()
        return row.id, new_urls

    def _add_images(self, listing_id: int, urls: list[str], *, role_first: str, role_rest: str) -> list[str]:
        new, retry = add_image_rows(self.session, listing_id, urls, role_first=role_first, role_rest=role_rest)
        self.counts.images_new += len(new)
        return new + retry

    def _new_listing(self, platform: str, external_id: str) -> Listing:
        row = Listing(platform=platform, external_id=external_id, shop_id=self.shop_id, first_seen=self.now)
        if insert_missing(self.session, row, NATURAL_KEY) is not None:
            self.counts.listings_new += 1
        return self._listing_row(platform, external_id)

    def listing_id_for(self, platform: str, external_id: str | None) -> int | None:
        if not external_id:
            return None
        key = (platform, str(external_id))
        if key not in self._listing_ids:
            # Reviews can arrive before (or without) their item page.
            row = self._listing_row(*key) or self._new_listing(*key)
            self._listing_ids[key] = row.id
        return self._listing_ids[key]

    @_guarded
    def store_review(self, item: dict[str, Any]) -> tuple[str, list[str]]:
        """Upsert a review; returns ('new'|'updated'|'unchanged', new buyer-photo URLs)."""
        platform, ext = item["platform"], str(item["review_id"])
        listing_id = self.listing_id_for(platform, item.get("listing_id"))
        digest = review_hash(item)
        row = self.session.exec(select(Review).where(Review.platform == platform, Review.external_id == ext)).first()
        outcome = "unchanged"
        if row is None:
            new = Review(platform=platform, external_id=ext, first_seen=self.now, last_seen=self.now,
                         content_hash=digest)
            fill_review(new, item)
            new.listing_id, new.shop_id, new.reviewer_id = listing_id, self.shop_id, reviewer_id(self.session, item, self.now)
            if insert_missing(self.session, new, NATURAL_KEY) is not None:
                outcome = "new"
                self.counts.reviews_new += 1
            else:  # another crawl stored it a moment ago: from here on it is a known review
                row = self.session.exec(
                    select(Review).where(Review.platform == platform, Review.external_id == ext)).one()
        if row is not None:
            if row.content_hash != digest or row.deleted_at is not None:
                self.session.add(revision(row, "edited" if row.deleted_at is None else "restored", self.now))
                fill_review(row, item)
                row.content_hash = digest
                row.revision_count += 1
                row.deleted_at = None
                row.scored_at = None  # an edited review must be scored again
                row.says_not_as_pictured = None  # and its words read again
                outcome = "updated"
                self.counts.reviews_updated += 1
            else:
                self.counts.reviews_unchanged += 1
            if row.missed_crawls:  # shown again: earlier misses were a page's or the platform's hiccup
                row.missed_crawls, row.missing_since = 0, None
            if row.listing_id is None:
                row.listing_id = listing_id
            row.last_seen = self.now
            self.session.flush()
        if listing_id is not None:
            self._seen_reviews.setdefault(listing_id, set()).add(ext)
        new_photos = []
        if outcome == "new" and listing_id is not None and item.get("photos"):
            new_photos = self._add_images(listing_id, item["photos"], role_first="buyer", role_rest="buyer")
        self._tick()
        return outcome, new_photos

    @_guarded
    def record_misses(self, platform: str, listing_external_id: str, *, newer_than: datetime | None) -> int:
        """After this crawl read a listing's review pages completely (all of them, or the newest
        down to ``newer_than``): stored reviews it should have shown and did not are missed once
        more. The first miss only marks them missing; the second complete crawl in a row that
        misses them marks them deleted. Returns how many were deleted."""
        listing_id = self._listing_ids.get((platform, listing_external_id))
        if listing_id is None:
            return 0
        seen = self._seen_reviews.get(listing_id, set())
        stmt = select(Review).where(Review.listing_id == listing_id, Review.deleted_at.is_(None))
        if newer_than is not None:
            # strictly newer: reviews sharing the boundary's time may sit on the next page
            stmt = stmt.where(Review.created_at > newer_than)
        deleted: list[int] = []
        for row in self.session.exec(stmt).all():
            if row.external_id in seen:
                continue
            row.missed_crawls += 1
            if row.missed_crawls == 1:
                row.missing_since = self.now
                self.counts.reviews_missing += 1
                continue
            self.session.add(revision(row, "deleted", self.now))
            row.deleted_at = self.now
            deleted.append(row.id)  # type: ignore[arg-type]
        self.counts.reviews_deleted += len(deleted)
        outbox.record(self.session, "reputation", "review", deleted)  # their listing's ratings changed
        self._tick(len(deleted) + 1)
        return len(deleted)

    @_guarded
    def set_shop_dsr(self, dsr: dict[str, float]) -> None:
        """The shop's detailed seller ratings (description/service/logistics), as last seen."""
        if self.shop_id is None:
            return
        shop = self.session.get(Shop, self.shop_id)
        if shop is not None:
            shop.dsr = {**dsr, "seen_at": self.now.isoformat()}
            self._tick()

    @_guarded
    def set_image_result(self, listing_id: int, url: str, *, local_path: str | None, checksum: str | None,
                         error: str | None) -> None:
        row = self.session.exec(
            select(ListingImage).where(ListingImage.listing_id == listing_id, ListingImage.url == url)
        ).first()
        if row is None:
            return
        row.local_path, row.checksum, row.fetch_error = local_path, checksum, error
        row.fetched_at = datetime.now(UTC)
        outbox.record(self.session, "listings", "listing", [listing_id])
        self._tick()

    def _tick(self, n: int = 1) -> None:
        self._pending += n
        if self._pending >= BATCH_SIZE or time.monotonic() - self._last_commit >= COMMIT_SECONDS:
            self.commit()

    def commit_pending(self) -> None:
        """The timer's commit: a failure is kept in ``error`` for the pipeline to act on."""
        if self._pending and not self._closed and self.error is None:
            try:
                self.commit()
            except StorageError:
                pass

    def commit(self) -> None:
        if self.error is not None:
            raise StorageError(self.error)
        try:
            self.session.commit()
        except SQLAlchemyError as exc:
            self.failed(exc)
        self._committed = replace(self.counts)
        self._pending = 0
        self._last_commit = time.monotonic()

    def failed(self, exc: SQLAlchemyError) -> None:
        """Roll back (no PendingRollbackError later), keep the first cause, and raise it as one line."""
        try:
            self.session.rollback()
        except SQLAlchemyError:
            pass
        if self.error is None:
            self.error = f"storing failed, crawl stopped: {describe_db_error(exc, self.settings)}"
            self.counts = replace(self._committed)
        raise StorageError(self.error) from None

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self.error is None:
                self.commit()
        finally:
            self.session.close()
            self._closed = True
