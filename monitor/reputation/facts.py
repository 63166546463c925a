"""Stored per-review reputation facts, kept up to date from what changed, and verdicts summed
from them with SQL.

``assess_shop`` (store.py) is the definition: it reads every review of a shop and judges the
facts with checks.py. Doing that after every crawl costs a re-read and a re-sign of every text
the shop ever got, so the pipeline keeps one ``ReputationFact`` row per rated, live review
instead: rating, posting day, why it is removed, whether its account is professional or
posted only once, and its near-duplicate marks, plus its MinHash band keys
(``ReputationBand``). The facts are counted per shop or listing, day and combination of marks
(``ReputationTally``), so a verdict reads a few hundred tally rows (``tally_*``), judged by the
same ``checks.assess_tally``; a change counts the (target, day) groups it touched again from
the facts (``Dirty``, ``recount``).

What keeps the rows equal to a full recompute:

* a review that arrives, is edited, moves, is deleted or loses its rating leaves and/or enters.
  Its near-duplicate partners (the pairwise rule in ``checks.near_duplicate_ids``) are found
  through the shop's band keys: an entering review marks itself and each partner; a leaving
  review's partners have their marks worked out again from their own candidates;
* a flag that changes (the outbox's flag ids), or a scored review, refreshes the removed kinds
  of the reviews it names and the professional mark of the accounts;
* a review's account posting again updates that account's ``once`` on every fact of it;
* a shop never built, or whose time zone changed in the settings, is built from scratch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import bindparam, delete, func, insert, literal, select, update
from sqlmodel import Session

from models.catalog import Shop
from models.detection import Flag
from models.reputation import ReputationBand, ReputationFact, ReputationShop, ReputationTally
from models.reviews import Review

from monitor.config import Settings
from monitor.in_lists import chunks, id_filters, in_filters
from monitor.reputation.checks import (
    NEAR_DUPLICATE_SIMILARITY,
    REMOVING_KINDS,
    ReviewFact,
    Tally,
    near_duplicate_ids,
    signatures_by_id,
)
from monitor.reputation.store import shop_facts

BIT = {kind: 1 << i for i, kind in enumerate(REMOVING_KINDS)}
_CHUNK = 5000


def shop_timezone(settings: Settings, shop: Shop) -> str:
    return settings.locale_for(shop.config_id).timezone


def _band_keys(sigs: np.ndarray) -> np.ndarray:
    # Imported on first use, like checks.signatures_by_id: the alert rules import this package
    # and must not load scikit-learn with it.
    from monitor.detection.neighbours import stored_keys

    return stored_keys(sigs)


def _sign(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from monitor.detection import minhash  # see _band_keys

    return minhash.signatures(texts)


def _sig(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u4")


def _account(review_id: int, reviewer_id: int | None) -> tuple[str, int]:
    return ("reviewer", reviewer_id) if reviewer_id is not None else ("review", review_id)  # as checks.account


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
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(ReputationFact), rows[start:start + _CHUNK])
    _store_bands(session, shop.id, {f.id: signed[f.id] for f in everything if f.id in signed})  # type: ignore[arg-type]
    for scope in ("shop", "listing"):
        _count(session, scope, ReputationFact.shop_id == shop.id)
    session.add(ReputationShop(shop_id=shop.id, timezone=tz_name))  # type: ignore[arg-type]
    session.flush()
    return len(rows)


def _count(session: Session, scope: str, where: Any) -> None:
    """Tally rows counted from the facts that ``where`` selects (whole groups: the caller has
    deleted those groups' old rows)."""
    f = ReputationFact
    target, dup = (f.shop_id, f.dup_shop) if scope == "shop" else (f.listing_id, f.dup_listing)
    keys = (target, f.day, f.removed, f.once, dup, f.professional)
    session.execute(insert(ReputationTally).from_select(
        ["scope", "target_id", "day", "removed", "once", "dup", "professional", "shop_id", "n", "rating_sum"],
        select(literal(scope), *keys, func.min(f.shop_id), func.count(), func.sum(f.rating))
        .where(where, target.is_not(None)).group_by(*keys),
    ))


class Dirty:
    """The (shop, listing, day) groups whose facts a change touched: their tally rows are counted
    again from the facts at the end (``recount``), so a tally never drifts from its facts."""

    def __init__(self) -> None:
        self.groups: set[tuple[int, int | None, int]] = set()

    def add_where(self, session: Session, where: Any) -> None:
        f = ReputationFact
        self.groups.update(session.execute(select(f.shop_id, f.listing_id, f.day).where(where).distinct()).all())

    def add_ids(self, session: Session, ids: Iterable[int]) -> None:
        for where in id_filters(ReputationFact.review_id, ids):
            self.add_where(session, where)


def recount(session: Session, dirty: Dirty) -> None:
    """Count the dirty (target, day) groups again from the facts and replace their tally rows.

    One small grouped SELECT per target (the same cached statement each time), then one
    executemany DELETE and one INSERT for all of them."""
    f, t = ReputationFact, ReputationTally
    days: dict[tuple[str, int], set[int]] = defaultdict(set)
    for shop_id, listing_id, day in dirty.groups:
        days[("shop", shop_id)].add(day)
        if listing_id is not None:
            days[("listing", listing_id)].add(day)
    # Built once per scope and executed with parameters: building a statement costs more than running it.
    counts = {}
    for scope, column, dup in (("shop", f.shop_id, f.dup_shop), ("listing", f.listing_id, f.dup_listing)):
        counts[scope] = (
            select(f.day, f.removed, f.once, dup, f.professional, func.min(f.shop_id), func.count(), func.sum(f.rating))
            .where(column == bindparam("target"), f.day.in_(bindparam("days", expanding=True)))
            .group_by(f.day, f.removed, f.once, dup, f.professional)
        )
    rows: list[dict[str, Any]] = []
    for (scope, target_id), wanted in sorted(days.items()):
        for batch in chunks(sorted(wanted)):
            rows += [
                {"scope": scope, "target_id": target_id, "day": day, "removed": removed, "once": once, "dup": is_dup,
                 "professional": professional, "shop_id": shop_id, "n": n, "rating_sum": rating_sum}
                for day, removed, once, is_dup, professional, shop_id, n, rating_sum
                in session.execute(counts[scope], {"target": target_id, "days": batch})
            ]
    if days:
        # Core executemany: the ORM session has no bulk DELETE with parameter lists.
        session.connection().execute(
            delete(t).where(t.scope == bindparam("s"), t.target_id == bindparam("i"), t.day == bindparam("d")),
            [{"s": scope, "i": target_id, "d": day} for (scope, target_id), wanted in days.items() for day in wanted])
    if rows:
        session.execute(insert(t), rows)


def _row(shop_id: int, listing_id: int | None, f: ReviewFact, revision_count: int, tz: ZoneInfo,
         sig: np.ndarray | None, *, dup_shop: bool = False, dup_listing: bool = False) -> dict[str, Any]:
    return {
        "review_id": f.id, "shop_id": shop_id, "listing_id": listing_id, "reviewer_id": f.reviewer_id,
        "revision_count": revision_count, "rating": f.rating, "day": _day(f.posted, tz),
        "removed": _mask(f.removed_because), "professional": f.professional, "once": f.reviewer_reviews <= 1,
        "dup_shop": dup_shop, "dup_listing": dup_listing,
        "sig": sig.astype("<u4").tobytes() if sig is not None else None,
    }


def _store_bands(session: Session, shop_id: int, sigs: dict[int, np.ndarray]) -> None:
    ids = list(sigs)
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        keys = _band_keys(np.stack([sigs[i] for i in part]))
        session.execute(insert(ReputationBand), [
            {"shop_id": shop_id, "key": k, "review_id": rid}
            for rid, row in zip(part, keys.tolist(), strict=True) for k in set(row)
        ])


def _drop_bands(session: Session, shop_id: int, sigs: dict[int, np.ndarray]) -> None:
    if not sigs:
        return
    ids = list(sigs)
    for rid, row in zip(ids, _band_keys(np.stack([sigs[i] for i in ids])).tolist(), strict=True):
        session.execute(delete(ReputationBand).where(
            ReputationBand.shop_id == shop_id, ReputationBand.review_id == rid, ReputationBand.key.in_(set(row))))


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


class _Candidates:
    """The facts of one shop sharing a band key with some signatures."""

    def __init__(self, session: Session, shop_id: int, sigs: dict[int, np.ndarray]) -> None:
        self.by_key: dict[int, set[int]] = defaultdict(set)
        self.info: dict[int, tuple[int | None, int | None, np.ndarray]] = {}  # id -> listing, reviewer, sig
        self.keys: dict[int, list[int]] = {}
        if not sigs:
            return
        ids = list(sigs)
        for rid, row in zip(ids, _band_keys(np.stack([sigs[i] for i in ids])).tolist(), strict=True):
            self.keys[rid] = list(set(row))
        wanted = {k for ks in self.keys.values() for k in ks}
        # Keys first (the band table's primary key alone), then each candidate's row once: a
        # review sharing several bands with the new ones is fetched once, not once per band.
        for where in in_filters(ReputationBand.key, wanted):
            for key, rid in session.execute(
                select(ReputationBand.key, ReputationBand.review_id).where(ReputationBand.shop_id == shop_id, where)
            ):
                self.by_key[key].add(rid)
        ids = {rid for members in self.by_key.values() for rid in members}
        for where in id_filters(ReputationFact.review_id, ids):
            for rid, listing_id, reviewer_id, raw in session.execute(
                select(ReputationFact.review_id, ReputationFact.listing_id, ReputationFact.reviewer_id,
                       ReputationFact.sig).where(where)
            ):
                self.info[rid] = (listing_id, reviewer_id, _sig(raw))

    def partners(self, rid: int, reviewer_id: int | None, sig: np.ndarray) -> list[int]:
        """Facts by another account sharing a band with ``sig`` and similar enough to it."""
        me = _account(rid, reviewer_id)
        cands = sorted({c for k in self.keys.get(rid, ()) for c in self.by_key.get(k, ())} - {rid})
        # A band row whose fact is gone (a review deleted outright) is no candidate.
        cands = [c for c in cands if c in self.info and _account(c, self.info[c][1]) != me]
        if not cands:
            return []
        est = (np.stack([self.info[c][2] for c in cands]) == sig).mean(axis=1)
        return [c for c, e in zip(cands, est.tolist(), strict=True) if e >= NEAR_DUPLICATE_SIMILARITY]


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
                leaving[f.shop_id][rid] = _sig(f.sig)
        if live:
            entering.append(r)
    touched = {old[i].listing_id for i in leave_ids} | {r.listing_id for r in entering}
    recheck: dict[int, set[int]] = defaultdict(set)  # shop -> facts whose partners left
    for shop_id, sigs in leaving.items():
        cands = _Candidates(session, shop_id, sigs)
        for rid, sig in sigs.items():
            recheck[shop_id].update(cands.partners(rid, old[rid].reviewer_id, sig))
        _drop_bands(session, shop_id, sigs)
    dirty.groups.update((old[i].shop_id, old[i].listing_id, old[i].day) for i in leave_ids)
    for where in id_filters(ReputationFact.review_id, leave_ids):
        session.execute(delete(ReputationFact).where(where))
    for ids in recheck.values():
        ids.difference_update(leave_ids)
    # Entering reviews: signed, stored unmarked, then marked with their partners below.
    sigs, usable = _sign([r.text or "" for r in entering])
    signed_rows = iter(sigs)
    new_sigs: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    rows = []
    for r, ok in zip(entering, usable.tolist(), strict=True):
        sig = next(signed_rows) if ok else None
        if sig is not None:
            new_sigs[r.shop_id][r.id] = sig
        fact = ReviewFact(id=r.id, rating=r.rating, posted=r.created_at or r.first_seen, reviewer_id=r.reviewer_id)
        rows.append(_row(r.shop_id, r.listing_id, fact, r.revision_count, tz[r.shop_id], sig))
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(ReputationFact), rows[start:start + _CHUNK])
    for shop_id, shop_sigs in new_sigs.items():
        _store_bands(session, shop_id, shop_sigs)
    dirty.add_ids(session, [r.id for r in entering])
    for shop_id in set(new_sigs) | set(recheck):
        _mark(session, shop_id, new_sigs.get(shop_id, {}), recheck.get(shop_id, set()), dirty)
    refresh_flags(session, review_ids, {r.reviewer_id for r in reviews.values() if r.reviewer_id is not None}, dirty)
    refresh_once(session, {r.reviewer_id for r in reviews.values() if r.reviewer_id is not None}, dirty)
    touched.discard(None)
    return touched  # type: ignore[return-value]


