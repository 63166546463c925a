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

from itertools import chain

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import and_, delete, select
from sqlmodel import Session

from models import Review, ReviewBand, ReviewSignature
from monitor.db import analyze_written, insert_rows, plain_rows
from monitor.detection import minhash
from monitor.detection.review_rows import fetch_ids, iter_texts
from monitor.in_lists import id_filters, in_filters, sorted_unique
from monitor.detection.reviewer_features import TextClusters

# Band number mixed into the key: the same hash in two bands is not the same bucket.
_BAND_SALT = np.arange(minhash.BANDS, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
_EMPTY = np.zeros(0, dtype=np.int64)
# Rows per executemany: as a list of dicts each costs ~250 bytes (800,000 band rows held ~400 MB).
_INSERT_BATCH = 50_000
# Bucket members compared per step: two (n, 64) signature matrices of this many rows (51 MB).
_COMPARE_CHUNK = 100_000


def stored_keys(sigs: np.ndarray) -> np.ndarray:
    """The BIGINT keys stored for each row's bands."""
    keys = minhash.band_keys(sigs) + _BAND_SALT  # wraps modulo 2**64, like the hashes themselves
    return keys.view(np.int64)


def forget(session: Session, review_ids: np.ndarray) -> None:
    """Drop stored signatures (an edited review is signed again, a review no longer bad is not)."""
    for where in id_filters(ReviewBand.review_id, review_ids):
        session.execute(delete(ReviewBand).where(where))
    for where in id_filters(ReviewSignature.review_id, review_ids):
        session.execute(delete(ReviewSignature).where(where))


def store(session: Session, ids: np.ndarray, sigs: np.ndarray) -> None:
    """Write signatures and band keys for ``ids`` (rows of ``sigs``), which have none stored."""
    if not len(ids):
        return
    for start in range(0, len(ids), _INSERT_BATCH):
        end = start + _INSERT_BATCH
        insert_rows(session, ReviewSignature, [{"review_id": int(i), "sig": s.astype("<u4").tobytes()}
                                               for i, s in zip(ids[start:end], sigs[start:end], strict=True)])
    keys = stored_keys(sigs).ravel()
    owners = np.repeat(np.asarray(ids, dtype=np.int64), minhash.BANDS)
    # In key order, as the primary key is (near_duplicates.store_bands says why); a key that two
    # of a review's bands share is stored once.
    order = np.lexsort((owners, keys))
    keys, owners = keys[order], owners[order]
    keep = np.r_[True, (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])]
    keys, owners = keys[keep], owners[keep]
    for start in range(0, len(keys), _INSERT_BATCH):
        end = start + _INSERT_BATCH
        insert_rows(session, ReviewBand, [{"key": k, "review_id": i} for k, i in
                                          zip(keys[start:end].tolist(), owners[start:end].tolist(), strict=True)])


def rebuild(session: Session, ids: np.ndarray, sigs: np.ndarray | None) -> None:
    """Replace every stored signature (a run over the whole database computed them all)."""
    session.execute(delete(ReviewBand))
    session.execute(delete(ReviewSignature))
    if sigs is None:
        return
    for start in range(0, len(ids), 5000):
        store(session, ids[start : start + 5000], sigs[start : start + 5000])


def sign(session: Session, review_ids: np.ndarray, bad: np.ndarray) -> None:
    """Sign the bad ones among freshly scored ``review_ids``; forget the others' old signatures."""
    # Every old signature goes before this run writes a band: deleted between the inserts, each
    # DELETE was planned on statistics of the still empty table this transaction was filling, and
    # PostgreSQL scanned every band written so far (over 20 s per DELETE in a first run at 1M).
    forget(session, review_ids)
    want = np.sort(review_ids[bad])
    for ids, texts in iter_texts(session, want):
        sigs, usable = minhash.signatures(texts)
        store(session, ids[usable], sigs)
    # The walk that follows looks these bands up by key in this same transaction.
    analyze_written(session, (ReviewBand.__tablename__, ReviewSignature.__tablename__), len(want) * minhash.BANDS)


