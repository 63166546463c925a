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
from sqlalchemy import and_, delete, insert, select
from sqlmodel import Session

from models import Review, ReviewBand, ReviewSignature
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
    session.execute(insert(ReviewSignature),
                    [{"review_id": int(i), "sig": s.astype("<u4").tobytes()} for i, s in zip(ids, sigs, strict=True)])
    session.execute(insert(ReviewBand),
                    [{"key": int(k), "review_id": int(i)} for i, row in zip(ids, keys, strict=True) for k in set(row.tolist())])


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


class _Walk:
    """Buckets and signatures read so far; every query is limited to live bad reviews."""

    def __init__(self, session: Session, bad_max: int) -> None:
        self.session = session
        self.live_bad = and_(Review.deleted_at.is_(None), Review.rating >= 1, Review.rating <= bad_max)
        self.sig: dict[int, np.ndarray] = {}
        self.seen_keys: set[int] = set()

    def keys_of(self, ids: list[int]) -> set[int]:
        out: set[int] = set()
        for where in id_filters(ReviewBand.review_id, ids):
            out.update(self.session.execute(select(ReviewBand.key).where(where)).scalars())
        return out - self.seen_keys

    def buckets(self, keys: set[int]) -> dict[int, list[int]]:
        self.seen_keys |= keys
        out: dict[int, list[int]] = {}
        for where in in_filters(ReviewBand.key, keys):
            stmt = (select(ReviewBand.key, ReviewBand.review_id)
                    .join(Review, Review.id == ReviewBand.review_id)
                    .where(where, self.live_bad))
            for key, rid in self.session.execute(stmt):
                out.setdefault(key, []).append(rid)
        return out

    def load_sigs(self, ids: Iterable[int]) -> None:
        need = sorted(set(ids) - self.sig.keys())
        for where in id_filters(ReviewSignature.review_id, need):
            for rid, raw in self.session.execute(select(ReviewSignature.review_id, ReviewSignature.sig).where(where)):
                self.sig[rid] = np.frombuffer(raw, dtype="<u4")


def clusters_around(session: Session, seeds: np.ndarray, *, bad_max: int, threshold: float) -> TextClusters:
    """The whole clusters (as ``minhash.cluster`` over every live bad review would find them)
    that contain any of ``seeds``; seeds without a near-duplicate come back unlabelled."""
    walk = _Walk(session, bad_max)
    nodes: set[int] = set()
    frontier = sorted({int(i) for i in seeds})
    edges: dict[tuple[int, int], float] = {}
    while frontier:
        nodes.update(frontier)
        buckets = walk.buckets(walk.keys_of(frontier))
        walk.load_sigs(rid for members in buckets.values() for rid in members)
        reached: set[int] = set()
        for members in buckets.values():
            have = sorted(m for m in members if m in walk.sig)
            if len(have) < 2:
                continue
            rep = have[0]
            others = np.stack([walk.sig[m] for m in have[1:]])
            est = (others == walk.sig[rep]).mean(axis=1, dtype=np.float32)
            for m, e in zip(have[1:], est.tolist(), strict=True):
                if e >= threshold:
                    edges[(m, rep)] = max(edges.get((m, rep), 0.0), e)
                    reached.update((m, rep))
        frontier = sorted(reached - nodes)
    ids = np.array(sorted(nodes & walk.sig.keys()), dtype=np.int64)
    rows = fetch_ids(session, ids)
    order = np.argsort(rows.id)
    rows = rows.take(order)
    return TextClusters(rows, *_label(rows.id, edges))


def _label(ids: np.ndarray, edges: dict[tuple[int, int], float]) -> tuple[np.ndarray, np.ndarray]:
    n = len(ids)
    label = np.full(n, -1, dtype=np.int64)
    similarity = np.zeros(n, dtype=np.float32)
    if not edges or not n:
        return label, similarity
    pairs = np.array(list(edges), dtype=np.int64)
    est = np.fromiter(edges.values(), dtype=np.float32, count=len(edges))
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
