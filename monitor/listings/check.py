"""Score stored listings and write ``image_mismatch`` flags."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, update
from sqlmodel import Session, select

from models import Flag, Listing, ListingImage, Review
from models.detection import FLAG_KEY
from monitor.config import Settings
from monitor.db import insert_missing
from monitor.errors import DataError
from monitor.image_store import ImageStore, open_store
from monitor.in_lists import id_filters
from monitor.listings.backend import ImageBackend, allowed_hosts, load_backend
from monitor.listings.loading import ImageLoader, LoaderLimits
from monitor.listings.scoring import ListingInput, ListingScore, ListingScorer
from monitor.listings.words import WordsSignal, says_not_as_pictured

log = logging.getLogger(__name__)

FLAG_KIND = "image_mismatch"
SELLER_ROLES = ("main", "gallery", "sku")
MAX_SELLER_IMAGES = 6
MAX_BUYER_PHOTOS = 12


@dataclass
class CheckedListing:
    listing_id: int
    title: str | None
    result: ListingScore
    flagged: bool


def loader_for(settings: Settings, base_dir: Path | None = None, store: ImageStore | None = None) -> ImageLoader:
    return ImageLoader(
        base_dir=base_dir,
        allowed_hosts=allowed_hosts(settings),
        limits=LoaderLimits(
            max_bytes=settings.listings.max_image_bytes, timeout=settings.listings.fetch_timeout_seconds
        ),
        store=store,
    )


def _source(img: ListingImage, store: ImageStore) -> str:
    """Prefer the copy the crawl saved in the image store; fall back to the URL."""
    return store.source(img.local_path) if img.local_path else img.url


class _Words:
    """Per-shop review counts, computed once per shop rather than once per listing.

    A review's mark (``Review.says_not_as_pictured``: a not-as-pictured cause flag, or the words
    in its text or follow-up) is stored the first time it is read, so a shop's counts are one
    grouped query over an index and only the reviews not read yet (new, edited or re-scored,
    which reset the mark) have their text read."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._shops: dict[int | None, tuple[dict[int, int], dict[int, int]]] = {}
        self._shop_sums: dict[int | None, tuple[int, int]] = {}

    def _in_shop(self, shop_id: int | None):  # noqa: ANN202
        return Review.shop_id == shop_id if shop_id is not None else Review.shop_id.is_(None)  # type: ignore[union-attr]

    def _mark_unread(self, shop_id: int | None) -> None:
        unread = self.session.exec(select(Review.id, Review.text, Review.follow_up_text).where(
            self._in_shop(shop_id), Review.deleted_at.is_(None), Review.says_not_as_pictured.is_(None),  # type: ignore[union-attr]
        )).all()
        if not unread:
            return
        flagged: set[int | None] = set()
        # By review id alone, kind and label compared here: with ``kind = 'cause'`` in the WHERE,
        # SQLite's planner walks the kind index over every cause flag (one per bad review, 200k at
        # 1M reviews) instead of looking up the few flags of these reviews.
        for where in id_filters(Flag.review_id, [rid for rid, _, _ in unread]):
            flagged.update(rid for rid, kind, label in self.session.exec(
                select(Flag.review_id, Flag.kind, Flag.label).where(where))
                if kind == "cause" and label == "not_as_pictured")
        hits = {rid for rid, text, follow in unread
                if rid in flagged or says_not_as_pictured(text) or says_not_as_pictured(follow)}
        misses = [rid for rid, _, _ in unread if rid not in hits]
        for ids, mark in ((hits, True), (misses, False)):
            for where in id_filters(Review.id, ids):
                self.session.execute(update(Review).where(where).values(says_not_as_pictured=mark),
                                     execution_options={"synchronize_session": False})

    def _load(self, shop_id: int | None) -> tuple[dict[int, int], dict[int, int]]:
        if shop_id in self._shops:
            return self._shops[shop_id]
        self._mark_unread(shop_id)
        totals: dict[int, int] = defaultdict(int)
        hits: dict[int, int] = defaultdict(int)
        # Grouped in the index's own order (mark, then listing): no sort of the shop's reviews.
        for mark, lid, n in self.session.exec(
            select(Review.says_not_as_pictured, Review.listing_id, func.count())
            .where(self._in_shop(shop_id), Review.deleted_at.is_(None), Review.listing_id.is_not(None))  # type: ignore[union-attr]
            .group_by(Review.says_not_as_pictured, Review.listing_id)
        ):
            totals[lid] += n
            if mark:
                hits[lid] += n
        self._shops[shop_id] = (totals, hits)
        # Summed once per shop: every listing of the shop compares against the same baseline.
        self._shop_sums[shop_id] = (sum(totals.values()), sum(hits.values()))
        return totals, hits

    def signal(self, listing: Listing) -> WordsSignal:
        totals, hits = self._load(listing.shop_id)
        shop_reviews, shop_hits = self._shop_sums[listing.shop_id]
        return WordsSignal(
            listing_reviews=totals.get(listing.id, 0),  # type: ignore[arg-type]
            listing_hits=hits.get(listing.id, 0),  # type: ignore[arg-type]
            shop_reviews=shop_reviews,
            shop_hits=shop_hits,
        )


