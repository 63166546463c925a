"""How surprising a text is to a character n-gram language model of the genuine reviews (issue 17).

Generated text and paid writers drift from how customers actually write; a character model trained
on the genuine reviews only scores that drift without depending on which words a generator favours.
:class:`CharPerplexity` is an interpolated absolute-discounting model (Ney, Essen & Kneser 1994) of
orders 1..``order`` over Unicode code points. An n-gram is a 64-bit polynomial hash of its code
points, computed for every position of every text at once with numpy, so counting is a sort
(``np.unique``) and looking up a binary search (``np.searchsorted``), not a Python loop per
character. Collisions among a few million 64-bit hashes are negligible (birthday bound about 1e-7).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

PERPLEXITY_NAMES = ("char_logprob_mean", "char_logprob_std", "char_surprise_share")
# Code points are stored + 1 so that 0 is no character. Before each text, order - 1 start symbols
# (the histories of its first characters); after it, an end symbol that the model also predicts
# (generated text stops mid-sentence). Control characters, which reviews do not contain.
_START, _END = 0x02 + 1, 0x03 + 1
_BASE = np.uint64(1_000_003)


def _encode(texts: list[str], order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes of all texts in one array, the positions the model predicts, the text of each position)."""
    pad = np.full(order - 1, _START, dtype=np.uint64)
    end = np.array([_END], dtype=np.uint64)
    parts: list[np.ndarray] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + np.uint64(1)
        parts += [pad, chars, end]
        lengths[i] = len(chars) + 1
    codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    rows = np.repeat(np.arange(len(texts)), lengths)
    # Each text's predicted positions start after its padding: text i begins at the sum of the
    # earlier (padding + length) spans.
    begins = np.cumsum(lengths + order - 1) - lengths
    first = np.cumsum(lengths) - lengths
    positions = np.repeat(begins, lengths) + (np.arange(len(rows)) - np.repeat(first, lengths))
    return codes, positions, rows


def _grams(codes: np.ndarray, order: int) -> list[np.ndarray]:
    """grams[k][p]: hash of the (k + 1)-gram ending at position p (garbage for p < k, never read:
    every predicted position has order - 1 symbols of its own text before it)."""
    out = [codes]
    for _ in range(1, order):
        h = codes.copy()
        h[1:] += out[-1][:-1] * _BASE  # uint64 arithmetic wraps around, which a hash may do
        out.append(h)
    return out


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[key] for each query key, 0 where the key was never counted (keys sorted)."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=np.float64)
    i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[i] == query, values[i], 0).astype(np.float64)


