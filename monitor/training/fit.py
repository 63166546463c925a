"""Train a review classifier on a checked Table: thresholds from out-of-fold scores, an optional
held-out share measured apart (stored with the version for the promotion gate).

The recipe (features + classifier) is in ``monitor.training.recipe``, the folds in
``monitor.training.folds``, scoring fitted models in ``monitor.training.predict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from monitor.errors import DataError
from monitor.registry import Registry
from monitor.training.folds import Progress, held_scores, label_classes, no_progress, out_of_fold, split_indices
from monitor.training.io import TEXT, Table, numeric_feature_columns, require_labels
from monitor.training.metrics import threshold_for_precision, threshold_warning
from monitor.training.predict import evaluate, metrics_from_scores, table_inputs
from monitor.training.recipe import DEFAULT_PARAMS, build_pipeline, check_options
from monitor.training.tuning import TunedLogisticRegression

#: ``folds=1``: the share of the training rows held back to pick the threshold on.
VALIDATION_SHARE = 0.1
#: What a version keeps of its cross-validation (out-of-fold) evaluation, beside the held-out one.
CV_KEYS = ("n", "positives", "threshold", "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
           "confusion_matrix")


@dataclass
class Trained:
    estimator: Pipeline
    threshold: float
    metrics: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    oof_scores: np.ndarray | None = None
    holdout: Table | None = None


def train(
    table: Table, *, precision_target: float = 0.9, folds: int = 5, holdout: float = 0.0,
    features: Any | None = None, min_recall: float | None = None, progress: Progress = no_progress,
    **params: Any,
) -> Trained:
    """Fit a model; thresholds come from out-of-fold scores so they reflect unseen data
    (``folds=1``: from rows held back from the one fit, see :func:`_one_fit`).

    Binary: one threshold (key ``positive``) reaching ``precision_target``; multi-class: one per
    class. With ``holdout`` > 0 a stratified share of rows is kept out of training entirely and
    its metrics are the version's metrics (stored with it for the promotion gate).
    ``min_recall`` (binary): when the threshold reaches ``precision_target`` only below this recall,
    ``params["threshold_warning"]`` says so (the caller refuses or registers with the warning).
    ``features``: an already fitted text featurizer to reuse (text-only models), so several models
    fitted on the same texts can share one transform when scoring.
    """
    y = require_labels(table)
    check_options(table, holdout=holdout, clf=params.get("clf", DEFAULT_PARAMS["clf"]), folds=folds)
    numeric = numeric_feature_columns(table.frame)
    params = {**params, "multiclass": not table.binary}
    fit_table, held = table, None
    if holdout:
        fit_table, held = split_holdout(table, holdout)
    if folds == 1:
        estimator, fitted_rows, fit_table, scores, classes = _one_fit(fit_table, numeric, progress, params)
        n_fits = 1
    else:
        fitted_rows = len(fit_table.ids)
        splits = split_indices(fit_table, folds=folds)
        scores, classes = out_of_fold(fit_table, splits=splits, numeric=numeric, progress=progress, extra_fits=1,
                                      **params)
        n_fits = len(splits) + 1
        progress(n_fits - 1, n_fits, f"final model: fitting on {len(fit_table.ids):,} rows")
        estimator = _final_fit(fit_table, numeric, features, params)
    fy = fit_table.y
    assert fy is not None
    if table.binary:
        threshold = threshold_for_precision(fy, scores, precision_target)
        thresholds = {"positive": threshold}
        warning = None if min_recall is None else threshold_warning(fy, scores, threshold, precision_target,
                                                                    min_recall)
    else:
        thresholds = {
            str(c): threshold_for_precision(fy == c, scores[:, i], precision_target) for i, c in enumerate(classes)
        }
        threshold, warning = 0.5, None
    cv_metrics = metrics_from_scores(fit_table, scores, threshold, classes)
    info = {
        **{k: list(v) if isinstance(v, tuple) else v for k, v in {**DEFAULT_PARAMS, **params}.items()},
        "input_columns": [TEXT, *numeric],
        "numeric_columns": numeric,
        "classes": [str(c) for c in table.classes],
        "positive": table.positive,
        "label_column": table.label_column,
        "rows": int(len(y)),
        "holdout_rows": 0 if held is None else len(held.ids),
        # The model's own fit, and the rows whose scores set the threshold: the same rows
        # (out-of-fold scores) with folds > 1, rows held back from the one fit with folds=1.
        "fitted_rows": fitted_rows,
        "threshold_rows": len(fit_table.ids),
        "precision_target": precision_target,
    }
    if warning:
        info["threshold_warning"] = warning
    tuned = _tuned_C(estimator.named_steps["clf"])
    if tuned is not None:
        info["tuned_C"] = tuned
    progress(n_fits, n_fits, "done")
    if held is not None:
        metrics = evaluate(estimator, held, info, threshold)
        metrics["evaluated_on"] = f"held-out {holdout:.0%} of rows ({len(held.ids)})"
    else:
        metrics = dict(cv_metrics)
        metrics["evaluated_on"] = f"out-of-fold predictions ({folds}-fold)"
    metrics["cv"] = {k: v for k, v in cv_metrics.items() if k in CV_KEYS}
    metrics["cv"]["folds"] = folds
    if folds == 1:
        metrics["cv"]["evaluated_on"] = f"{VALIDATION_SHARE:.0%} of the training rows held back ({len(fit_table.ids)})"
    return Trained(estimator, threshold, metrics, info, thresholds, scores, held)


def _tuned_C(clf: Any) -> dict[str, Any] | list[dict[str, Any]] | None:
    """What a tuned logistic regression chose (one per class when one-vs-rest), for the version's params."""
    if isinstance(clf, TunedLogisticRegression):
        return clf.choice()
    parts = getattr(clf, "estimators_", None)
    if parts and all(isinstance(e, TunedLogisticRegression) for e in parts):
        return [e.choice() for e in parts]
    return None