def _check_key(version: str, threshold: float, item: ListingInput, words: WordsSignal,
               rows: list[ListingImage]) -> str:
    """What a check's result depends on. The shop's baseline enters rounded to a percentage point:
    every new review moves it a little, and that alone should not re-score the shop's images."""
    seen = [
        version, threshold, item.title, item.attributes, item.sku_names,
        [(r.role, r.position, r.url, r.local_path, r.checksum, r.fetch_error) for r in rows],
        words.listing_reviews, words.listing_hits, round(words.baseline, 2),
    ]
    return hashlib.sha256(json.dumps(seen, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def _write_flag(session: Session, listing: Listing, result: ListingScore, version: str, now: datetime) -> None:
    mine = (Flag.kind == FLAG_KIND, Flag.target_type == "listing", Flag.target_id == listing.id,
            Flag.model_version == version)
    flag = session.exec(select(Flag).where(*mine)).first()
    if flag is None:
        # Inserted first (or found written by another worker a moment ago), then filled in below.
        insert_missing(session, Flag(kind=FLAG_KIND, target_type="listing", target_id=listing.id,
                                     model_version=version, score=0.0, created_at=now), FLAG_KEY)
        flag = session.exec(select(Flag).where(*mine)).one()
    flag.score = float(result.score or 0.0)
    flag.reasons = list(result.reasons)
    flag.label = result.labels[0] if result.labels else None
    flag.listing_id = listing.id
    flag.shop_id = listing.shop_id
    session.add(flag)


def _record_problems(
    session: Session, images: list[ListingImage], problems: dict[str, str], store: ImageStore
) -> None:
    """A saved image that cannot be used says why on its own row. Rows the crawler never saved
    keep their own download error (written by the crawler), untouched."""
    for img in images:
        if not img.local_path:
            continue
        reason = problems.get(_source(img, store))
        if reason and img.fetch_error != reason:
            img.fetch_error = reason[:500]
            session.add(img)


def check_listings_detailed(
    session: Session,
    settings: Settings,
    *,
    listing_id: int | None = None,
    now: datetime | None = None,
    backend: ImageBackend | None = None,
    only_changed: bool = False,
    listing_ids: Iterable[int] | None = None,
) -> list[CheckedListing]:
    """Score stored listings; flag those at or above ``listings.threshold``. Commits.

    With ``only_changed`` (the post-crawl pipeline), a listing whose images, text, buyers' words
    and model version are what its last check saw is skipped: re-scoring every image of a shop
    after every crawl would cost more than the crawl. ``listing_ids`` limits the check to those
    listings (the pipeline passes what the crawl and detection changed)."""
    now = now or datetime.now(UTC)
    stmt = select(Listing).order_by(Listing.id)
    if listing_id is not None:
        stmt = stmt.where(Listing.id == listing_id)
    if listing_ids is not None:
        wanted = sorted(set(listing_ids))
        listings = [row for start in range(0, len(wanted), 500)
                    for row in session.exec(stmt.where(Listing.id.in_(wanted[start : start + 500])))]
    else:
        listings = session.exec(stmt).all()
    if listing_id is not None and not listings:
        raise DataError(f"no listing with id {listing_id}")
    if not listings:
        return []
    backend = backend or load_backend(settings)
    store = open_store(settings.image_store_uri)
    scorer = ListingScorer(backend, loader_for(settings, store=store))
    words = _Words(session)
    threshold = settings.listings.threshold
    out: list[CheckedListing] = []
    skipped = 0
    for listing in listings:
        rows = session.exec(
            select(ListingImage).where(ListingImage.listing_id == listing.id).order_by(ListingImage.position)
        ).all()
        seller = sorted((r for r in rows if r.role in SELLER_ROLES), key=lambda r: (r.role != "main", r.position))
        buyer_rows = [r for r in rows if r.role == "buyer"]
        seller = seller[:MAX_SELLER_IMAGES]
        buyer_rows = buyer_rows[:MAX_BUYER_PHOTOS]
        item = ListingInput(
            listing_id=listing.id,
            title=listing.title,
            attributes=dict(listing.attributes or {}),
            images=[_source(r, store) for r in seller],
            buyer_photos=[_source(r, store) for r in buyer_rows],
            sku_names=[str(s.get("name") or "") for s in (listing.skus or []) if isinstance(s, dict)],
        )
        signal = words.signal(listing)
        if only_changed and listing.image_check_key == _check_key(backend.version, threshold, item, signal, rows):
            skipped += 1
            continue
        result = scorer.score(item, words=signal)
        result.reasons.extend(
            f"{r.role} image {r.url}: the crawler could not download it: {r.fetch_error}"
            for r in [*seller, *buyer_rows]
            if r.fetch_error and not r.local_path
        )
        _record_problems(session, [*seller, *buyer_rows], result.image_problems, store)
        flagged = result.score is not None and result.score >= threshold
        if flagged:
            _write_flag(session, listing, result, backend.version, now)
        listing.image_check_key = _check_key(backend.version, threshold, item, signal, rows)
        session.add(listing)
        out.append(
            CheckedListing(listing_id=listing.id, title=listing.title, result=result, flagged=flagged)  # type: ignore[arg-type]
        )
    session.commit()
    log.info("checked %d listings at %s (%d unchanged, skipped), %d flagged", len(out), now.isoformat(), skipped,
             sum(c.flagged for c in out))
    return out


def check_listings(
    session: Session, settings: Settings, *, listing_id: int | None = None, now: datetime | None = None,
    only_changed: bool = False, listing_ids: Iterable[int] | None = None,
) -> int:
    """Score stored listings and write Flag(kind="image_mismatch"); returns the flags written."""
    checked = check_listings_detailed(session, settings, listing_id=listing_id, now=now, only_changed=only_changed,
                                      listing_ids=listing_ids)
    return sum(c.flagged for c in checked)