class CharPerplexity(TransformerMixin, BaseEstimator):
    """Texts -> PERPLEXITY_NAMES: the mean log-probability per character (minus the log-perplexity),
    its standard deviation over the text's positions, and the share of characters the model gave
    less than ``surprise`` probability; all divided by the text's length, so long and short
    reviews compare.

    The model is counted on the rows whose label is ``genuine`` (the recipe's binary labels are 1
    for the class to detect, 0 for the rest); when no row has that label (a multi-class target),
    on every row. ``fit_transform`` scores the genuine training rows with models counted on the
    other ``folds`` - 1 folds of them (and the other training rows by those models too): scored by
    counts that include their own n-grams, genuine training texts look far more typical than any
    new text will, and the classifier learns that leak.
    """

    def __init__(self, order: int = 5, discount: float = 0.75, genuine: Any = 0, surprise: float = 0.01,
                 folds: int = 10) -> None:
        self.order = order
        self.discount = discount
        self.genuine = genuine
        self.surprise = surprise
        self.folds = folds

    def _genuine_rows(self, n: int, y: Any) -> np.ndarray:
        if y is None:
            return np.ones(n, dtype=bool)
        y = np.asarray(y)
        try:
            mask = y == self.genuine
        except (TypeError, ValueError):
            mask = np.zeros(n, dtype=bool)
        mask = np.asarray(mask, dtype=bool).reshape(-1) if np.ndim(mask) else np.zeros(n, dtype=bool)
        return mask if mask.any() else np.ones(n, dtype=bool)

    def _count(self, texts: list[str]) -> dict[str, Any]:
        codes, positions, _ = _encode(texts, self.order)
        grams = _grams(codes, self.order)
        model: dict[str, Any] = {"gram_keys": [], "gram_counts": [], "ctx_keys": [], "ctx_totals": [],
                                 "ctx_distinct": []}
        for k in range(self.order):
            keys, first, counts = np.unique(grams[k][positions], return_index=True, return_counts=True)
            model["gram_keys"].append(keys)
            model["gram_counts"].append(counts.astype(np.int32))
            if k == 0:
                # Unigrams share one empty history: all positions, all distinct characters.
                ctx_keys, totals, distinct = np.zeros(1, np.uint64), np.array([len(positions)]), np.array([len(keys)])
            else:
                history = grams[k - 1][positions - 1]
                ctx_keys, totals = np.unique(history, return_counts=True)
                # Histories of the distinct n-grams: how many different characters followed each.
                _, distinct = np.unique(history[first], return_counts=True)
            model["ctx_keys"].append(ctx_keys)
            model["ctx_totals"].append(np.asarray(totals, dtype=np.int32))
            model["ctx_distinct"].append(np.asarray(distinct, dtype=np.int32))
        return model

    def fit(self, X: Any, y: Any = None) -> CharPerplexity:
        texts = [str(t) for t in X]
        self._set(self._count([t for t, g in zip(texts, self._genuine_rows(len(texts), y), strict=True) if g]))
        return self

    def _set(self, model: dict[str, Any]) -> None:
        for name, arrays in model.items():
            setattr(self, f"{name}_", arrays)
        self.n_features_in_ = 1

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        texts = [str(t) for t in X]
        genuine = self._genuine_rows(len(texts), y)
        self._set(self._count([t for t, g in zip(texts, genuine, strict=True) if g]))
        folds = min(self.folds, int(genuine.sum()))
        if folds < 2:
            return self.transform(texts)
        # Every training row, genuine or not, is scored by a model of the same size (the genuine
        # rows outside its fold): scoring only the genuine ones on fewer counts would make them
        # look less typical than the others by the size of the model alone.
        part = np.arange(len(texts)) % folds
        out = np.empty((len(texts), len(PERPLEXITY_NAMES)))
        for f in range(folds):
            held = np.flatnonzero(part == f)
            rest = self._count([t for t, g, p in zip(texts, genuine, part, strict=True) if g and p != f])
            out[held] = self._score(rest, [texts[i] for i in held])
        return out

    def transform(self, X: Any) -> np.ndarray:
        model = {name: getattr(self, f"{name}_") for name in
                 ("gram_keys", "gram_counts", "ctx_keys", "ctx_totals", "ctx_distinct")}
        return self._score(model, [str(t) for t in X])

    def log_probabilities(self, model: dict[str, Any], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(natural log-probability of every predicted character, the text it belongs to)."""
        codes, positions, rows = _encode(texts, self.order)
        grams = _grams(codes, self.order)
        d = float(self.discount)
        # Below the unigrams: uniform over the characters seen, plus one for any unseen character.
        p = np.full(len(positions), 1.0 / (len(model["gram_keys"][0]) + 1))
        for k in range(self.order):
            count = _lookup(model["gram_keys"][k], model["gram_counts"][k], grams[k][positions])
            history = np.zeros(len(positions), np.uint64) if k == 0 else grams[k - 1][positions - 1]
            total = _lookup(model["ctx_keys"][k], model["ctx_totals"][k], history)
            distinct = _lookup(model["ctx_keys"][k], model["ctx_distinct"][k], history)
            seen = total > 0
            safe = np.where(seen, total, 1.0)
            # Interpolated absolute discounting: d taken from every seen n-gram of this history and
            # given to the lower order, in proportion to how many different characters followed it.
            p = np.where(seen, (np.maximum(count - d, 0.0) + d * distinct * p) / safe, p)
        return np.log(p), rows

    def _score(self, model: dict[str, Any], texts: list[str]) -> np.ndarray:
        logp, rows = self.log_probabilities(model, texts)
        n = np.bincount(rows, minlength=len(texts)).astype(np.float64)
        mean = np.bincount(rows, weights=logp, minlength=len(texts)) / n
        square = np.bincount(rows, weights=logp**2, minlength=len(texts)) / n
        low = np.bincount(rows, weights=(logp < np.log(self.surprise)).astype(np.float64), minlength=len(texts)) / n
        return np.column_stack([mean, np.sqrt(np.maximum(square - mean**2, 0.0)), low])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(PERPLEXITY_NAMES, dtype=object)
