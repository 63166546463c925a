"""Stored per-review reputation facts, and their upkeep from what changed.

``assess_shop`` (store.py) is the definition: it reads every review of a shop and judges the
facts with checks.py. Doing that after every crawl costs a re-read and a re-sign of every text
the shop ever got, so the pipeline keeps one ``ReputationFact`` row per rated, live review
instead: rating, posting day, why it is removed, whether its account is professional or
posted only once, and its near-duplicate marks. The marks and the MinHash band keys behind
them are near_duplicates.py's; the per (target, day) counts a verdict reads, and their
recount for the groups a change touched, are tallies.py's.

What keeps the rows equal to a full recompute:

* a review that arrives, is edited, moves, is deleted or loses its rating leaves and/or enters
  (and near_duplicates.py marks its partners);
* a flag that changes (the outbox's flag ids), or a scored review, refreshes the removed kinds
  of the reviews it names and the professional mark of the accounts;
* a review's account posting again updates that account's ``once`` on every fact of it;
* a shop never built, or whose time zone changed in the settings, is built from scratch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from models.catalog import Shop
from models.detection import Flag
from models.reputation import ReputationBand, ReputationFact, ReputationShop, ReputationTally
from models.reviews import Review

from monitor.config import Settings
from monitor.db import insert_rows
from monitor.in_lists import id_filters
from monitor.reputation.checks import ReviewFact, near_duplicate_ids, signatures_by_id
from monitor.reputation.near_duplicates import (
    BATCH,
    Candidates,
    drop_bands,
    mark,
    sign,
    store_bands,
    stored_signature,
)
from monitor.reputation.reads import REMOVING_KINDS
from monitor.reputation.store import shop_facts
from monitor.reputation.tallies import BIT, Dirty, count_groups

UPDATE_SLICE = 20_000  # reviews whose rows and facts are read and brought up to date together


def shop_timezone(settings: Settings, shop: Shop) -> str:
    return settings.locale_for(shop.config_id).timezone


def _day(posted: datetime, tz: ZoneInfo) -> int:
    return posted.astimezone(tz).date().toordinal()


def _mask(kinds: Iterable[str]) -> int:
    return sum(BIT[k] for k in set(kinds))


# --- building a whole shop ------------------------------------------------------------------


def _forget_shop(session: Session, shop_id: int) -> None:
    session.execute(delete(ReputationBand).where(ReputationBand.shop_id == shop_id))
    session.execute(delete(ReputationFact).where(ReputationFact.shop_id == shop_id))
    session.execute(delete(ReputationShop).where(ReputationShop.shop_id == shop_id))
    session.execute(delete(ReputationTally).where(ReputationTally.shop_id == shop_id))


def build_shop(session: Session, settings: Settings, shop: Shop) -> int:
    """Every fact of the shop from its reviews (the one full read); returns the facts written."""
    tz_name = shop_timezone(settings, shop)
    tz = ZoneInfo(tz_name)
    _forget_shop(session, shop.id)  # type: ignore[arg-type]
    groups = shop_facts(session, shop.id)  # type: ignore[arg-type]
    everything = [f for group in groups.values() for f in group]
    revisions: dict[int, int] = {}
    for where in id_filters(Review.id, [f.id for f in everything]):
        revisions.update(session.execute(select(Review.id, Review.revision_count).where(where)).all())
    listing_of = {f.id: lid for lid, group in groups.items() for f in group}
    signed = signatures_by_id(everything)
    dup_shop = near_duplicate_ids(everything, signed)
    dup_listing: set[int] = set()
    for lid, group in groups.items():
        if lid is not None:
            dup_listing |= near_duplicate_ids(group, signed)
    rows = [_row(shop.id, listing_of[f.id], f, revisions[f.id], tz, signed.get(f.id),  # type: ignore[arg-type]
                 dup_shop=f.id in dup_shop, dup_listing=f.id in dup_listing) for f in everything]
    for start in range(0, len(rows), BATCH):
        insert_rows(session, ReputationFact, rows[start:start + BATCH])
    store_bands(session, shop.id, {f.id: signed[f.id] for f in everything if f.id in signed})  # type: ignore[arg-type]
    for scope in ("shop", "listing"):
        count_groups(session, scope, ReputationFact.shop_id == shop.id)
    session.add(ReputationShop(shop_id=shop.id, timezone=tz_name))  # type: ignore[arg-type]
    session.flush()
    return len(rows)


def _row(shop_id: int, listing_id: int | None, f: ReviewFact, revision_count: int, tz: ZoneInfo,
         sig: np.ndarray | None, *, dup_shop: bool = False, dup_listing: bool = False) -> dict[str, Any]:
    return {
        "review_id": f.id, "shop_id": shop_id, "listing_id": listing_id, "reviewer_id": f.reviewer_id,
        "revision_count": revision_count, "rating": f.rating, "day": _day(f.posted, tz),
        "removed": _mask(f.removed_because), "professional": f.professional, "once": f.reviewer_reviews <= 1,
        "dup_shop": dup_shop, "dup_listing": dup_listing,
        "sig": sig.astype("<u4").tobytes() if sig is not None else None,
    }


def build_missing(session: Session, settings: Settings) -> set[int]:
    """Build the shops that have no facts yet, or whose facts counted days in another time zone."""
    built: set[int] = set()
    state = dict(session.execute(select(ReputationShop.shop_id, ReputationShop.timezone)).all())
    for shop in session.execute(select(Shop).order_by(Shop.id)).scalars():
        if state.get(shop.id) != shop_timezone(settings, shop):
            build_shop(session, settings, shop)
            built.add(shop.id)  # type: ignore[arg-type]
    return built


# --- keeping them up to date ----------------------------------------------------------------


def _review_rows(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for where in id_filters(Review.id, ids):
        for row in session.execute(select(
            Review.id, Review.shop_id, Review.listing_id, Review.reviewer_id, Review.rating, Review.created_at,
            Review.first_seen, Review.deleted_at, Review.revision_count, Review.text,
        ).where(where)):
            out[row.id] = row
    return out


def _fact_rows(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for where in id_filters(ReputationFact.review_id, ids):
        for row in session.execute(select(
            ReputationFact.review_id, ReputationFact.shop_id, ReputationFact.listing_id, ReputationFact.reviewer_id,
            ReputationFact.revision_count, ReputationFact.rating, ReputationFact.day, ReputationFact.sig,
        ).where(where)):
            out[row.review_id] = row
    return out


def reviews_of_listings(session: Session, listing_ids: Iterable[int]) -> set[int]:
    """Every review a listing holds or a fact places there: what a listing-only outbox row may
    have changed (a writer that knows the listing but not the reviews)."""
    ids: set[int] = set()
    for where in id_filters(Review.listing_id, listing_ids):
        ids.update(session.execute(select(Review.id).where(where)).scalars())
    for where in id_filters(ReputationFact.listing_id, listing_ids):
        ids.update(session.execute(select(ReputationFact.review_id).where(where)).scalars())
    return ids


def update_reviews(session: Session, settings: Settings, review_ids: set[int], dirty: Dirty) -> set[int]:
    """Bring the facts of these reviews (new, edited, moved or gone) and of their near-duplicate
    partners up to date; returns the listings whose facts changed."""
    if not review_ids:
        return set()
    touched: set[int] = set()
    reviewers: set[int] = set()
    # In slices, each as a run of its own would take it: the first run after an import or an
    # upgrade brings every stored review here, and their rows (texts) and facts (signatures) read
    # at once were most of that run's peak memory. The flags and the accounts' marks are read once.
    ordered = sorted(review_ids)
    for start in range(0, len(ordered), UPDATE_SLICE):
        touched |= _update_slice(session, settings, set(ordered[start:start + UPDATE_SLICE]), dirty, reviewers)
    refresh_flags(session, review_ids, reviewers, dirty)
    refresh_once(session, reviewers, dirty)
    touched.discard(None)  # type: ignore[arg-type]
    return touched


def _update_slice(session: Session, settings: Settings, review_ids: set[int], dirty: Dirty,
                  reviewers: set[int]) -> set[int]:
    """``update_reviews`` for some of its reviews, their flags and accounts left to it; adds their
    accounts to ``reviewers``."""
    reviews = _review_rows(session, review_ids)
    old = _fact_rows(session, review_ids)
    shops = {s.id: s for s in session.execute(select(Shop).where(
        Shop.id.in_({r.shop_id for r in reviews.values() if r.shop_id is not None} | {f.shop_id for f in old.values()})
    )).scalars()}
    tz = {sid: ZoneInfo(shop_timezone(settings, s)) for sid, s in shops.items()}
    leaving: dict[int, dict[int, np.ndarray]] = defaultdict(dict)  # shop -> id -> old signature
    leave_ids: list[int] = []
    entering: list[Any] = []
    for rid in review_ids:
        r, f = reviews.get(rid), old.get(rid)
        live = r is not None and r.rating is not None and r.deleted_at is None and r.shop_id in shops
        same = (f is not None and live and (f.shop_id, f.listing_id, f.revision_count, f.rating)
                == (r.shop_id, r.listing_id, r.revision_count, r.rating)
                and f.day == _day(r.created_at or r.first_seen, tz[r.shop_id]))
        if same:
            continue  # only its flags or its account's marks can have changed: refreshed below
        if f is not None:
            leave_ids.append(rid)
            if f.sig is not None:
                leaving[f.shop_id][rid] = stored_signature(f.sig)
        if live:
            entering.append(r)
    touched = {old[i].listing_id for i in leave_ids} | {r.listing_id for r in entering}
    recheck: dict[int, set[int]] = defaultdict(set)  # shop -> facts whose partners left
    for shop_id, sigs in leaving.items():
        cands = Candidates(session, shop_id, sigs)
        for rid, sig in sigs.items():
            recheck[shop_id].update(cands.partners(rid, old[rid].reviewer_id, sig))
        drop_bands(session, shop_id, sigs)
    dirty.groups.update((old[i].shop_id, old[i].listing_id, old[i].day) for i in leave_ids)
    for where in id_filters(ReputationFact.review_id, leave_ids):
        session.execute(delete(ReputationFact).where(where))
    for ids in recheck.values():
        ids.difference_update(leave_ids)
    # Entering reviews: signed, stored unmarked, then marked with their partners below.
    sigs, usable = sign([r.text or "" for r in entering])
    signed_rows = iter(sigs)
    new_sigs: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    rows = []
    for r, ok in zip(entering, usable.tolist(), strict=True):
        sig = next(signed_rows) if ok else None
        if sig is not None:
            new_sigs[r.shop_id][r.id] = sig
        fact = ReviewFact(id=r.id, rating=r.rating, posted=r.created_at or r.first_seen, reviewer_id=r.reviewer_id)
        rows.append(_row(r.shop_id, r.listing_id, fact, r.revision_count, tz[r.shop_id], sig))
    for start in range(0, len(rows), BATCH):
        insert_rows(session, ReputationFact, rows[start:start + BATCH])
    for shop_id, shop_sigs in new_sigs.items():
        store_bands(session, shop_id, shop_sigs)
    dirty.add_ids(session, [r.id for r in entering])
    for shop_id in set(new_sigs) | set(recheck):
        mark(session, shop_id, new_sigs.get(shop_id, {}), _fact_rows(session, recheck.get(shop_id, set())), dirty)
    reviewers.update(r.reviewer_id for r in reviews.values() if r.reviewer_id is not None)
    return touched  # type: ignore[return-value]


def refresh_flags(session: Session, review_ids: set[int], reviewer_ids: set[int], dirty: Dirty) -> None:
    """Removed kinds of these reviews' facts and the professional mark of these accounts' facts,
    read again from the flags (as store.flag_marks reads them)."""
    if review_ids:
        masks: dict[int, set[str]] = defaultdict(set)
        for where in id_filters(Flag.target_id, review_ids):
            for rid, kind in session.execute(select(Flag.target_id, Flag.kind).where(
                where, Flag.target_type == "review", Flag.status != "rejected",
                Flag.kind.in_([k for k in REMOVING_KINDS if k != "attack"]),
            )):
                masks[rid].add(kind)
        # Attack members sit in a JSON list; attacks are few, so all live ones are read.
        for (members,) in session.execute(select(Flag.members).where(Flag.kind == "attack", Flag.status != "rejected")):
            for rid in members or ():
                if rid in review_ids:
                    masks[rid].add("attack")
        # Grouped by the new mask: a catch-up over a whole history changes tens of thousands of
        # facts, and two statements per fact took 30 times as long.
        changes: dict[int, list[int]] = defaultdict(list)
        for rid, removed in _removed_of(session, review_ids).items():
            want = _mask(masks.get(rid, ()))
            if want != removed:
                changes[want].append(rid)
        for want, rids in changes.items():
            for where in id_filters(ReputationFact.review_id, rids):
                dirty.add_where(session, where)
                session.execute(update(ReputationFact).where(where).values(removed=want))
    if reviewer_ids:
        professional: set[int] = set()
        for where in id_filters(Flag.target_id, reviewer_ids):
            professional.update(session.execute(select(Flag.target_id).where(
                where, Flag.kind == "professional", Flag.target_type == "reviewer", Flag.status != "rejected",
            )).scalars())
        for ids, mark in ((professional, True), (reviewer_ids - professional, False)):
            for where in id_filters(ReputationFact.reviewer_id, ids):
                changing = where & (ReputationFact.professional != mark)
                dirty.add_where(session, changing)
                session.execute(update(ReputationFact).where(changing).values(professional=mark))


def _removed_of(session: Session, review_ids: set[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for where in id_filters(ReputationFact.review_id, review_ids):
        out.update(session.execute(select(ReputationFact.review_id, ReputationFact.removed).where(where)).all())
    return out


def refresh_once(session: Session, reviewer_ids: set[int], dirty: Dirty) -> None:
    """``once`` for every fact of these accounts, from how many reviews each has anywhere."""
    counts: dict[int, int] = {}
    for where in id_filters(Review.reviewer_id, reviewer_ids):
        counts.update(session.execute(
            select(Review.reviewer_id, func.count(Review.id)).where(where).group_by(Review.reviewer_id)).all())
    several = [w for w in reviewer_ids if counts.get(w, 0) > 1]
    single = [w for w in reviewer_ids if counts.get(w, 0) <= 1]
    for ids, once in ((several, False), (single, True)):
        for where in id_filters(ReputationFact.reviewer_id, ids):
            changing = where & (ReputationFact.once != once)
            dirty.add_where(session, changing)
            session.execute(update(ReputationFact).where(changing).values(once=once))


def flag_targets(session: Session, flag_ids: set[int]) -> tuple[set[int], set[int]]:
    """The reviews and accounts whose facts these flags can change."""
    reviews: set[int] = set()
    reviewers: set[int] = set()
    for where in id_filters(Flag.id, flag_ids):
        for target_type, target_id, members in session.execute(
                select(Flag.target_type, Flag.target_id, Flag.members).where(where)):
            if target_type == "review":
                reviews.add(target_id)
            elif target_type == "reviewer":
                reviewers.add(target_id)
            reviews.update(members or ())
    return reviews, reviewers
