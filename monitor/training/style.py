"""Text features meant to transfer across fake-review writers (paid humans, GPT-2, newer generators).

* :class:`NBScale` - NB-SVM (Wang & Manning 2012): each n-gram weighted by its log-count ratio
  between the classes on the training rows, so the linear model starts from how much an n-gram
  says rather than how often it occurs (Salminen et al.'s strongest classical baseline).
* :class:`StyleFeatures` - how a text is written rather than what about: length, word length,
  vocabulary richness, function-word and first-person rates, punctuation, capitals, digits,
  repetition (repeated word pairs) and burstiness (sentence-length spread, top-word share), plus
  how likely its character 3-grams are under a model of the *genuine* training reviews (text
  generators and paid writers both drift from how customers actually write).
* :class:`TextEdges` - marks where a review starts and ends, so n-grams see its first and last
  characters and words (text generators stop mid-sentence: 1,550 of 1,997 original Salminen
  reviews end with ".", 644 of 2,003 generated ones do).
NBScale and StyleFeatures are fitted on the training fold only (they see ``y``); all three live
inside the model's Pipeline.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer

_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[.!?。！？]+")
_FIRST_PERSON = frozenset({"i", "me", "my", "mine", "we", "us", "our", "ours", "我", "我们"})
_FUNCTION = frozenset(ENGLISH_STOP_WORDS) | frozenset("的了是在和也都就很还又")
STYLE_NAMES = (
    "log_chars", "log_words", "mean_word_len", "type_token_ratio", "function_word_share", "first_person_share",
    "exclamation_rate", "question_rate", "punctuation_rate", "capital_rate", "digit_rate",
    "repeated_bigram_share", "sentence_len_mean", "sentence_len_cv", "top_word_share", "genuine_char3_loglik",
)
_HASH_BITS = 18


class NBScale(TransformerMixin, BaseEstimator):
    """Multiply each column by its log-count ratio log((p / |p|) / (q / |q|)) (binary ``y`` only;
    other targets leave the features unchanged)."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X: Any, y: Any = None) -> NBScale:
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        labels = np.unique(y)
        self.n_features_in_ = X.shape[1]
        if len(labels) != 2:
            self.ratio_ = np.ones(X.shape[1], dtype=np.float64)
            return self
        p = self.alpha + np.asarray(X[y == labels[1]].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(X[y == labels[0]].sum(axis=0)).ravel()
        self.ratio_ = np.log((p / p.sum()) / (q / q.sum()))
        return self

    def transform(self, X: Any) -> Any:
        return sp.csr_matrix(X) @ sp.diags(self.ratio_, format="csr")

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(input_features, dtype=object)


#: Start and end of a review, as characters no review contains (control characters); reasons strip them.
TEXT_START, TEXT_END = "\x02", "\x03"


class TextEdges(TransformerMixin, BaseEstimator):
    """Texts -> the same texts between TEXT_START and TEXT_END (stateless)."""

    def fit(self, X: Any, y: Any = None) -> TextEdges:
        return self

    def transform(self, X: Any) -> list[str]:
        return [f"{TEXT_START}{t}{TEXT_END}" for t in X]

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        return input_features


def _char3() -> HashingVectorizer:
    return HashingVectorizer(analyzer="char", ngram_range=(3, 3), n_features=2**_HASH_BITS, alternate_sign=False,
                             norm=None, lowercase=True)


def _style_row(text: str) -> list[float]:
    words = _WORD.findall(text.lower())
    n_w, n_c = len(words), max(len(text), 1)
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    pairs = list(zip(words, words[1:], strict=False))
    sentences = [len(_WORD.findall(s)) for s in _SENTENCE.split(text) if s.strip()] or [0]
    sent = np.asarray(sentences, dtype=float)
    return [
        np.log1p(len(text)),
        np.log1p(n_w),
        float(np.mean([len(w) for w in words])) if words else 0.0,
        len(counts) / n_w if n_w else 0.0,
        sum(c for w, c in counts.items() if w in _FUNCTION) / n_w if n_w else 0.0,
        sum(c for w, c in counts.items() if w in _FIRST_PERSON) / n_w if n_w else 0.0,
        (text.count("!") + text.count("！")) / n_c,
        (text.count("?") + text.count("？")) / n_c,
        sum(1 for ch in text if not ch.isalnum() and not ch.isspace()) / n_c,
        sum(1 for ch in text if ch.isupper()) / n_c,
        sum(1 for ch in text if ch.isdigit()) / n_c,
        1 - len(set(pairs)) / len(pairs) if pairs else 0.0,
        float(sent.mean()),
        float(sent.std() / sent.mean()) if sent.mean() else 0.0,
        max(counts.values()) / n_w if n_w else 0.0,
    ]


class StyleFeatures(TransformerMixin, BaseEstimator):
    """Texts -> dense matrix of STYLE_NAMES; the 3-gram model is fitted on the genuine rows (``y`` = 0,
    the first class; every row when ``y`` has no such class)."""

    def _genuine(self, texts: list[str], y: Any) -> np.ndarray:
        if y is None:
            return np.ones(len(texts), dtype=bool)
        y = np.asarray(y)
        mask = y == np.unique(y)[0]
        return mask if mask.any() else np.ones(len(texts), dtype=bool)

    def _fit_counts(self, grams: Any, genuine: np.ndarray) -> np.ndarray:
        counts = np.asarray(grams[genuine].sum(axis=0), dtype=np.float64).ravel()
        self.char3_logp_ = np.log((counts + 1.0) / (counts.sum() + counts.size)).astype(np.float32)
        self.n_features_in_ = 1
        return counts

    def fit(self, X: Any, y: Any = None) -> StyleFeatures:
        texts = [str(t) for t in X]
        self._fit_counts(_char3().transform(texts), self._genuine(texts, y))
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """As fit + transform, except that each genuine training row's 3-gram likelihood leaves that
        row out of the counts: scored on counts that include its own 3-grams, every genuine training
        text looks far more typical than a new one will, and the model learns that leak."""
        texts = [str(t) for t in X]
        grams = _char3().transform(texts).tocsr()
        genuine = self._genuine(texts, y)
        counts = self._fit_counts(grams, genuine)
        out = self._profile(texts, grams)
        rows = np.flatnonzero(genuine)
        own = grams[rows]
        n_own = np.asarray(own.sum(axis=1)).ravel()
        loo = own.copy()
        loo.data = own.data * np.log(counts[own.indices] - own.data + 1.0)
        total = counts.sum() - n_own + counts.size
        out[rows, -1] = (np.asarray(loo.sum(axis=1)).ravel() - n_own * np.log(total)) / np.maximum(n_own, 1)
        return out

    def transform(self, X: Any) -> np.ndarray:
        texts = [str(t) for t in X]
        return self._profile(texts, _char3().transform(texts))

    def _profile(self, texts: list[str], grams: Any) -> np.ndarray:
        rows = np.asarray([_style_row(t) for t in texts], dtype=np.float64).reshape(len(texts), len(STYLE_NAMES) - 1)
        n = np.asarray(grams.sum(axis=1)).ravel()
        loglik = np.asarray(grams @ self.char3_logp_.astype(np.float64)).ravel() / np.maximum(n, 1)
        return np.column_stack([rows, loglik])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(STYLE_NAMES, dtype=object)
