"""Classification metrics in one JSON-ready shape, shared by `model evaluate`, `model cv` and benchmarks.

ROC AUC and PR AUC are threshold-free (they rank scores); accuracy, precision, recall, F1 and the
confusion matrix are taken at the model's decision threshold, the one detection actually uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties sharing their average rank (what the Mann-Whitney U needs)."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_vals = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def roc_auc(y_true: Sequence[int], scores: Sequence[float]) -> float | None:
    """Probability that a random positive outranks a random negative; None with one class only."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    r = _ranks(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pr_auc(y_true: Sequence[int], scores: Sequence[float]) -> float | None:
    """Average precision: mean of the precision at each positive's rank (ties resolved together)."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    n_pos = int(y.sum())
    if n_pos == 0:
        return None
    thresholds = np.unique(s)[::-1]
    ap, prev_recall = 0.0, 0.0
    for t in thresholds:
        pred = s >= t
        tp = int((pred & y).sum())
        precision = tp / int(pred.sum())
        recall = tp / n_pos
        ap += (recall - prev_recall) * precision
        prev_recall = recall
    return float(ap)


def binary_metrics(y_true: Sequence[int], scores: Sequence[float], threshold: float = 0.5) -> dict[str, Any]:
    """accuracy, precision, recall, f1, roc_auc, pr_auc and confusion_matrix [[tn, fp], [fn, tp]]."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    if len(y) != len(s):
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    pred = s >= threshold
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    tn = int((~pred & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "threshold": float(threshold),
        "accuracy": (tp + tn) / len(y) if len(y) else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc(y, s),
        "pr_auc": pr_auc(y, s),
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }


def multiclass_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str], proba: np.ndarray | None = None
) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, one-vs-rest macro ROC/PR AUC (with proba), confusion matrix.

    ``proba`` columns follow ``labels``; the confusion matrix rows are true labels, columns predicted.
    """
    yt = np.asarray(y_true).astype(str)
    yp = np.asarray(y_pred).astype(str)
    labels = [str(label) for label in labels]
    index = {label: i for i, label in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(yt, yp, strict=True):
        cm[index[t], index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    for i, label in enumerate(labels):
        tp = cm[i, i]
        fp = cm[:, i].sum() - tp
        fn = cm[i, :].sum() - tp
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        per_class[label] = {
            "precision": float(p),
            "recall": float(r),
            "f1": float(2 * p * r / (p + r)) if p + r else 0.0,
            "support": int(cm[i, :].sum()),
        }
    present = [c for c in per_class.values() if c["support"] > 0] or list(per_class.values())
    out: dict[str, Any] = {
        "n": int(len(yt)),
        "labels": labels,
        "accuracy": float(np.trace(cm) / len(yt)) if len(yt) else 0.0,
        "precision": float(np.mean([c["precision"] for c in present])),
        "recall": float(np.mean([c["recall"] for c in present])),
        "f1": float(np.mean([c["f1"] for c in present])),
        "roc_auc": None,
        "pr_auc": None,
        "confusion_matrix": cm.tolist(),
        "per_class": per_class,
    }
    if proba is not None:
        rocs, prs = [], []
        for i, label in enumerate(labels):
            is_label = yt == label
            if 0 < is_label.sum() < len(yt):
                rocs.append(roc_auc(is_label, proba[:, i]))
                prs.append(pr_auc(is_label, proba[:, i]))
        out["roc_auc"] = float(np.mean(rocs)) if rocs else None
        out["pr_auc"] = float(np.mean(prs)) if prs else None
    return out


def threshold_for_precision(y_true: Sequence[int], scores: Sequence[float], target: float) -> float:
    """The threshold with the most recall among those whose precision reaches ``target``.

    Ties in recall go to the more precise threshold, and the cut is placed halfway to the next
    lower score so that unseen scores just under the last positive are not a coin toss. Falls back
    to 0.5 when no threshold reaches the target (tiny or inseparable data): a detector that cannot
    be that precise should not pretend otherwise by flagging nothing.
    """
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    n_pos = int(y.sum())
    if n_pos == 0:
        return 0.5
    values = np.unique(s)[::-1]
    best: tuple[float, float, int] | None = None  # (recall, precision, index into values)
    for i, t in enumerate(values):
        pred = s >= t
        tp = int((pred & y).sum())
        precision = tp / int(pred.sum())
        if tp and precision >= target:
            key = (tp / n_pos, precision, i)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None:
        return 0.5
    i = best[2]
    t = float(values[i])
    return (t + float(values[i + 1])) / 2 if i + 1 < len(values) else t


def threshold_warning(y_true: Sequence[int], scores: Sequence[float], threshold: float,
                      precision_target: float, min_recall: float) -> str | None:
    """Why a threshold is not useful, or None: it must reach ``precision_target`` at a recall of at
    least ``min_recall`` (a threshold of 0.99 that catches 4 % of the positives passes the
    precision target and is still no detector)."""
    m = binary_metrics(y_true, scores, threshold)
    if m["positives"] == 0 or (m["precision"] >= precision_target and m["recall"] >= min_recall):
        return None
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    # Precision one would get by lowering the threshold until the floor recall is caught.
    k = max(1, int(np.ceil(min_recall * int(y.sum()))))
    at_floor = binary_metrics(y, s, float(np.sort(s[y])[::-1][k - 1]))
    return (f"precision target {precision_target:.2f} is reached only at recall {m['recall']:.2f} "
            f"(threshold {threshold:.4f}, precision {m['precision']:.2f}), below the recall floor "
            f"detection.min_recall {min_recall:.2f}; at recall {at_floor['recall']:.2f} precision is "
            f"{at_floor['precision']:.2f} (out-of-fold scores)")
