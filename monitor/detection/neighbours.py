"""Near-duplicate clusters of bad reviews, kept in the database and merged as reviews are signed.

A run that scores new reviews must know every stored bad review that copies their text, in
any shop, or a template posted across shops looks like a pair in each (and the result depends
on the order shops were crawled). Re-hashing every stored text each run would not scale, so
each bad review's signature and LSH band keys are stored when it is scored, and linked as
``minhash.cluster`` links rows over a whole database: inside a bucket every member is compared
with the bucket's lowest live review id. A new review is compared with the lowest member of
each of its buckets; where it is itself the new lowest, the bucket's other members are compared
with it. Its cluster (``ReviewSignature.cluster``, the lowest id in it) then absorbs the
clusters it links to. A run reads its clusters' members by that id.

Walking the buckets instead, every run, held each touched cluster's bucket rows and signatures:
on stock phrases a cluster grows with everything signed before it, and a 3M catch-up peaked at
2.5 GB in that walk. Links are never taken back: a deleted or edited review's old links still
join its cluster (those texts were near-duplicates when posted), and a bucket whose lowest
member changed keeps the links to the old one. Signed in id order, the clusters are exactly the
whole-database clusters; ``rebuild`` (a re-score of everything) starts them afresh.
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import ColumnElement, and_, bindparam, delete, func, select, update
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
# Updates go through the table: the ORM's bulk UPDATE takes rows by primary key only.
_SIGS = ReviewSignature.__table__
_SET_LINKED = (update(_SIGS).where(_SIGS.c.review_id == bindparam("rid"))
               .values(cluster=bindparam("c"), similarity=bindparam("e")))


def _live_bad(bad_max: int) -> ColumnElement[bool]:
    """A review that is still posted and still bad: the only kind a bucket or a cluster counts."""
    return and_(Review.deleted_at.is_(None), Review.rating >= 1, Review.rating <= bad_max)


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


def store(session: Session, ids: np.ndarray, sigs: np.ndarray, cluster: np.ndarray | None = None,
          similarity: np.ndarray | None = None) -> None:
    """Write signatures and band keys for ``ids`` (rows of ``sigs``), which have none stored; without
    ``cluster`` and ``similarity`` they are unlinked until ``link`` links them."""
    if not len(ids):
        return
    cluster = np.full(len(ids), -1, dtype=np.int64) if cluster is None else cluster
    similarity = np.zeros(len(ids), dtype=np.float32) if similarity is None else similarity
    for start in range(0, len(ids), _INSERT_BATCH):
        end = start + _INSERT_BATCH
        insert_rows(session, ReviewSignature, [
            {"review_id": int(i), "sig": s.astype("<u4").tobytes(), "cluster": int(c) if c >= 0 else None,
             "similarity": float(e)}
            for i, s, c, e in zip(ids[start:end], sigs[start:end], cluster[start:end], similarity[start:end],
                                  strict=True)])
    keys, owners = _band_rows(ids, sigs)
    for start in range(0, len(keys), _INSERT_BATCH):
        end = start + _INSERT_BATCH
        insert_rows(session, ReviewBand, [{"key": k, "review_id": i} for k, i in
                                          zip(keys[start:end].tolist(), owners[start:end].tolist(), strict=True)])


def _band_rows(ids: np.ndarray, sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key, review) of each row's bands in key order, as the primary key is (near_duplicates.store_bands
    says why); a key that two of a review's bands share comes once."""
    keys = stored_keys(sigs).ravel()
    owners = np.repeat(np.asarray(ids, dtype=np.int64), minhash.BANDS)
    order = np.lexsort((owners, keys))
    keys, owners = keys[order], owners[order]
    keep = np.r_[True, (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])]
    return keys[keep], owners[keep]


def rebuild(session: Session, clusters: TextClusters) -> None:
    """Replace every stored signature and cluster (a run over the whole database computed them all)."""
    session.execute(delete(ReviewBand))
    session.execute(delete(ReviewSignature))
    if clusters.sigs is None:
        return
    ids = clusters.rows.id
    cluster = _lowest_of(ids, clusters.label)
    for start in range(0, len(ids), 5000):
        part = slice(start, start + 5000)
        store(session, ids[part], clusters.sigs[part], cluster[part], clusters.similarity[part])


