"""Scoring review texts with the live text models: malicious (extortion/threats), deceptive,
after-sales cause, for a batch at once (one transform per review for models sharing a featurizer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitor.detection.live_models import TextModels
from monitor.detection.phrases import cue_reasons
from monitor.detection.text_model import TextModel, clean

#: Seed-trained default models separate their small corpus perfectly, so their thresholds say
#: little about real reviews (on 10,000 real Chinese shop reviews most seed-only hits were price
#: complaints). Until analysts train on real labels, a malicious hit from a seed model also needs
#: a matched demand/threat phrase, or a score this high.
SEED_CORROBORATION_SCORE = 0.8


@dataclass
class TextScore:
    malicious: float
    is_malicious: bool
    deceptive: float
    is_deceptive: bool
    cause: str
    cause_score: float
    cause_best: str = "other"

    def as_dict(self) -> dict[str, Any]:
        return {
            "malicious": round(self.malicious, 6),
            "is_malicious": self.is_malicious,
            "deceptive": round(self.deceptive, 6),
            "is_deceptive": self.is_deceptive,
            "cause": self.cause,
            "cause_score": round(self.cause_score, 6),
        }


@dataclass
class TextBatch:
    """Scores for a batch plus the feature matrices they came from, to explain flags without
    vectorizing any text a second time."""

    models: TextModels
    cleaned: list[str]
    scores: list[TextScore]
    #: feature matrix (CSR) per features_key, or per model name for models that share none
    matrices: dict[str, Any] = field(default_factory=dict)

    def _matrix(self, model: TextModel) -> Any:
        key = model.features_key or f"model:{model.name}"
        X = self.matrices.get(key)
        if X is None:  # a model without a shared featurizer: one transform for the whole batch
            X = self.matrices[key] = model.transform(self.cleaned).tocsr()
        return X

    def top_features(self, name: str, i: int, *, class_index: int | None = None, k: int = 3) -> list[str]:
        """``models[name].top_features(text i)``, read from this batch's matrix."""
        model = self.models[name]
        if model._linear is None:
            return []
        return model.top_features_of(self._matrix(model), i, class_index=class_index, k=k, text=self.cleaned[i])


def score_texts(models: TextModels, texts: list[str]) -> list[TextScore]:
    """Vectorised scores for a batch. Empty texts score 0 and cause ``other``: nothing to read."""
    return score_batch(models, texts).scores


def score_batch(models: TextModels, texts: list[str], context: pd.DataFrame | None = None) -> TextBatch:
    """:func:`score_texts`, keeping the feature matrices for :meth:`TextBatch.top_features`.

    ``context``: the reviews' other columns for models trained with them (row-aligned)."""
    cleaned = [clean(t) for t in texts]
    batch = TextBatch(models, cleaned, [])
    if not texts:
        return batch
    mal_m, dec_m, cause_m = models["malicious"], models["deceptive"], models["cause"]
    shared = batch.matrices

    def proba(model: TextModel) -> np.ndarray:
        key = model.features_key
        if key is None:
            return model.proba(cleaned, context)
        if key not in shared:
            shared[key] = model.transform(cleaned).tocsr()
        return model.proba_from_features(shared[key])

    mal = proba(mal_m)[:, list(mal_m.estimator.classes_).index(1)]
    dec = proba(dec_m)[:, list(dec_m.estimator.classes_).index(1)]
    cproba = proba(cause_m)
    classes = cause_m.classes
    best_j = cproba.argmax(axis=1)
    out = batch.scores
    for i, text in enumerate(cleaned):
        if not text.strip():
            out.append(TextScore(0.0, False, 0.0, False, "other", 0.0, "other"))
            continue
        j = int(best_j[i])
        best = cause = classes[j]
        cscore = float(cproba[i, j])
        # Below its class threshold the cause is not trustworthy enough to route on.
        if cscore < cause_m.thresholds.get(cause, 0.0):
            cause = "other"
        is_malicious = bool(mal[i] >= mal_m.threshold)
        if is_malicious and mal_m.seed_default and mal[i] < SEED_CORROBORATION_SCORE:
            is_malicious = bool(cue_reasons(text))
        out.append(
            TextScore(
                float(mal[i]), is_malicious,
                float(dec[i]), bool(dec[i] >= dec_m.threshold),
                cause, cscore, best,
            )
        )
    return batch

