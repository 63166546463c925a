"""Near-duplicate marks on the stored reputation facts, kept up to date through stored MinHash
band keys.

``checks.near_duplicate_ids`` is the rule: a review counts when its group (shop or listing)
holds another account's review sharing at least one LSH band key with it and agreeing in at
least NEAR_DUPLICATE_SIMILARITY of the minhashes. Because it is a property of pairs, a stored
mark per fact can follow the reviews that arrive or leave without re-signing the shop: each
fact's band keys sit in ``ReputationBand`` (per shop), so an entering review finds its
partners by key and marks itself and each of them, and the partners of a leaving review have
their marks worked out again from their own candidates. facts.py decides which reviews enter
and leave; this module owns the band rows and the marks.

It signs texts and keys bands through monitor.detection, which loads scikit-learn and SciPy, so
only the pipeline's upkeep reaches it (changed.py -> facts.py); the package root does not import
it, since the alert rules import the root at start-up (tests/alerts/test_alerts_startup.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import delete, select, update
from sqlmodel import Session

from models.reputation import ReputationBand, ReputationFact

from monitor.db import insert_rows, plain_rows
from monitor.detection import minhash
from monitor.detection.neighbours import stored_keys
from monitor.in_lists import id_filters, in_filters
from monitor.reputation.checks import NEAR_DUPLICATE_SIMILARITY
from monitor.reputation.tallies import Dirty

# Rows per executemany INSERT, for the facts (facts.py) and their band keys alike.
BATCH = 5000


def sign(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of review texts, and which texts were long enough to sign."""
    return minhash.signatures(texts)