class Walk:
    """Band keys, buckets and signatures read so far, kept for the next walk of the same run
    (``behaviour`` walks again from more seeds when the first walk found more reviewers; the
    stored bands do not change in between). Every bucket holds live bad reviews with a stored
    signature only.

    Held as numpy columns, not dicts of lists: a run catching up on a million reviews reads
    3.2M bucket rows and 200k signatures; as Python objects they took its peak from 994 to 1,796 MB."""

    def __init__(self, session: Session, bad_max: int) -> None:
        self.session = session
        self.live_bad = and_(Review.deleted_at.is_(None), Review.rating >= 1, Review.rating <= bad_max)
        self._keyed = _EMPTY  # reviews whose band keys were read (sorted)
        self._band_review, self._band_key = _EMPTY, _EMPTY  # their (review, key) rows
        self._read = _EMPTY  # band keys whose buckets were read (sorted)
        self._member_key, self._member = _EMPTY, _EMPTY  # (key, live bad review) rows of those buckets
        self.signed = _EMPTY  # every bucket member (sorted), row i of ``_sigs`` its signature
        self._sigs = np.zeros((0, minhash.NUM_PERM), dtype="<u4")

    def keys_of(self, ids: np.ndarray) -> np.ndarray:
        """The band keys of reviews ``ids`` (unique) as a sorted array of unique keys."""
        need = np.setdiff1d(ids, self._keyed, assume_unique=True)
        if len(need):
            stmt = select(ReviewBand.review_id, ReviewBand.key)
            pairs = [_int_pairs(plain_rows(self.session, stmt.where(where)))
                     for where in id_filters(ReviewBand.review_id, need)]
            self._band_review = np.concatenate([self._band_review, *(p[:, 0] for p in pairs)])
            self._band_key = np.concatenate([self._band_key, *(p[:, 1] for p in pairs)])
            self._keyed = np.sort(np.concatenate([self._keyed, need]))
        return sorted_unique(self._band_key[np.isin(self._band_review, ids)])

    def members(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(band key, review) of the live bad reviews in buckets ``keys``, their signatures read in
        the same query (a stock phrase's buckets hold tens of thousands of reviews, and a second
        look-up by id per member cost as much as the first)."""
        need = np.setdiff1d(keys, self._read, assume_unique=True)
        if len(need):
            self._read_buckets(need)
        mine = np.isin(self._member_key, keys)
        return self._member_key[mine], self._member[mine]

    def _read_buckets(self, keys: np.ndarray) -> None:
        stmt = (select(ReviewBand.key, ReviewBand.review_id, ReviewSignature.sig)
                .join(Review, Review.id == ReviewBand.review_id)
                .join(ReviewSignature, ReviewSignature.review_id == ReviewBand.review_id))
        key_parts, member_parts, new_ids = [], [], []
        new_sigs = bytearray()  # one buffer: a list of bytes objects, then their join, held two copies
        pending: set[int] = set()
        for where in in_filters(ReviewBand.key, keys):
            rows = plain_rows(self.session, stmt.where(where, self.live_bad))
            if not rows:
                continue
            pairs = _int_pairs([r[:2] for r in rows])
            key_parts.append(pairs[:, 0])
            member_parts.append(pairs[:, 1])
            for i in np.flatnonzero(~np.isin(pairs[:, 1], self.signed)).tolist():
                rid = rows[i][1]
                if rid not in pending:
                    pending.add(rid)
                    new_ids.append(rid)
                    new_sigs += rows[i][2]
        self._read = np.sort(np.concatenate([self._read, keys]))
        self._member_key = np.concatenate([self._member_key, *key_parts])
        self._member = np.concatenate([self._member, *member_parts])
        if new_ids:
            sigs = np.frombuffer(new_sigs, dtype="<u4").reshape(-1, minhash.NUM_PERM)
            ids = np.concatenate([self.signed, np.array(new_ids, dtype=np.int64)])
            order = np.argsort(ids, kind="stable")
            self.signed, self._sigs = ids[order], np.concatenate([self._sigs, sigs])[order]

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Estimated Jaccard similarity of reviews ``a[i]`` and ``b[i]`` (both bucket members)."""
        out = np.empty(len(a), dtype=np.float32)
        for start in range(0, len(a), _COMPARE_CHUNK):  # two signature matrices per chunk, not per run
            end = start + _COMPARE_CHUNK
            x = self._sigs[np.searchsorted(self.signed, a[start:end])]
            y = self._sigs[np.searchsorted(self.signed, b[start:end])]
            out[start:end] = (x == y).mean(axis=1, dtype=np.float32)
        return out


def _int_pairs(rows: list) -> np.ndarray:
    return np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=2 * len(rows)).reshape(-1, 2)


def clusters_around(session: Session, seeds: np.ndarray, *, bad_max: int, threshold: float,
                    walk: Walk | None = None) -> TextClusters:
    """The whole clusters (as ``minhash.cluster`` over every live bad review would find them)
    that contain any of ``seeds``; seeds without a near-duplicate come back unlabelled. ``walk``:
    what an earlier call of the same run read (same ``bad_max``)."""
    walk = walk or Walk(session, bad_max)
    nodes, seen_keys = _EMPTY, _EMPTY
    frontier = sorted_unique(np.asarray(seeds, dtype=np.int64))
    # Edges (member, bucket's lowest id, similarity); a pair met in several buckets is kept
    # each time, _label takes the highest similarity.
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    sim: list[np.ndarray] = []
    while len(frontier):
        # Sets as sorted arrays; every union here is of disjoint ones (sorted_unique says why).
        nodes = np.sort(np.concatenate([nodes, frontier]))
        keys = np.setdiff1d(walk.keys_of(frontier), seen_keys, assume_unique=True)
        seen_keys = np.sort(np.concatenate([seen_keys, keys]))
        key, member = walk.members(keys)
        if not len(key):
            break
        order = np.lexsort((member, key))
        key, member = key[order], member[order]
        first = np.r_[True, key[1:] != key[:-1]]
        lowest = member[np.flatnonzero(first)[np.cumsum(first) - 1]]  # each row's bucket's lowest id
        linked, rep = member[~first], lowest[~first]
        est = walk.similarity(linked, rep)
        hit = est >= threshold
        src.append(linked[hit])
        dst.append(rep[hit])
        sim.append(est[hit])
        frontier = np.setdiff1d(sorted_unique(np.concatenate([linked[hit], rep[hit]])), nodes, assume_unique=True)
    ids = np.intersect1d(nodes, walk.signed, assume_unique=True)
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
