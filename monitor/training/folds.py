"""Cross-validation: fold splits (stratified, or group-disjoint) and out-of-fold scores.

Out-of-fold scores are what thresholds and the version's ``cv`` metrics come from: each row is
scored by a model that never saw it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold

from monitor.errors import DataError
from monitor.training.io import Table, numeric_feature_columns, require_labels
from monitor.training.predict import metrics_from_scores, table_inputs
from monitor.training.recipe import DEFAULT_PARAMS, build_pipeline, check_options

#: Told (fits done, fits in all, what is being fitted) before each fit: training a large file takes
#: minutes per fit, and the CLI shows it.
Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, what: str) -> None:
    pass


def _splitter(table: Table, folds: int, groups: np.ndarray | None):  # noqa: ANN202
    y = require_labels(table)
    counts = pd.Series(y).value_counts()
    if groups is not None:
        n_groups = len(set(groups))
        if n_groups < 2:
            raise DataError(f"{table.path}: the group column has a single value; need at least 2 groups")
        k = min(folds, n_groups)
        return (StratifiedGroupKFold(k) if counts.min() >= k else GroupKFold(k)), k
    k = min(folds, int(counts.min()))
    if k < 2:
        raise DataError(f"{table.path}: class {counts.idxmin()!r} has {int(counts.min())} row(s); need at least 2 per class")
    return StratifiedKFold(k, shuffle=True, random_state=0), k


def split_indices(table: Table, *, folds: int = 5, group_column: str | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) row indices per fold; with ``group_column`` each group sits in one fold only."""
    y = require_labels(table)
    groups = None
    if group_column is not None:
        if group_column not in table.frame.columns:
            raise DataError(f"{table.path}: missing group column {group_column!r} (columns: "
                            f"{', '.join(map(str, table.frame.columns[:20]))})")
        groups = table.frame[group_column].astype(str).to_numpy()
    splitter, _ = _splitter(table, folds, groups)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of model inputs (a DataFrame or a list of texts)."""
    return X.iloc[idx] if isinstance(X, pd.DataFrame) else [X[i] for i in idx]


def scores_of(model: Any, X: Any, classes: list[Any]) -> np.ndarray:
    """(n, len(classes)) probabilities in ``classes`` order (a class the model never saw scores 0)."""
    proba = model.predict_proba(X)
    out = np.zeros((proba.shape[0], len(classes)))
    for j, c in enumerate(model.classes_):
        out[:, classes.index(c)] = proba[:, j]
    return out


def label_classes(table: Table) -> list[Any]:
    """The label values present, sorted: the column order of :func:`scores_of` for this table."""
    return sorted(set(require_labels(table).tolist()))


def held_scores(model: Any, table: Table, X: Any, classes: list[Any]) -> np.ndarray:
    """Scores of rows ``X`` (of ``table``) by a model that did not see them: binary, the positive-class
    score; multi-class, one column per class in ``classes`` order."""
    proba = scores_of(model, X, classes)
    return proba[:, classes.index(1)] if table.binary else proba


def out_of_fold(
    table: Table, *, folds: int = 5, group_column: str | None = None, numeric: list[str] | None = None,
    progress: Progress = no_progress, extra_fits: int = 0,
    splits: list[tuple[np.ndarray, np.ndarray]] | None = None, **params: Any,
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold probabilities (binary: positive-class score; multi-class: one column per class).

    ``splits``: the caller's :func:`split_indices` (else made from ``folds`` / ``group_column``).
    ``extra_fits``: fits the caller does after these, counted in what ``progress`` is told."""
    y = require_labels(table)
    numeric = numeric_feature_columns(table.frame) if numeric is None else numeric
    params = {**params, "multiclass": not table.binary}
    X = table_inputs(table, numeric)
    classes = label_classes(table)
    out = np.zeros(len(y)) if table.binary else np.zeros((len(y), len(classes)))
    if splits is None:
        splits = split_indices(table, folds=folds, group_column=group_column)
    for k, (train_idx, test_idx) in enumerate(splits):
        if len(set(y[train_idx].tolist())) < 2:
            raise DataError(f"{table.path}: a training fold has a single class; use fewer folds or more data")
        progress(k, len(splits) + extra_fits, f"fold {k + 1}/{len(splits)}: fitting on {len(train_idx):,} rows")
        model = build_pipeline(numeric, **params).fit(take(X, train_idx), y[train_idx])
        out[test_idx] = held_scores(model, table, take(X, test_idx), classes)
    return out, classes


def cross_validate(table: Table, *, folds: int = 5, group_column: str | None = None,
                   progress: Progress = no_progress, **params: Any) -> dict[str, Any]:
    """Metrics of out-of-fold predictions; with ``group_column`` no group is in train and test at once."""
    check_options(table, clf=params.get("clf", DEFAULT_PARAMS["clf"]))
    splits = split_indices(table, folds=folds, group_column=group_column)
    scores, classes = out_of_fold(table, splits=splits, progress=progress, **params)
    n_fits = len(splits)
    progress(n_fits, n_fits, "done")
    metrics = metrics_from_scores(table, scores, 0.5, classes)
    # Per fold, in split order: how far apart the folds are says how much one overall figure can be trusted.
    metrics["fold_accuracy"] = [_accuracy(table, scores, classes, test_idx) for _, test_idx in splits]
    metrics["folds"] = min(folds, len(set(table.frame[group_column]))) if group_column else folds
    if group_column:
        metrics["group_column"] = group_column
    return metrics


def _accuracy(table: Table, scores: np.ndarray, classes: list[Any], idx: np.ndarray) -> float:
    """Accuracy of rows ``idx`` as :func:`metrics_from_scores` decides them (binary at 0.5, else the top class)."""
    y = require_labels(table)[idx]
    if table.binary:
        pred: Any = (scores[idx] >= 0.5).astype(int)
    else:
        pred = np.asarray([str(c) for c in classes], dtype=object)[scores[idx].argmax(axis=1)]
        y = y.astype(str)
    return float(np.mean(pred == y))
