"""Behaviour features per reviewer, computed with numpy over stored review columns.

Each feature is something a person can check on the platform: how many bad reviews in how
little time, whether the account opened with a bad review, whether its words are copied
from other accounts, its level, whether it always bought the cheapest option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from models import Listing, Review, Reviewer
from monitor.detection import minhash
from monitor.detection.review_rows import ReviewRows, iter_texts, purchase_times
from monitor.in_lists import id_filters

FEATURE_NAMES = (
    "n_reviews",
    "n_bad",
    "share_bad",
    "share_extreme",
    "reviews_per_day",
    "max_bad_48h",
    "first_review_bad",
    "template_reviewers",
    "template_similarity",
    "level_rank",
    "level_known",
    "cheapest_sku_share",
    "purchase_to_review_hours",
    "purchase_known",
)
BURST_HOURS = 48
TEMPLATE_SIMILARITY = 0.7

# Lowest to highest; platforms show these words (JD member tiers, Taobao/Tmall VIP levels).
_LEVEL_WORDS = (
    ("注册", 0),
    ("铜牌", 1),
    ("银牌", 2),
    ("金牌", 3),
    ("钻石", 4),
    ("plus", 5),
    ("黑钻", 5),
    ("超级会员", 5),
    ("88vip", 5),
)
_DIGITS = re.compile(r"(\d+)")


def level_rank(level: str | None) -> float:
    """0 = the platform's lowest tier, higher = more established; nan when unknown."""
    if not level:
        return float("nan")
    low = level.strip().lower()
    for word, rank in _LEVEL_WORDS:
        if word in low:
            return float(rank)
    m = _DIGITS.search(low)
    return float(m.group(1)) if m else float("nan")