def _mark(session: Session, shop_id: int, new: dict[int, np.ndarray], recheck: set[int], dirty: Dirty) -> None:
    """Near-duplicate marks: entering reviews and their partners, and a full recheck of the facts
    a leaving review was a partner of."""
    facts = _fact_rows(session, recheck)
    recheck_sigs = {rid: _sig(f.sig) for rid, f in facts.items() if f.sig is not None}
    cands = _Candidates(session, shop_id, {**recheck_sigs, **new})
    marks: dict[int, tuple[bool, bool]] = {rid: (False, False) for rid in facts}
    for rid, sig in {**recheck_sigs, **new}.items():
        listing_id, reviewer_id, _ = cands.info.get(rid) or (facts[rid].listing_id, facts[rid].reviewer_id, sig)
        found = cands.partners(rid, reviewer_id, sig)
        same_listing = [p for p in found if listing_id is not None and cands.info[p][0] == listing_id]
        marks[rid] = (bool(found), bool(same_listing))
        if rid in new:  # an arrival gives each partner a partner too
            for p in found:
                shop_mark, listing_mark = marks.get(p, (False, False))
                marks[p] = (True, listing_mark or p in same_listing)
    # One UPDATE per distinct set of values, not one per review.
    writes: dict[tuple[tuple[str, bool], ...], list[int]] = defaultdict(list)
    for rid, (shop_mark, listing_mark) in marks.items():
        if rid in new or rid in facts:
            values = {"dup_shop": shop_mark, "dup_listing": listing_mark}
        else:  # a partner of an arrival: its other partners still count, marks only turn on
            values = {k: True for k, v in (("dup_shop", shop_mark), ("dup_listing", listing_mark)) if v}
        if values:
            writes[tuple(sorted(values.items()))].append(rid)
    for values, rids in writes.items():
        for where in id_filters(ReputationFact.review_id, rids):
            session.execute(update(ReputationFact).where(where).values(**dict(values)))
    dirty.add_ids(session, marks)


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
        for rid, removed in _removed_of(session, review_ids).items():
            want = _mask(masks.get(rid, ()))
            if want != removed:
                dirty.add_where(session, ReputationFact.review_id == rid)
                session.execute(update(ReputationFact).where(ReputationFact.review_id == rid).values(removed=want))
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


