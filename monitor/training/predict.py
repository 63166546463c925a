"""Score, predict and evaluate fitted review models on checked Tables.

A model's inputs are the texts, or the text plus the numeric/context columns it was trained with
(``params["input_columns"]``); a missing column is a DataError naming it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monitor.errors import DataError
from monitor.training.io import DERIVED_REVIEWER, TEXT, Table, require_labels
from monitor.training.metrics import binary_metrics, multiclass_metrics


def model_inputs(frame: pd.DataFrame, numeric: list[str], where: object = "input") -> Any:
    """What the pipeline takes: the texts, or text + numeric columns as a DataFrame."""
    missing = [c for c in numeric if c not in frame.columns]
    if missing:
        if missing[0] in DERIVED_REVIEWER:
            raise DataError(f"{where}: missing column 'reviewer_id' (the model uses {missing[0]}, derived from it)")
        raise DataError(f"{where}: missing column {missing[0]!r} that the model was trained with")
    if not numeric:
        return frame[TEXT].tolist()
    return frame[[TEXT, *numeric]]


def table_inputs(table: Table, numeric: list[str]) -> Any:
    return model_inputs(table.frame, numeric, table.path)


def metrics_from_scores(table: Table, scores: np.ndarray, threshold: float = 0.5,
                        classes: list[str] | None = None) -> dict[str, Any]:
    y = require_labels(table)
    if table.binary:
        m = binary_metrics(y, scores, threshold)
        m["positive"] = table.positive
        return m
    classes = [str(c) for c in (classes or table.classes)]
    pred = np.asarray(classes)[np.asarray(scores).argmax(axis=1)]
    return multiclass_metrics(y, pred, classes, proba=np.asarray(scores))


def _numeric_of(params: dict[str, Any]) -> list[str]:
    cols = params.get("input_columns")
    if cols:
        return [c for c in cols if c != TEXT]
    return list(params.get("numeric_columns") or [])


def is_binary(estimator: Any) -> bool:
    return len(getattr(estimator, "classes_", [])) == 2


def score(estimator: Any, table: Table, params: dict[str, Any]) -> np.ndarray:
    """Positive-class probability (binary: ``classes_[1]``) or the class-probability matrix."""
    proba = np.asarray(estimator.predict_proba(table_inputs(table, _numeric_of(params))))
    return proba[:, 1] if is_binary(estimator) else proba


def predict_frame(estimator: Any, table: Table, params: dict[str, Any], threshold: float) -> pd.DataFrame:
    """One row per input row, input order: id, score (positive-class probability), label."""
    s = score(estimator, table, params)
    if is_binary(estimator):
        names = params.get("classes") or [str(c) for c in estimator.classes_]
        negative, positive = names[0], names[-1]
        labels = np.where(s >= threshold, positive, negative)
        scores = s
    else:
        classes = np.asarray([str(c) for c in estimator.classes_])
        labels = classes[s.argmax(axis=1)]
        scores = s.max(axis=1)
    return pd.DataFrame({"id": table.ids, "score": np.round(scores, 6), "label": labels})


def evaluate(estimator: Any, table: Table, params: dict[str, Any], threshold: float) -> dict[str, Any]:
    y = require_labels(table)
    s = score(estimator, table, params)
    if is_binary(estimator):
        if table.positive is None:
            raise DataError(f"{table.path}: the model is binary; pass --positive VALUE for column {table.label_column!r}")
        return metrics_from_scores(table, s, threshold)
    classes = [str(c) for c in estimator.classes_]
    unknown = sorted(set(map(str, y)) - set(classes))
    if unknown:
        raise DataError(f"{table.path}: label {unknown[0]!r} was not seen in training (classes: {', '.join(classes)})")
    return metrics_from_scores(table, s, 0.5, classes)