@dataclass
class TextClusters:
    """Near-duplicate clusters among bad review texts (row-aligned with ``rows``)."""

    rows: ReviewRows
    label: np.ndarray
    similarity: np.ndarray
    sigs: np.ndarray | None = None  # the rows' MinHash signatures, when computed here

    @classmethod
    def empty(cls) -> TextClusters:
        return cls(ReviewRows.empty(), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def text_clusters(session: Session, rows: ReviewRows, bad: np.ndarray) -> TextClusters:
    """MinHash-LSH clusters of the bad reviews' texts."""
    idx = np.flatnonzero(bad)
    # In id order: a bucket's representative is then its lowest review id, which is what
    # ``neighbours.link`` reproduces as reviews are signed in id order.
    sub = rows.take(idx[np.argsort(rows.id[idx], kind="stable")])
    if not len(sub):
        return TextClusters.empty()
    sig_parts: list[np.ndarray] = []
    keep_parts: list[np.ndarray] = []
    for _ids, texts in iter_texts(session, sub.id):
        sigs, usable = minhash.signatures(texts)
        sig_parts.append(sigs)
        keep_parts.append(usable)
    keep = np.concatenate(keep_parts)
    sub = sub.take(np.flatnonzero(keep))
    sigs = np.concatenate(sig_parts) if sig_parts else np.empty((0, minhash.NUM_PERM), np.uint32)
    found = minhash.cluster(sigs, TEMPLATE_SIMILARITY)
    return TextClusters(sub, found.label, found.similarity, sigs)


@dataclass
class ReviewerFeatures:
    """One row per reviewer; ``details`` holds the facts behind each reason."""

    reviewer_ids: np.ndarray
    X: np.ndarray
    details: dict[int, dict] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        return self.X[:, FEATURE_NAMES.index(name)]


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def compute(
    session: Session,
    rows: ReviewRows,
    clusters: TextClusters,
    *,
    bad_max_rating: int,
    reviewer_ids: np.ndarray | None = None,
) -> ReviewerFeatures:
    """Features for ``reviewer_ids`` (default: every reviewer in ``rows``)."""
    has = rows.reviewer >= 0
    if reviewer_ids is not None:
        has &= np.isin(rows.reviewer, reviewer_ids)
    r = rows.take(np.flatnonzero(has))
    order = np.lexsort((r.id, r.t, r.reviewer))
    r = r.take(order)
    ids = np.unique(r.reviewer)
    n_rev = len(ids)
    X = np.zeros((n_rev, len(FEATURE_NAMES)), dtype=np.float64)
    out = ReviewerFeatures(ids, X)
    if n_rev == 0:
        return out
    starts = _group_starts(r.reviewer)
    counts = np.diff(np.r_[starts, len(r)])
    bad = r.bad(bad_max_rating)
    extreme = (r.rating == 1) | (r.rating == 5)
    rated = r.rating > 0
    n_bad = np.add.reduceat(bad.astype(np.int64), starts)
    n_rated = np.add.reduceat(rated.astype(np.int64), starts)
    span_days = (np.maximum.reduceat(r.t, starts) - np.minimum.reduceat(r.t, starts)) / 86400
    col = FEATURE_NAMES.index
    X[:, col("n_reviews")] = counts
    X[:, col("n_bad")] = n_bad
    X[:, col("share_bad")] = n_bad / np.maximum(n_rated, 1)
    X[:, col("share_extreme")] = np.add.reduceat(extreme.astype(np.int64), starts) / np.maximum(n_rated, 1)
    X[:, col("reviews_per_day")] = counts / np.maximum(span_days, 1.0)
    X[:, col("first_review_bad")] = bad[starts]

    _bad_bursts(out, r, bad, ids)
    _templates(out, clusters, ids)
    _levels(session, out)
    _cheapest_skus(session, out)
    _purchase_delay(session, out)
    return out


def _bad_bursts(out: ReviewerFeatures, r: ReviewRows, bad: np.ndarray, ids: np.ndarray) -> None:
    """Most bad reviews one reviewer posted within BURST_HOURS, and how many were one-star."""
    b = r.take(np.flatnonzero(bad))
    if not len(b):
        return
    idx = np.searchsorted(ids, b.reviewer)
    t0 = int(b.t.min())
    # One sortable int64 key per (reviewer, time): windows never cross reviewers.
    key = idx.astype(np.int64) * (1 << 34) + (b.t - t0)
    end = np.searchsorted(key, key + BURST_HOURS * 3600, side="right")
    n_in = end - np.arange(len(b))
    ones = np.r_[0, np.cumsum(b.rating == 1)]
    ones_in = ones[end] - ones[np.arange(len(b))]
    best = np.lexsort((-n_in, idx))  # per reviewer, the largest window first
    first = best[_group_starts(idx[best])]
    out.X[idx[first], FEATURE_NAMES.index("max_bad_48h")] = n_in[first]
    for i in first:
        if n_in[i] >= 2:
            d = out.details.setdefault(int(b.reviewer[i]), {})
            d["burst"] = (int(n_in[i]), int(ones_in[i]), int(b.t[end[i] - 1] - b.t[i]))


def _templates(out: ReviewerFeatures, clusters: TextClusters, ids: np.ndarray) -> None:
    """How many other accounts posted near-identical bad-review text (largest shared cluster)."""
    lab = clusters.label
    mask = (lab >= 0) & (clusters.rows.reviewer >= 0)
    if not mask.any():
        return
    rev = clusters.rows.reviewer[mask]
    lab = lab[mask]
    sim = clusters.similarity[mask]
    pairs = np.unique(np.c_[lab, rev], axis=0)
    c_of_pair = pairs[:, 0]
    n_accounts = np.bincount(c_of_pair)
    members: dict[int, np.ndarray] = {}
    starts = _group_starts(c_of_pair)
    bounds = np.r_[starts, len(pairs)]
    for k, s in enumerate(starts):
        members[int(c_of_pair[s])] = pairs[s : bounds[k + 1], 1]
    mean_sim = np.bincount(lab, weights=sim) / np.maximum(np.bincount(lab), 1)
    col_n = FEATURE_NAMES.index("template_reviewers")
    col_s = FEATURE_NAMES.index("template_similarity")
    for c, rv in pairs:
        pos = np.searchsorted(ids, rv)
        if pos >= len(ids) or ids[pos] != rv:
            continue
        others = int(n_accounts[c]) - 1
        if others > out.X[pos, col_n]:
            out.X[pos, col_n] = others
            out.X[pos, col_s] = float(mean_sim[c])
            peers = members[int(c)]
            out.details.setdefault(int(rv), {})["template"] = (
                others,
                float(mean_sim[c]),
                [int(p) for p in peers[peers != rv][:8]],
            )


def _levels(session: Session, out: ReviewerFeatures) -> None:
    known = FEATURE_NAMES.index("level_known")
    pos_of = {int(r): i for i, r in enumerate(out.reviewer_ids)}
    for where in id_filters(Reviewer.id, out.reviewer_ids.tolist()):
        stmt = select(Reviewer.id, Reviewer.level).where(where, Reviewer.level.is_not(None))
        for rid, level in session.execute(stmt):
            value = level_rank(level)
            if not np.isnan(value):
                i = pos_of[rid]
                out.X[i, FEATURE_NAMES.index("level_rank")] = value
                out.X[i, known] = 1
                out.details.setdefault(rid, {})["level"] = level


def _sku_price(sku: dict) -> tuple[str, float] | None:
    name = next((sku[k] for k in ("name", "title", "sku", "spec", "id") if sku.get(k)), None)
    price = sku.get("price")
    try:
        return (str(name).strip().lower(), float(price)) if name is not None and price is not None else None
    except (TypeError, ValueError):
        return None


def _cheapest_skus(session: Session, out: ReviewerFeatures) -> None:
    """Share of a reviewer's reviews (with a known SKU) that bought the listing's cheapest SKU."""
    cheapest: dict[int, str | None] = {}
    bought: dict[int, list[int]] = {}
    for where in id_filters(Review.reviewer_id, out.reviewer_ids.tolist()):
        stmt = select(Review.reviewer_id, Review.listing_id, Review.sku).where(
            where, Review.sku.is_not(None), Review.listing_id.is_not(None)
        )
        rows = session.execute(stmt).all()
        need = {lid for _, lid, _ in rows} - cheapest.keys()
        for lwhere in id_filters(Listing.id, need):
            for lid, skus in session.execute(select(Listing.id, Listing.skus).where(lwhere)):
                priced = [p for p in (_sku_price(s) for s in skus or [] if isinstance(s, dict)) if p]
                distinct = {price for _, price in priced}
                # One price for every SKU means "cheapest" says nothing.
                cheapest[lid] = min(priced, key=lambda p: p[1])[0] if len(distinct) > 1 else None
        for rid, lid, sku in rows:
            name = cheapest.get(lid)
            if name is None:
                continue
            hit = name in str(sku).strip().lower()
            bought.setdefault(rid, []).append(int(hit))
    col = FEATURE_NAMES.index("cheapest_sku_share")
    pos_of = {int(r): i for i, r in enumerate(out.reviewer_ids)}
    for rid, hits in bought.items():
        out.X[pos_of[rid], col] = sum(hits) / len(hits)
        out.details.setdefault(rid, {})["cheapest"] = (sum(hits), len(hits))


def _purchase_delay(session: Session, out: ReviewerFeatures) -> None:
    rids, hours = purchase_times(session, out.reviewer_ids)
    if not len(rids):
        return
    pos = np.searchsorted(out.reviewer_ids, rids)
    order = np.argsort(pos, kind="stable")
    pos, hours = pos[order], hours[order]
    starts = _group_starts(pos)
    bounds = np.r_[starts, len(pos)]
    for k, s in enumerate(starts):
        med = float(np.median(hours[s : bounds[k + 1]]))
        out.X[pos[s], FEATURE_NAMES.index("purchase_to_review_hours")] = med
        out.X[pos[s], FEATURE_NAMES.index("purchase_known")] = 1
        out.details.setdefault(int(out.reviewer_ids[pos[s]]), {})["purchase"] = (med, int(bounds[k + 1] - s))