def sign(session: Session, review_ids: np.ndarray, bad: np.ndarray, *, bad_max: int, threshold: float) -> None:
    """Sign the bad ones among freshly scored ``review_ids`` and link them into the stored
    clusters; forget the others' old signatures."""
    _cluster_unclustered(session, bad_max, threshold)
    # Every old signature goes before this run writes a band: deleted between the inserts, each
    # DELETE was planned on statistics of the still empty table this transaction was filling, and
    # PostgreSQL scanned every band written so far (over 20 s per DELETE in a first run at 1M).
    forget(session, review_ids)
    want = np.sort(review_ids[bad])
    id_parts, sig_parts = [], []
    for ids, texts in iter_texts(session, want):
        sigs, usable = minhash.signatures(texts)
        store(session, ids[usable], sigs)
        id_parts.append(ids[usable])
        sig_parts.append(sigs)
    # The links that follow look these bands up by key in this same transaction.
    analyze_written(session, (ReviewBand.__tablename__, ReviewSignature.__tablename__), len(want) * minhash.BANDS)
    if id_parts:
        link(session, np.concatenate(id_parts), np.concatenate(sig_parts), bad_max=bad_max, threshold=threshold)


def link(session: Session, ids: np.ndarray, sigs: np.ndarray, *, bad_max: int, threshold: float) -> None:
    """Compare just-stored reviews ``ids`` (rows of ``sigs``) with their buckets' lowest members,
    and with the older members of buckets they now lead; merge the clusters that link."""
    if not len(ids):
        return
    live_bad = _live_bad(bad_max)
    key, owner = _band_rows(ids, sigs)
    bucket, lowest, rows = _lowest_members(session, sorted_unique(key), live_bad)
    at = np.searchsorted(bucket, key)
    rep = lowest[at]
    pair = owner != rep
    src, dst = owner[pair], rep[pair]
    new = _Signed(ids, sigs, np.full(len(ids), -1, dtype=np.int64), np.zeros(len(ids), dtype=np.float32))
    known = _Signed.concat([new, _signed(session, np.setdiff1d(sorted_unique(dst), ids, assume_unique=True))])
    est = known.similarity_of(src, dst)
    hit = est >= threshold
    # Buckets a new review now leads that hold older rows: those members are compared with it, as
    # a pass over the whole database would. Elsewhere only the leader is read.
    led = np.flatnonzero(np.isin(lowest, ids) & (rows > np.bincount(at, minlength=len(bucket))))
    old_src, old_dst, old_est, old = _led_links(session, bucket[led], lowest[led], live_bad, new, threshold)
    _merge(session, _Signed.concat([known, old]), np.concatenate([src[hit], old_src]),
           np.concatenate([dst[hit], old_dst]), np.concatenate([est[hit], old_est]))


def _led_links(session: Session, keys: np.ndarray, leaders: np.ndarray, live_bad, new: _Signed,  # noqa: ANN001
               threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, _Signed]:
    """Links (member, leader, similarity) of the older live bad members of buckets ``keys`` (sorted)
    with their new leaders, and the linked members' stored rows. Compared chunk by chunk, keeping
    the links only: as buckets fill, a slice of a catch-up leads buckets of thousands of members."""
    stmt = (select(ReviewBand.key, ReviewBand.review_id, ReviewSignature.sig, ReviewSignature.cluster,
                   ReviewSignature.similarity)
            .join(Review, Review.id == ReviewBand.review_id)
            .join(ReviewSignature, ReviewSignature.review_id == ReviewBand.review_id))
    src, dst, est, linked = [_EMPTY], [_EMPTY], [np.zeros(0, dtype=np.float32)], [_as_signed([])]
    for where in in_filters(ReviewBand.key, keys):
        rows = plain_rows(session, stmt.where(where, live_bad))
        pairs = _int_rows([r[:2] for r in rows], 2)
        old = np.flatnonzero(~np.isin(pairs[:, 1], new.ids)).tolist()
        members = _as_signed([r[1:] for r in (rows[i] for i in old)])
        member = pairs[old, 1]
        leader = leaders[np.searchsorted(keys, pairs[old, 0])]
        sim = (members.sigs[members.at(member)] == new.sigs[new.at(leader)]).mean(axis=1, dtype=np.float32)
        hit = sim >= threshold
        src.append(member[hit])
        dst.append(leader[hit])
        est.append(sim[hit])
        linked.append(members.take(members.at(sorted_unique(member[hit]))))
    return np.concatenate(src), np.concatenate(dst), np.concatenate(est), _Signed.concat(linked)


