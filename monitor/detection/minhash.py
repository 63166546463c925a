"""Near-duplicate review texts across accounts: MinHash signatures + LSH banding.

Works for Chinese and English alike because it shingles characters, not words. Everything
is vectorised (numpy/scipy) and sub-quadratic: candidate pairs only come from shared LSH
buckets, and each bucket member is checked against one representative, so a template posted
by 5,000 accounts costs 5,000 comparisons, not 12.5 million.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import HashingVectorizer

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 3
# Fewer distinct shingles than this and two unrelated texts ("差评", "bad") look identical.
MIN_SHINGLES = 8
_STRIP = re.compile(r"[\W\d_]+", re.UNICODE)

_rng = np.random.default_rng(20240611)  # fixed: signatures must be comparable across runs
_A = _rng.integers(1, 1 << 63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64)
_SHIFT = np.uint64(32)
_BAND_MIX = _rng.integers(1, (1 << 62), size=ROWS, dtype=np.uint64) | np.uint64(1)


def normalize(text: str) -> str:
    """Case, width, spacing, punctuation and digits removed: templates often vary only there."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text).lower())


_VECTORIZER = HashingVectorizer(
    analyzer="char",
    ngram_range=(SHINGLE, SHINGLE),
    preprocessor=normalize,
    lowercase=False,
    n_features=1 << 24,
    alternate_sign=False,
    norm=None,
    binary=True,
    dtype=np.float32,
)


def signatures(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures (uint32, one row per usable text) and the mask of usable texts.

    A text is usable when it has at least MIN_SHINGLES distinct character shingles.
    """
    if not texts:
        return np.empty((0, NUM_PERM), dtype=np.uint32), np.zeros(0, dtype=bool)
    x = _VECTORIZER.transform(texts).tocsr()
    counts = np.diff(x.indptr)
    usable = counts >= MIN_SHINGLES
    x = x[usable]
    x.sort_indices()
    if x.shape[0] == 0:
        return np.empty((0, NUM_PERM), dtype=np.uint32), usable
    shingles = x.indices.astype(np.uint64)
    starts = x.indptr[:-1]
    out = np.empty((x.shape[0], NUM_PERM), dtype=np.uint32)
    for k in range(NUM_PERM):
        # Multiply-shift hashing (high bits of a*x + b, wrapping) stands in for a random
        # permutation of shingles; it is twice as fast as a modulo and as good for MinHash.
        h = ((_A[k] * shingles + _B[k]) >> _SHIFT).astype(np.uint32)
        out[:, k] = np.minimum.reduceat(h, starts)
    return out, usable


@dataclass
class Clusters:
    """Connected groups of near-duplicate texts.

    ``label[i]`` is the cluster of row i (-1 when it has no near-duplicate) and
    ``similarity[i]`` its estimated Jaccard similarity to the cluster's representative.
    """

    label: np.ndarray
    similarity: np.ndarray


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """LSH bucket keys, one column per band: rows sharing a key in some band are candidates."""
    keys = np.empty((sigs.shape[0], BANDS), dtype=np.uint64)
    for b in range(BANDS):
        band = sigs[:, b * ROWS : (b + 1) * ROWS].astype(np.uint64)
        keys[:, b] = (band * _BAND_MIX).sum(axis=1, dtype=np.uint64)
    return keys


def cluster(sigs: np.ndarray, threshold: float = 0.6) -> Clusters:
    """Group rows whose estimated Jaccard similarity is at least ``threshold``."""
    n = sigs.shape[0]
    label = np.full(n, -1, dtype=np.int64)
    similarity = np.zeros(n, dtype=np.float32)
    if n < 2:
        return Clusters(label, similarity)
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    sims: list[np.ndarray] = []
    all_keys = band_keys(sigs)
    for b in range(BANDS):
        keys = all_keys[:, b]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        new_run = np.empty(n, dtype=bool)
        new_run[0] = True
        new_run[1:] = sorted_keys[1:] != sorted_keys[:-1]
        run_id = np.cumsum(new_run) - 1
        run_start = np.flatnonzero(new_run)
        rep = order[run_start[run_id]]
        member = order
        pair = member != rep
        if not pair.any():
            continue
        m, r = member[pair], rep[pair]
        est = (sigs[m] == sigs[r]).mean(axis=1, dtype=np.float32)
        ok = est >= threshold
        src.append(m[ok])
        dst.append(r[ok])
        sims.append(est[ok])
    if not src or sum(len(s) for s in src) == 0:
        return Clusters(label, similarity)
    s, d, e = np.concatenate(src), np.concatenate(dst), np.concatenate(sims)
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    linked = np.zeros(n, dtype=bool)
    linked[s] = True
    linked[d] = True
    # Renumber so only linked rows carry a cluster id.
    uniq, dense = np.unique(comp[linked], return_inverse=True)
    label[linked] = dense
    np.maximum.at(similarity, s, e)
    np.maximum.at(similarity, d, e)
    del uniq
    return Clusters(label, similarity)


def similarity(a: str, b: str) -> float:
    """Estimated Jaccard similarity of two texts (0 when either is too short to compare)."""
    sigs, usable = signatures([a, b])
    if not usable.all():
        return 0.0
    return float((sigs[0] == sigs[1]).mean())