def stored_signature(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u4")


def _account_key(review_id: int, reviewer_id: int | None) -> int:
    """checks.account as one integer: even for an account, odd for a review that is its own."""
    return 2 * reviewer_id if reviewer_id is not None else 2 * review_id + 1


def store_bands(session: Session, shop_id: int, sigs: dict[int, np.ndarray]) -> None:
    ids = list(sigs)
    for start in range(0, len(ids), BATCH):
        part = ids[start:start + BATCH]
        keys = stored_keys(np.stack([sigs[i] for i in part]))
        # In key order, as the primary key is: in random order nearly every row lands on another
        # page of a table many times larger than SQLite's cache (3M rows: 20.4 -> 13.5 CPU s).
        insert_rows(session, ReputationBand, [
            {"shop_id": shop_id, "key": k, "review_id": rid}
            for k, rid in sorted((k, rid) for rid, row in zip(part, keys.tolist(), strict=True) for k in set(row))
        ])


def drop_bands(session: Session, shop_id: int, sigs: dict[int, np.ndarray]) -> None:
    if not sigs:
        return
    ids = list(sigs)
    for rid, row in zip(ids, stored_keys(np.stack([sigs[i] for i in ids])).tolist(), strict=True):
        session.execute(delete(ReputationBand).where(
            ReputationBand.shop_id == shop_id, ReputationBand.review_id == rid, ReputationBand.key.in_(set(row))))


class Candidates:
    """The facts of one shop sharing a band key with some signatures."""

    def __init__(self, session: Session, shop_id: int, sigs: dict[int, np.ndarray]) -> None:
        self.info: dict[int, tuple[int | None, int | None]] = {}  # id -> listing, reviewer
        self.stored: dict[int, tuple[bool, bool]] = {}  # id -> its stored (dup_shop, dup_listing)
        self.keys: dict[int, list[int]] = {}
        self._ids = np.zeros(0, dtype=np.int64)
        self._sig = np.zeros((0, 0), dtype=np.uint32)
        self._account = np.zeros(0, dtype=np.int64)
        self._at: dict[int, np.ndarray] = {}
        if not sigs:
            return
        ids = list(sigs)
        for rid, row in zip(ids, stored_keys(np.stack([sigs[i] for i in ids])).tolist(), strict=True):
            self.keys[rid] = list(set(row))
        wanted = {k for ks in self.keys.values() for k in ks}
        # One row per (band key, fact) with the fact's columns: a fact sharing several bands
        # with the new ones comes several times, which costs less than looking the facts up by id
        # afterwards. A band row whose fact is gone (a review deleted outright) finds no fact.
        # Tens of thousands of rows (for 100 new reviews at 1M): taken apart as arrays, not one
        # Python object per row.
        f = ReputationFact
        rows: list[tuple] = []
        for where in in_filters(ReputationBand.key, wanted):
            rows.extend(plain_rows(session, select(
                ReputationBand.key, f.review_id, f.listing_id, f.reviewer_id, f.dup_shop, f.dup_listing, f.sig)
                .join(f, f.review_id == ReputationBand.review_id).where(ReputationBand.shop_id == shop_id, where)))
        if not rows:
            return
        band_keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        band_ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        # One matrix of the candidates' signatures, in id order, and per band key the rows of it:
        # a bucket of a stock phrase holds tens of thousands of facts at 1M reviews, too many to
        # compare one Python object at a time for every review that enters.
        self._ids, first = np.unique(band_ids, return_index=True)
        facts = [rows[i] for i in first.tolist()]
        for _, rid, listing_id, reviewer_id, dup_shop, dup_listing, _ in facts:
            self.info[rid] = (listing_id, reviewer_id)
            self.stored[rid] = (bool(dup_shop), bool(dup_listing))
        self._sig = np.frombuffer(b"".join(r[6] for r in facts), dtype="<u4").reshape(len(facts), -1)
        self._account = np.array([_account_key(r[1], r[3]) for r in facts], dtype=np.int64)
        order = np.argsort(band_keys, kind="stable")
        keys, pos = band_keys[order], np.searchsorted(self._ids, band_ids)[order]
        cuts = np.flatnonzero(np.diff(keys)) + 1
        self._at = dict(zip(keys[np.r_[0, cuts]].tolist(), np.split(pos, cuts), strict=True))

    def partners(self, rid: int, reviewer_id: int | None, sig: np.ndarray) -> list[int]:
        """Facts by another account sharing a band with ``sig`` and similar enough to it, by id."""
        parts = [self._at[k] for k in self.keys.get(rid, ()) if k in self._at]
        if not parts:
            return []
        pos = np.unique(np.concatenate(parts))
        pos = pos[(self._ids[pos] != rid) & (self._account[pos] != _account_key(rid, reviewer_id))]
        if not len(pos):
            return []
        est = (self._sig[pos] == sig).mean(axis=1)
        return self._ids[pos[est >= NEAR_DUPLICATE_SIMILARITY]].tolist()


def mark(session: Session, shop_id: int, new: dict[int, np.ndarray], facts: dict[int, Any], dirty: Dirty) -> None:
    """Near-duplicate marks: entering reviews and their partners, and a full recheck of ``facts``
    (the stored rows of the facts a leaving review was a partner of)."""
    recheck_sigs = {rid: stored_signature(f.sig) for rid, f in facts.items() if f.sig is not None}
    cands = Candidates(session, shop_id, {**recheck_sigs, **new})
    marks: dict[int, tuple[bool, bool]] = {rid: (False, False) for rid in facts}
    for rid, sig in {**recheck_sigs, **new}.items():
        listing_id, reviewer_id = cands.info.get(rid) or (facts[rid].listing_id, facts[rid].reviewer_id)
        found = cands.partners(rid, reviewer_id, sig)
        # A set: an arrival of a stock phrase has thousands of partners, each looked up below.
        same_listing = {p for p in found if listing_id is not None and cands.info[p][0] == listing_id}
        marks[rid] = (bool(found), bool(same_listing))
        if rid in new:  # an arrival gives each partner a partner too
            for p in found:
                shop_mark, listing_mark = marks.get(p, (False, False))
                marks[p] = (True, listing_mark or p in same_listing)
    # Only marks that differ from the stored ones are written and their tally rows changed: a stock
    # phrase's new copy finds thousands of partners, nearly all of them marked already.
    writes: dict[tuple[bool, bool], list[int]] = defaultdict(list)
    moved: dict[int, tuple[tuple[bool, bool], tuple[bool, bool]]] = {}
    for rid, (shop_mark, listing_mark) in marks.items():
        stored = cands.stored.get(rid)  # None: a rechecked fact too short to sign, so no candidate
        if rid in new or rid in facts:
            want = (shop_mark, listing_mark)
        else:  # a partner of an arrival (always a candidate): its other partners still count, marks only turn on
            stored = cands.stored[rid]
            want = (stored[0] or shop_mark, stored[1] or listing_mark)
        if stored == want:
            continue
        writes[want].append(rid)
        if stored is not None:
            moved[rid] = (stored, want)
    for (dup_shop, dup_listing), rids in writes.items():
        for where in id_filters(ReputationFact.review_id, rids):
            session.execute(update(ReputationFact).where(where).values(dup_shop=dup_shop, dup_listing=dup_listing))
    dirty.add_ids(session, [rid for rids in writes.values() for rid in rids if rid not in moved])
    _note_moves(session, shop_id, moved, dirty)


def _note_moves(session: Session, shop_id: int, moved: dict[int, tuple[tuple[bool, bool], tuple[bool, bool]]],
                dirty: Dirty) -> None:
    """Each fact whose marks changed leaves its shop's and listing's tally rows for the ones of its
    new marks: their groups need no recount (tallies.Dirty.move)."""
    f = ReputationFact
    for where in id_filters(f.review_id, list(moved)):
        for rid, listing_id, day, removed, once, professional, rating in plain_rows(session, select(
                f.review_id, f.listing_id, f.day, f.removed, f.once, f.professional, f.rating).where(where)):
            (old_shop, old_listing), (new_shop, new_listing) = moved[rid]
            if old_shop != new_shop:
                dirty.move("shop", shop_id, shop_id, day, removed, once, professional, rating, (old_shop, new_shop))
            if old_listing != new_listing and listing_id is not None:
                dirty.move("listing", listing_id, shop_id, day, removed, once, professional, rating,
                           (old_listing, new_listing))