def _final_fit(fit_table: Table, numeric: list[str], features: Any | None, params: dict[str, Any]) -> Pipeline:
    """The model on every training row, after cross-validation chose its thresholds; a shared,
    already fitted featurizer (``features``) is reused as it is."""
    if features is not None and not numeric:
        estimator = build_pipeline(numeric, **params)
        estimator.steps[0] = ("features", features)
        estimator.named_steps["clf"].fit(features.transform(table_inputs(fit_table, numeric)), fit_table.y)
        return estimator
    return build_pipeline(numeric, **params).fit(table_inputs(fit_table, numeric), fit_table.y)


def _one_fit(table: Table, numeric: list[str], progress: Progress,
             params: dict[str, Any]) -> tuple[Pipeline, int, Table, np.ndarray, list[str]]:
    """Large files: one fit instead of folds + a final fit. The model is fitted on all but a
    stratified VALIDATION_SHARE of the rows, which it never sees; their scores stand in for
    out-of-fold scores (threshold, ``cv`` metrics).
    Returns (model, rows it was fitted on, validation rows, scores, classes)."""
    fit_part, validation = split_holdout(table, VALIDATION_SHARE)
    progress(0, 1, f"one fit on {len(fit_part.ids):,} rows (threshold on {len(validation.ids):,} held back)")
    estimator = build_pipeline(numeric, **params).fit(table_inputs(fit_part, numeric), fit_part.y)
    classes = label_classes(table)
    scores = held_scores(estimator, table, table_inputs(validation, numeric), classes)
    return estimator, len(fit_part.ids), validation, scores, classes


def split_holdout(table: Table, fraction: float) -> tuple[Table, Table]:
    """A stratified (seeded) split of a labeled table into training and held-out parts."""
    y = require_labels(table)
    idx = np.arange(len(y))
    try:
        train_idx, test_idx = train_test_split(idx, test_size=fraction, stratify=y, random_state=0)
    except ValueError as exc:
        raise DataError(f"{table.path}: cannot hold out {fraction:.0%} of rows: {exc}") from None
    return subset(table, np.sort(train_idx)), subset(table, np.sort(test_idx))


def subset(table: Table, idx: np.ndarray | list[int]) -> Table:
    idx = np.asarray(idx, dtype=int)
    assert table.y is not None
    return Table(
        path=table.path,
        frame=table.frame.iloc[idx].reset_index(drop=True),
        ids=[table.ids[i] for i in idx],
        label_column=table.label_column,
        y=table.y[idx],
        classes=table.classes,
        positive=table.positive,
    )


def holdout_frame(trained: Trained) -> pd.DataFrame | None:
    """Held-out rows in the registry's shape: the model's input columns plus ``label``."""
    held = trained.holdout
    if held is None:
        return None
    frame = held.frame[list(trained.params["input_columns"])].copy()
    frame["label"] = held.y
    return frame


def save_trained(registry: Registry, name: str, trained: Trained, *, data_fingerprint: str) -> str:
    """Register a trained result as a new version of ``name`` (model, metrics, params, thresholds and
    its held-out rows, if any); returns the version id."""
    return registry.save(name, trained.estimator, metrics=trained.metrics, params=trained.params,
                         thresholds=trained.thresholds, data_fingerprint=data_fingerprint,
                         holdout=holdout_frame(trained))
