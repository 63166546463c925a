"""Near-duplicate clusters around some reviews, found through stored MinHash bands.

A run that scores new reviews must know every stored bad review that copies their text, in
any shop, or a template posted across shops looks like a pair in each (and the result depends
on the order shops were crawled). Re-hashing every stored text each run would not scale, so
each bad review's signature and LSH band keys are stored when it is scored; a run then walks
from its reviews over the bands, exactly as ``minhash.cluster`` links rows over a whole
database: inside a bucket every member is compared with the bucket's lowest review id. The
walk follows those links to the end, so the clusters it returns are the clusters the whole
database has, and nothing outside them is read.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import and_, delete, select
from sqlmodel import Session

from models import Review, ReviewBand, ReviewSignature
from monitor.db import analyze_written, insert_rows, plain_rows
from monitor.detection import minhash
from monitor.detection.review_rows import fetch_ids, iter_texts
from monitor.in_lists import id_filters, in_filters
from monitor.detection.reviewer_features import TextClusters

# Band number mixed into the key: the same hash in two bands is not the same bucket.
_BAND_SALT = np.arange(minhash.BANDS, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)


def stored_keys(sigs: np.ndarray) -> np.ndarray:
    """The BIGINT keys stored for each row's bands."""
    keys = minhash.band_keys(sigs) + _BAND_SALT  # wraps modulo 2**64, like the hashes themselves
    return keys.view(np.int64)


def forget(session: Session, review_ids: Iterable[int]) -> None:
    """Drop stored signatures (an edited review is signed again, a review no longer bad is not)."""
    ids = list(review_ids)
    for where in id_filters(ReviewBand.review_id, ids):
        session.execute(delete(ReviewBand).where(where))
    for where in id_filters(ReviewSignature.review_id, ids):
        session.execute(delete(ReviewSignature).where(where))


def store(session: Session, ids: np.ndarray, sigs: np.ndarray, *, replace: bool = True) -> None:
    """Write signatures and band keys for ``ids`` (rows of ``sigs``); earlier ones are replaced."""
    if replace:
        forget(session, ids.tolist())
    if not len(ids):
        return
    keys = stored_keys(sigs)
    insert_rows(session, ReviewSignature,
                [{"review_id": int(i), "sig": s.astype("<u4").tobytes()} for i, s in zip(ids, sigs, strict=True)])
    # In key order, as the primary key is (near_duplicates.store_bands says why).
    pairs = sorted((k, i) for i, row in zip(ids.tolist(), keys.tolist(), strict=True) for k in set(row))
    insert_rows(session, ReviewBand, [{"key": k, "review_id": i} for k, i in pairs])


def rebuild(session: Session, ids: np.ndarray, sigs: np.ndarray | None) -> None:
    """Replace every stored signature (a run over the whole database computed them all)."""
    session.execute(delete(ReviewBand))
    session.execute(delete(ReviewSignature))
    if sigs is None:
        return
    for start in range(0, len(ids), 5000):
        store(session, ids[start : start + 5000], sigs[start : start + 5000], replace=False)


def sign(session: Session, review_ids: np.ndarray, bad: np.ndarray) -> None:
    """Sign the bad ones among freshly scored ``review_ids``; forget the others' old signatures."""
    forget(session, review_ids[~bad].tolist())
    want = np.sort(review_ids[bad])
    for ids, texts in iter_texts(session, want):
        sigs, usable = minhash.signatures(texts)
        forget(session, ids[~usable].tolist())
        store(session, ids[usable], sigs)
    # The walk that follows looks these bands up by key in this same transaction.
    analyze_written(session, (ReviewBand.__tablename__, ReviewSignature.__tablename__), len(want) * minhash.BANDS)