class _Signed:
    """Stored rows read for linking, sorted by review id: signature, cluster (-1: none), similarity."""

    def __init__(self, ids: np.ndarray, sigs: np.ndarray, cluster: np.ndarray, similarity: np.ndarray) -> None:
        order = np.argsort(ids, kind="stable")
        self.ids, self.sigs = ids[order], sigs[order]
        self.cluster, self.similarity = cluster[order], similarity[order]

    @classmethod
    def concat(cls, parts: list[_Signed]) -> _Signed:
        ids = np.concatenate([p.ids for p in parts])
        _, first = np.unique(ids, return_index=True)  # a row read twice (a leader, an old member) once
        return cls(ids[first], np.concatenate([p.sigs for p in parts])[first],
                   np.concatenate([p.cluster for p in parts])[first],
                   np.concatenate([p.similarity for p in parts])[first])

    def at(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, ids)

    def take(self, idx: np.ndarray) -> _Signed:
        return _Signed(self.ids[idx], self.sigs[idx], self.cluster[idx], self.similarity[idx])

    def similarity_of(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Estimated Jaccard similarity of reviews ``a[i]`` and ``b[i]``."""
        out = np.empty(len(a), dtype=np.float32)
        for start in range(0, len(a), _COMPARE_CHUNK):  # two signature matrices per chunk, not per run
            end = start + _COMPARE_CHUNK
            x, y = self.sigs[self.at(a[start:end])], self.sigs[self.at(b[start:end])]
            out[start:end] = (x == y).mean(axis=1, dtype=np.float32)
        return out


def _lowest_members(session: Session, keys: np.ndarray,
                    live_bad) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: ANN001
    """(key, lowest live bad member, band rows) per bucket ``keys``, sorted by key. Read from the
    band table's primary key alone; only buckets whose lowest member was deleted or is no longer
    bad since it was signed are read again with the reviews joined."""
    table = ReviewBand.__table__
    stmt = select(table.c.key, func.min(table.c.review_id), func.count()).group_by(table.c.key)
    got = _ints(session, stmt, in_filters(table.c.key, keys), 3)
    gone = np.setdiff1d(got[:, 1], _live(session, sorted_unique(got[:, 1]), live_bad), assume_unique=True)
    stale = np.flatnonzero(np.isin(got[:, 1], gone))
    if len(stale):
        again = (select(table.c.key, func.min(table.c.review_id)).join(Review, Review.id == table.c.review_id)
                 .where(live_bad).group_by(table.c.key))
        fixed = _ints(session, again, in_filters(table.c.key, got[stale, 0]), 2)
        fixed = fixed[np.argsort(fixed[:, 0])]
        # The keys asked for are a signed review's own, so each still has a live member.
        got[stale, 1] = fixed[np.searchsorted(fixed[:, 0], got[stale, 0]), 1]
    got = got[np.argsort(got[:, 0], kind="stable")]
    return got[:, 0], got[:, 1], got[:, 2]


def _live(session: Session, ids: np.ndarray, live_bad) -> np.ndarray:  # noqa: ANN001
    return sorted_unique(_ints(session, select(Review.id).where(live_bad), id_filters(Review.id, ids), 1).ravel())


def _signed(session: Session, ids: np.ndarray) -> _Signed:
    stmt = select(ReviewSignature.review_id, ReviewSignature.sig, ReviewSignature.cluster, ReviewSignature.similarity)
    return _Signed.concat([_as_signed([]), *(_as_signed(plain_rows(session, stmt.where(where)))
                                             for where in id_filters(ReviewSignature.review_id, ids))])


def _as_signed(rows: list) -> _Signed:
    """(review id, signature, cluster, similarity) rows, a review possibly more than once."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    _, first = np.unique(ids, return_index=True)
    rows = [rows[i] for i in first.tolist()]
    sigs = np.frombuffer(b"".join(r[1] for r in rows), dtype="<u4").reshape(-1, minhash.NUM_PERM)
    cluster = np.fromiter((-1 if r[2] is None else r[2] for r in rows), dtype=np.int64, count=len(rows))
    similarity = np.fromiter((r[3] or 0.0 for r in rows), dtype=np.float32, count=len(rows))
    return _Signed(ids[first], sigs, cluster, similarity)


def _merge(session: Session, known: _Signed, src: np.ndarray, dst: np.ndarray, est: np.ndarray) -> None:
    """Join the clusters that links ``src[i] - dst[i]`` (similarity ``est[i]``) connect: each
    takes the lowest id among its members and the clusters it absorbed, whose rows follow it."""
    if not len(src):
        return
    ends = sorted_unique(np.concatenate([src, dst]))
    at = known.at(ends)
    before = known.cluster[at]
    # Vertices: the linked reviews, then the clusters they already belong to.
    old = sorted_unique(before[before >= 0])
    n = len(ends)
    s = np.concatenate([np.searchsorted(ends, src), np.flatnonzero(before >= 0)])
    d = np.concatenate([np.searchsorted(ends, dst), n + np.searchsorted(old, before[before >= 0])])
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n + len(old),) * 2)
    _, comp = connected_components(graph, directed=False)
    names = np.concatenate([ends, old])
    lowest = np.full(comp.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(lowest, comp, names)
    target = lowest[comp]
    moved = target[n:] != old
    if moved.any():
        session.execute(update(_SIGS).where(_SIGS.c.cluster == bindparam("old")).values(cluster=bindparam("new")),
                        [{"old": int(o), "new": int(t)} for o, t in zip(old[moved], target[n:][moved], strict=True)])
    similarity = known.similarity[at].copy()
    np.maximum.at(similarity, np.searchsorted(ends, src), est)
    np.maximum.at(similarity, np.searchsorted(ends, dst), est)
    session.execute(_SET_LINKED, [{"rid": int(i), "c": int(c), "e": float(e)}
                                  for i, c, e in zip(ends, target[:n], similarity, strict=True)])


def _cluster_unclustered(session: Session, bad_max: int, threshold: float) -> None:
    """Cluster signatures stored before clusters were kept (migration 0020 left them null), once:
    every live bad one at once, in id order, as ``minhash.cluster`` would over the whole database."""
    if session.execute(select(ReviewSignature.review_id).where(ReviewSignature.similarity.is_(None))
                       .limit(1)).first() is None:
        return
    stmt = (select(ReviewSignature.review_id, ReviewSignature.sig, ReviewSignature.cluster,
                   ReviewSignature.similarity)
            .join(Review, Review.id == ReviewSignature.review_id).where(_live_bad(bad_max)))
    signed = _as_signed(plain_rows(session, stmt))  # in id order, as minhash.cluster needs them
    ids = signed.ids
    found = minhash.cluster(signed.sigs, threshold)
    session.execute(update(_SIGS).values(cluster=None, similarity=0.0))
    linked = np.flatnonzero(found.label >= 0)
    cluster = _lowest_of(ids, found.label)
    if len(linked):
        session.execute(_SET_LINKED, [{"rid": int(ids[i]), "c": int(cluster[i]), "e": float(found.similarity[i])}
                                      for i in linked])


def _lowest_of(ids: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Per row, the lowest id of its cluster (-1 where unlabelled): a cluster's stored name."""
    out = np.full(len(ids), -1, dtype=np.int64)
    linked = label >= 0
    if linked.any():
        lowest = np.full(label.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, label[linked], ids[linked])
        out[linked] = lowest[label[linked]]
    return out


def _ints(session: Session, stmt, filters, width: int) -> np.ndarray:  # noqa: ANN001
    """The integer rows of ``stmt`` under each of ``filters``, converted chunk by chunk: a million
    rows as tuples of Python ints would hold about 150 bytes each at once."""
    parts = [_int_rows(plain_rows(session, stmt.where(where)), width) for where in filters]
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


def _int_rows(rows: list, width: int) -> np.ndarray:
    return np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=width * len(rows)).reshape(-1, width)


def clusters_of(session: Session, seeds: np.ndarray, *, bad_max: int) -> TextClusters:
    """The stored clusters that contain any of ``seeds``: their live bad members, labelled (a
    cluster with one live member left is no cluster), with each member's similarity."""
    live_bad = _live_bad(bad_max)
    names: list[int] = []
    for where in id_filters(ReviewSignature.review_id, np.asarray(seeds, dtype=np.int64)):
        names += session.execute(select(ReviewSignature.cluster).distinct()
                                 .where(where, ReviewSignature.cluster.is_not(None))).scalars().all()
    stmt = (select(ReviewSignature.review_id, ReviewSignature.cluster, ReviewSignature.similarity)
            .join(Review, Review.id == ReviewSignature.review_id).where(live_bad))
    id_parts, sim_parts = [np.zeros((0, 2), dtype=np.int64)], [np.zeros(0, dtype=np.float32)]
    for where in in_filters(ReviewSignature.cluster, names):
        rows = plain_rows(session, stmt.where(where))
        id_parts.append(_int_rows([r[:2] for r in rows], 2))
        sim_parts.append(np.fromiter((r[2] for r in rows), dtype=np.float32, count=len(rows)))
    ids, name = np.concatenate(id_parts).T
    if not len(ids):
        return TextClusters.empty()
    sim = np.concatenate(sim_parts)
    found = fetch_ids(session, ids)
    found = found.take(np.argsort(found.id))
    at = np.argsort(ids)
    at = at[np.searchsorted(ids[at], found.id)]
    name, sim = name[at], sim[at]
    _, label, size = np.unique(name, return_inverse=True, return_counts=True)
    kept = size >= 2
    linked = kept[label]
    label = np.where(linked, (np.cumsum(kept) - 1)[label], -1).astype(np.int64)
    return TextClusters(found, label, np.where(linked, sim, 0).astype(np.float32))