# --- verdicts from the facts ----------------------------------------------------------------


def _add(t: Tally, day: int, removed: int, once: Any, dup: Any, professional: Any, n: int, rating_sum: int) -> None:
    t.reviews += n
    t.rating_sum += rating_sum
    if removed:
        t.removed += n
        t.removed_rating_sum += rating_sum
        for kind, bit in BIT.items():
            if removed & bit:
                t.kinds[kind] += n
    t.per_day[date.fromordinal(day)] += n
    if dup:
        t.near_duplicates += n
    if once:
        t.once += n
        t.once_rating_sum += rating_sum
    if professional:
        t.professional += n


def tally_shop(session: Session, shop_id: int) -> Tally:
    t = ReputationTally
    out = Tally()
    for row in session.execute(select(t.day, t.removed, t.once, t.dup, t.professional, t.n, t.rating_sum)
                               .where(t.scope == "shop", t.target_id == shop_id)):
        _add(out, *row)
    return out


def tally_listings(session: Session, listing_ids: Iterable[int]) -> dict[int, Tally]:
    t = ReputationTally
    out = {lid: Tally() for lid in listing_ids}
    for where in id_filters(t.target_id, list(out)):
        for lid, *row in session.execute(
            select(t.target_id, t.day, t.removed, t.once, t.dup, t.professional, t.n, t.rating_sum)
            .where(t.scope == "listing", where)
        ):
            _add(out[lid], *row)
    return out
