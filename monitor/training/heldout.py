"""Held-out metrics and decision thresholds used by the report and the promotion gate.

(Separate from ``monitor.training.metrics``, which the file-based trainer owns: these work on
fitted estimators and sklearn's curves, and the gate needs them to be stable.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)


def threshold_for_precision(y_true: Sequence[int], scores: Sequence[float], target: float) -> float:
    """The lowest score threshold whose precision reaches ``target`` (most recall at that precision).

    When no threshold reaches the target, the one with the best precision is returned, so a
    caller always gets a usable number; the report shows the precision it actually reaches.
    """
    y = np.asarray(y_true).astype(int)
    s = np.asarray(scores, dtype=float)
    if y.size == 0 or y.min() == y.max():
        return 0.5
    precision, _recall, thresholds = precision_recall_curve(y, s)
    # precision has one more entry than thresholds (the "predict nothing" end point).
    ok = np.flatnonzero(precision[:-1] >= target)
    if ok.size:
        return float(thresholds[ok[0]])
    return float(thresholds[int(np.argmax(precision[:-1]))])


def binary_metrics(y_true: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, float]:
    y = np.asarray(y_true).astype(int)
    s = np.asarray(scores, dtype=float)
    pred = (s >= threshold).astype(int)
    out = {
        "n": float(y.size),
        "positives": float(y.sum()),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "accuracy": float(accuracy_score(y, pred)),
    }
    if 0 < y.sum() < y.size:
        out["average_precision"] = float(average_precision_score(y, s))
        out["roc_auc"] = float(roc_auc_score(y, s))
    return out


def multiclass_metrics(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, float]:
    return {
        "n": float(len(y_true)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }


def primary_metric(metrics: dict[str, float]) -> str:
    """The one number the gate compares: ranking quality for binary models, macro F1 otherwise."""
    for key in ("average_precision", "macro_f1", "f1", "accuracy"):
        if key in metrics:
            return key
    raise ValueError("no comparable metric")


def align_labels(y: Sequence[Any], classes: Sequence[Any]) -> np.ndarray:
    """Labels read from CSV/JSON are often strings; match them to the type of ``classes_``."""
    arr = np.asarray(y, dtype=object)
    cls = np.asarray(classes)
    if cls.dtype.kind in "iub":
        try:
            return np.array([int(v) if isinstance(v, bool) else int(str(v).strip()) for v in arr])
        except ValueError:
            pass
        mapping = {"yes": 1, "true": 1, "no": 0, "false": 0}
        bad = sorted({str(v) for v in arr if str(v).strip().lower() not in mapping})[:5]
        if bad:
            raise ValueError(f"labels {bad} do not match model classes {list(cls)}")
        return np.array([mapping[str(v).strip().lower()] for v in arr])
    return arr.astype(str)


@dataclass
class Outputs:
    """What one estimator produced on held-out rows (kept for paired comparisons)."""

    truth: np.ndarray  # binary: 0/1; multi-class: labels
    pred: np.ndarray  # binary: 0/1 at the threshold; multi-class: predicted labels
    scores: np.ndarray | None  # binary: positive-class scores
    metrics: dict[str, float]


def estimator_outputs(
    estimator: Any, X: Any, y: Sequence[Any], *, threshold: float | None = None, precision_target: float = 0.9
) -> Outputs:
    """Score held-out rows with one fitted estimator (binary: positive = ``classes_[1]``)."""
    classes = list(getattr(estimator, "classes_", []))
    y_arr = align_labels(y, classes) if classes else np.asarray(y)
    if len(classes) == 2:
        scores = np.asarray(estimator.predict_proba(X))[:, 1]
        positive = (y_arr == classes[1]).astype(int)
        if threshold is None:
            threshold = threshold_for_precision(positive, scores, precision_target)
        out = binary_metrics(positive, scores, threshold)
        out["threshold"] = float(threshold)
        return Outputs(positive, (scores >= threshold).astype(int), scores, out)
    pred = np.asarray(estimator.predict(X))
    return Outputs(y_arr, pred, None, multiclass_metrics(y_arr, pred))


def paired_bootstrap(
    a: Outputs, b: Outputs, metric: str, *, n: int = 200, seed: int = 0
) -> tuple[float, float] | None:
    """95 % interval of ``metric(a) - metric(b)`` over resamples of the same rows.

    Both models are scored on each resample, so the interval reflects how much the verdict
    could owe to which rows happened to be held out. None when the metric is not resampled.
    """
    size = len(a.truth)
    if size < 2 or metric not in ("average_precision", "roc_auc", "macro_f1", "f1", "accuracy"):
        return None
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n):
        idx = rng.integers(0, size, size)
        t = a.truth[idx]
        if metric in ("average_precision", "roc_auc"):
            if a.scores is None or b.scores is None or t.min() == t.max():
                continue
            fn = average_precision_score if metric == "average_precision" else roc_auc_score
            diffs.append(fn(t, a.scores[idx]) - fn(t, b.scores[idx]))
        elif metric == "macro_f1":
            diffs.append(f1_score(t, a.pred[idx], average="macro", zero_division=0)
                         - f1_score(t, b.pred[idx], average="macro", zero_division=0))
        elif metric == "f1":
            diffs.append(f1_score(t, a.pred[idx], zero_division=0) - f1_score(t, b.pred[idx], zero_division=0))
        else:
            diffs.append(float(np.mean(a.pred[idx] == t) - np.mean(b.pred[idx] == t)))
    if len(diffs) < n // 2:
        return None
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(lo), float(hi)