class Walk:
    """Band keys, buckets and signatures read so far, kept for the next walk of the same run
    (``behaviour`` walks again from more seeds when the first walk found more reviewers; the
    stored bands do not change in between). Every bucket holds live bad reviews with a stored
    signature only."""

    def __init__(self, session: Session, bad_max: int) -> None:
        self.session = session
        self.live_bad = and_(Review.deleted_at.is_(None), Review.rating >= 1, Review.rating <= bad_max)
        self.sig: dict[int, np.ndarray] = {}  # every bucket member's signature
        self._keys: dict[int, list[int]] = {}  # review -> its band keys
        self._bucket: dict[int, list[int]] = {}  # band key -> live bad reviews

    def keys_of(self, ids: list[int]) -> set[int]:
        need = [i for i in ids if i not in self._keys]
        for i in need:
            self._keys[i] = []
        for where in id_filters(ReviewBand.review_id, need):
            for rid, key in plain_rows(self.session, select(ReviewBand.review_id, ReviewBand.key).where(where)):
                self._keys[rid].append(key)
        return {k for i in ids for k in self._keys[i]}

    def buckets(self, keys: set[int]) -> dict[int, list[int]]:
        """Live bad reviews per band key, with their signatures (read in the same query: a stock
        phrase's buckets hold tens of thousands of reviews, and a second look-up by id per
        member cost as much as the first)."""
        need = keys - self._bucket.keys()
        for key in need:
            self._bucket[key] = []
        for where in in_filters(ReviewBand.key, need):
            stmt = (select(ReviewBand.key, ReviewBand.review_id, ReviewSignature.sig)
                    .join(Review, Review.id == ReviewBand.review_id)
                    .join(ReviewSignature, ReviewSignature.review_id == ReviewBand.review_id)
                    .where(where, self.live_bad))
            for key, rid, raw in plain_rows(self.session, stmt):
                self._bucket[key].append(rid)
                if rid not in self.sig:
                    self.sig[rid] = np.frombuffer(raw, dtype="<u4")
        return {k: self._bucket[k] for k in keys}


def clusters_around(session: Session, seeds: np.ndarray, *, bad_max: int, threshold: float,
                    walk: Walk | None = None) -> TextClusters:
    """The whole clusters (as ``minhash.cluster`` over every live bad review would find them)
    that contain any of ``seeds``; seeds without a near-duplicate come back unlabelled. ``walk``:
    what an earlier call of the same run read (same ``bad_max``)."""
    walk = walk or Walk(session, bad_max)
    nodes: set[int] = set()
    seen_keys: set[int] = set()
    frontier = sorted({int(i) for i in seeds})
    # Edges (member, bucket's lowest id, similarity); a pair met in several buckets is kept
    # each time, _label takes the highest similarity.
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    sim: list[np.ndarray] = []
    while frontier:
        nodes.update(frontier)
        keys = walk.keys_of(frontier) - seen_keys
        seen_keys |= keys
        buckets = walk.buckets(keys)
        reached: set[int] = set()
        for members in buckets.values():
            have = sorted(members)  # each with its signature (Walk.buckets)
            if len(have) < 2:
                continue
            others = np.stack([walk.sig[m] for m in have[1:]])
            est = (others == walk.sig[have[0]]).mean(axis=1, dtype=np.float32)
            hit = np.flatnonzero(est >= threshold)
            if not len(hit):
                continue
            linked = np.array(have[1:], dtype=np.int64)[hit]
            src.append(linked)
            dst.append(np.full(len(hit), have[0], dtype=np.int64))
            sim.append(est[hit])
            reached.update(linked.tolist())
            reached.add(have[0])
        frontier = sorted(reached - nodes)
    ids = np.array(sorted(nodes & walk.sig.keys()), dtype=np.int64)
    rows = fetch_ids(session, ids)
    order = np.argsort(rows.id)
    rows = rows.take(order)
    pairs = np.stack([np.concatenate(src), np.concatenate(dst)], axis=1) if src else np.zeros((0, 2), dtype=np.int64)
    est = np.concatenate(sim) if src else np.zeros(0, dtype=np.float32)
    return TextClusters(rows, *_label(rows.id, pairs, est))


def _label(ids: np.ndarray, pairs: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(ids)
    label = np.full(n, -1, dtype=np.int64)
    similarity = np.zeros(n, dtype=np.float32)
    if not len(pairs) or not n:
        return label, similarity
    s, d = np.searchsorted(ids, pairs[:, 0]), np.searchsorted(ids, pairs[:, 1])
    ok = (s < n) & (d < n)
    ok[ok] &= (ids[s[ok]] == pairs[ok, 0]) & (ids[d[ok]] == pairs[ok, 1])
    s, d, est = s[ok], d[ok], est[ok]
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    linked = np.zeros(n, dtype=bool)
    linked[s] = linked[d] = True
    _, dense = np.unique(comp[linked], return_inverse=True)
    label[linked] = dense
    np.maximum.at(similarity, s, est)
    np.maximum.at(similarity, d, est)
    return label, similarity
