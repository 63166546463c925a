"""One loaded review-text model (malicious, deceptive, cause) and how it explains a score.

A version comes from the registry (``monitor.detection.live_models``); explaining reads the linear
model's weights of the n-grams in the text (the reasons shown on a flag).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer
from sklearn.pipeline import Pipeline
from sklearn.utils import murmurhash3_32

from monitor.detection.vectorize import transform
from monitor.training.style import TEXT_END, TEXT_START

#: Seed-trained default models separate their small corpus perfectly, so their thresholds say
#: little about real reviews. For the seed deceptive model: below this it mostly flags ordinary
#: short praise (measured: 1,080 of 10,000 real Chinese shop reviews at 0.6, 154 at 0.9).
SEED_DECEPTIVE_FLOOR = 0.9
#: Texts longer than this are cut before scoring: a 100 kB paste is scored on its first 20 k
#: characters (where any demand sits) instead of stalling a batch.
MAX_CHARS = 20_000


@dataclass
class TextModel:
    """A loaded model version with what scoring and explaining need."""

    name: str
    version: str
    estimator: Any
    params: dict[str, Any]
    thresholds: dict[str, float]
    #: True when detection.thresholds in the config sets this model's threshold: then it is used as is.
    configured: bool = False

    @property
    def binary(self) -> bool:
        return self.params.get("positive") is not None

    @property
    def seed_default(self) -> bool:
        return not self.configured and str(self.params.get("source", "")).startswith("seed corpus")

    @property
    def threshold(self) -> float:
        t = float(self.thresholds.get("positive", 0.5))
        if self.name == "deceptive" and self.seed_default:
            return max(t, SEED_DECEPTIVE_FLOOR)
        return t

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.estimator.classes_]

    @cached_property
    def features_key(self) -> str | None:
        """Identifies a fitted text featurizer: models with the same key share one transform."""
        steps = getattr(self.estimator, "named_steps", {})
        features = steps.get("features")
        if features is None or self.params.get("numeric_columns") or not hasattr(features, "transformer_list"):
            return None
        h = hashlib.sha256()
        for part, vec in features.transformer_list:
            idf = getattr(vec, "idf_", None)
            if idf is None:
                return None
            h.update(part.encode())
            h.update(repr(sorted(vec.get_params().items(), key=lambda kv: kv[0])).encode())
            h.update(np.asarray(idf).tobytes())
        return h.hexdigest()

    def transform(self, cleaned: list[str]) -> Any:
        return transform(self.estimator.named_steps["features"], cleaned)

    def proba_from_features(self, X: Any) -> np.ndarray:
        return self.estimator.named_steps["clf"].predict_proba(X)

    @property
    def columns(self) -> list[str]:
        """Columns besides the text this model was trained with (rating, reviewer/listing context)."""
        return list(self.params.get("numeric_columns") or [])

    def proba(self, texts: list[str], context: pd.DataFrame | None = None) -> np.ndarray:
        """``context``: row-aligned columns (monitor.detection.review_context); a column it lacks is
        unknown to the model and the imputer fills it."""
        cleaned = [clean(t) for t in texts]
        numeric = self.columns
        if numeric:
            frame = pd.DataFrame({"text": cleaned})
            for c in numeric:
                frame[c] = context[c].to_numpy() if context is not None and c in context.columns else np.nan
            return self.estimator.predict_proba(frame)
        return self.estimator.predict_proba(cleaned)

    @cached_property
    def _linear(self) -> tuple[Any, np.ndarray, np.ndarray] | None:
        """(feature transformer, feature names, coefficient matrix) when the model is linear."""
        steps = getattr(self.estimator, "named_steps", {})
        features, clf = steps.get("features"), steps.get("clf")
        if features is None or clf is None or self.params.get("numeric_columns"):
            return None
        coef = getattr(clf, "coef_", None)
        if coef is None and hasattr(clf, "estimators_"):  # one-vs-rest: one row per class
            coef = np.vstack([e.coef_ for e in clf.estimators_])
        if coef is None and hasattr(clf, "calibrated_classifiers_"):
            coef = np.mean([c.estimator.coef_ for c in clf.calibrated_classifiers_], axis=0)
        if coef is None:
            return None
        # Hashed n-grams have no names; their reasons are read back from the text (_hashed_grams).
        if self._hashed:
            return features, np.array([], dtype=object), np.asarray(coef)
        try:
            names = np.asarray(features.get_feature_names_out())
        except AttributeError:  # e.g. hashed n-grams under NB weights: nothing to name a reason by
            return None
        return features, names, np.asarray(coef)

    @cached_property
    def _hashed(self) -> list[tuple[str, int, HashingVectorizer]]:
        """(kind, first column, hasher) per part when the n-grams are hashed (the large-file recipe)."""
        features = getattr(self.estimator, "named_steps", {}).get("features")
        parts, offset = [], 0
        for kind, part in getattr(features, "transformer_list", []):
            hasher = part.steps[0][1] if isinstance(part, Pipeline) else None
            if not isinstance(hasher, HashingVectorizer):
                return []
            parts.append((kind, offset, hasher))
            offset += hasher.n_features
        return parts

    def _hashed_grams(self, text: str) -> dict[int, str]:
        """Column -> readable n-gram, for the n-grams of ``text`` (same hash as HashingVectorizer)."""
        out: dict[int, str] = {}
        for kind, offset, hasher in self._hashed:
            n = hasher.n_features
            for raw in set(hasher.build_analyzer()(text)):
                gram = _readable(kind, raw)
                if gram is None:
                    continue
                h = murmurhash3_32(raw, seed=0)
                col = offset + ((2147483647 - (n - 1)) % n if h == -2147483648 else abs(h) % n)
                out.setdefault(col, gram)
        return out

    def top_features(self, text: str, *, class_index: int | None = None, k: int = 3) -> list[str]:
        """The n-grams in ``text`` that pushed the score up most (readable, non-overlapping).

        Vectorizes ``text`` on its own; batch scoring explains from the matrix it already has
        with :meth:`top_features_of` instead.
        """
        linear = self._linear
        if linear is None:
            return []
        cleaned = clean(text)
        row = linear[0].transform([cleaned]).tocsr()
        return self.top_features_of(row, 0, class_index=class_index, k=k, text=cleaned)

    def top_features_of(self, X: Any, i: int, *, class_index: int | None = None, k: int = 3,
                        text: str = "") -> list[str]:
        """:meth:`top_features` for row ``i`` of a CSR matrix from this model's featurizer;
        ``text``: the (cleaned) text of that row, which hashed models read their reasons from."""
        linear = self._linear
        if linear is None:
            return []
        _, _, coef = linear
        if coef.shape[0] == 1:
            weights, sign = coef[0], (1.0 if class_index in (None, 1) else -1.0)
        else:
            weights, sign = coef[class_index or 0], 1.0
        start, end = X.indptr[i], X.indptr[i + 1]
        indices = X.indices[start:end]
        contrib = sign * X.data[start:end] * weights[indices]
        if self._hashed:
            named = self._hashed_grams(text)
            grams = np.asarray([named.get(int(c)) for c in indices] + [None], dtype=object)[:-1]
        else:
            grams = np.asarray([self._readable_gram(int(c)) for c in indices] + [None], dtype=object)[:-1]
        keep = np.flatnonzero((contrib > 0) & (grams != None))  # noqa: E711 (object array)
        # Highest contribution first; ties in feature order, so a text explains the same either way.
        keep = keep[np.lexsort((indices[keep], -contrib[keep]))]
        chosen: list[str] = []
        for j in keep:
            if len(chosen) >= k:
                break
            gram = grams[j]
            if any(gram in c or c in gram for c in chosen):
                continue
            chosen.append(gram)
        return chosen

    @cached_property
    def _readable_cache(self) -> dict[int, str | None]:
        return {}

    def _readable_gram(self, index: int) -> str | None:
        """The n-gram of feature ``index`` a person can read, or None for one never shown as a reason.

        Worked out per feature on first use: a process explains a few dozen flags, and naming all of
        a model's hundreds of thousands of features up front cost about 0.1 CPU s per process."""
        cache = self._readable_cache
        if index not in cache:
            # Names are "word__great", or nested ("ngrams__char__退款") when NB weights or the style
            # profile sit around the n-grams; style numbers are no readable reason.
            parts = str(self._linear[1][index]).split("__")  # type: ignore[index]
            kinds = [i for i, p in enumerate(parts[:-1]) if p in ("word", "char")]
            cache[index] = _readable(parts[kinds[0]], "__".join(parts[kinds[0] + 1 :])) if kinds else None
        return cache[index]


def _readable(kind: str, raw: str) -> str | None:
    """The n-gram as a reason a person can read, or None for one never shown as a reason."""
    gram = raw.strip(_EDGE_PUNCT)
    # Character n-grams are there for Chinese; on Latin text they are word fragments
    # ("hed" of "crushed") that the word features already say better.
    if kind == "char" and any("a" <= ch.lower() <= "z" for ch in gram):
        return None
    if len(gram) < 2 or not any(ch.isalnum() for ch in gram):
        return None
    # Function words carry weight in the model but explain nothing to a person.
    if all(tok.lower() in ENGLISH_STOP_WORDS or not tok.isalnum() for tok in gram.split()):
        return None
    return gram


_EDGE_PUNCT = " \t\n，。！？、；：,.!?;:'\"“”（）()" + TEXT_START + TEXT_END  # TextEdges' marks


def clean(text: str | None) -> str:
    """Normalise what reaches the vectorizers: None → "", cut very long texts, drop NULs."""
    if not text:
        return ""
    return text[:MAX_CHARS].replace("\x00", " ")
