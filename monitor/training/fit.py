"""Train, evaluate, predict and cross-validate review classifiers on a checked Table.

One scikit-learn Pipeline per model: a ColumnTransformer sends ``text`` to word n-grams + character
n-grams (characters carry Chinese, which has no spaces; words carry English phrasing) and the numeric
columns to impute + scale; a logistic regression on top gives probabilities and readable weights.
Measured against bigram linear SVM and single-vectorizer variants on op_spam (docs/detection.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from monitor.errors import DataError
from monitor.training.context import CONTEXT_COLUMNS, NOT_NUMBERS, ContextFeatures
from monitor.training.io import DERIVED_REVIEWER, TEXT, Table, numeric_feature_columns
from monitor.training.style import NBScale, StyleFeatures
from monitor.training.metrics import (
    binary_metrics,
    multiclass_metrics,
    threshold_for_precision,
    threshold_warning,
)

# Words: letters/digits runs plus single punctuation marks ("!!!" and "$" are signals).
WORD_PATTERN = r"(?u)\b\w+\b|[^\w\s]"
DEFAULT_PARAMS: dict[str, Any] = {
    "word_ngrams": (1, 3),
    "char_ngrams": (1, 5),
    "char_min_df": 2,
    # A word n-gram seen once says nothing to the next file; on Chinese, where "words" are whole
    # clauses, dropping them cut the word vocabulary 28x (20,000 reviews: 523,815 -> 18,528 terms)
    # and raised held-out AP 0.959 -> 0.972; op_spam/Salminen moved -0.005..+0.003 (docs/detection.md).
    "word_min_df": 2,
    "lowercase": False,
    "clf": "logreg",
    "multiclass": False,
    "C": 30.0,
    "svm_C": 0.5,
    "nb": False,
    "style": False,
}


def build_pipeline(numeric: list[str] | None = None, **overrides: Any) -> Pipeline:
    """Text-only models take a list of strings; with numeric/context columns they take a DataFrame."""
    p = {**DEFAULT_PARAMS, **overrides}
    text = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=tuple(p["word_ngrams"]), sublinear_tf=True,
                                     token_pattern=WORD_PATTERN, lowercase=p["lowercase"],
                                     min_df=p["word_min_df"], max_features=p.get("max_features"))),
            ("char", TfidfVectorizer(analyzer="char", ngram_range=tuple(p["char_ngrams"]), sublinear_tf=True,
                                     min_df=p["char_min_df"], lowercase=p["lowercase"],
                                     max_features=p.get("max_features"))),
        ]
    )
    if p["nb"]:
        text = Pipeline([("ngrams", text), ("nb", NBScale())])
    if p["style"]:
        text = FeatureUnion([("ngrams", text),
                             ("style", Pipeline([("profile", StyleFeatures()), ("scale", StandardScaler())]))])
    if p["clf"] == "svm":
        # A linear SVM separates better on long English reviews; sigmoid calibration gives it the
        # probabilities that thresholds and reports need.
        clf: Any = CalibratedClassifierCV(LinearSVC(C=p["svm_C"], class_weight="balanced"), cv=3)
    elif p["clf"] == "logreg":
        # liblinear's dual solver is far faster when n-gram features outnumber rows (measured 0.07 s
        # vs 4.7 s primal on the seed corpus; lbfgs multinomial took 30 s+); multi-class runs it
        # one-vs-rest.
        clf = LogisticRegression(C=p["C"], solver="liblinear", dual=True, max_iter=3000, class_weight="balanced")
        if p.get("multiclass"):
            clf = OneVsRestClassifier(clf)
    else:
        raise DataError(f"unknown classifier {p['clf']!r}: use logreg or svm")
    if not numeric:
        return Pipeline([("features", text), ("clf", clf)])
    # Numbers are log-scaled and the reviewer/listing context derived (monitor.training.context)
    # inside the Pipeline, so predicting on new rows computes what training did.
    derive = ContextFeatures([c for c in numeric if c not in NOT_NUMBERS], [c for c in numeric if c in CONTEXT_COLUMNS])
    parts: list[tuple[str, Any, Any]] = [
        ("text", text, TEXT),
        ("num", Pipeline([("derive", derive),
                          ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                          ("scale", StandardScaler())]), list(numeric)),
    ]
    return Pipeline([("features", ColumnTransformer(parts)), ("clf", clf)])


#: Told (fits done, fits in all, what is being fitted) before each fit: training a large file takes
#: minutes per fit, and the CLI shows it.
Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, what: str) -> None:
    pass


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


def _inputs(table: Table, numeric: list[str]) -> Any:
    return model_inputs(table.frame, numeric, table.path)


CLASSIFIERS = ("logreg", "svm")


def check_options(table: Table, *, holdout: float = 0.0, clf: str = "logreg") -> None:
    """Everything about the options that can be wrong, checked before any fitting starts."""
    _require_labels(table)
    if clf not in CLASSIFIERS:
        raise DataError(f"--clf {clf!r}: use {' or '.join(CLASSIFIERS)}")
    if holdout and not 0 < holdout < 0.9:
        raise DataError(f"--holdout must be between 0 and 0.9, got {holdout}")
    if not table.binary and len(table.classes) == 2:
        a, b = table.classes
        raise DataError(f"{table.path}: label column {table.label_column!r} has two values ({a}, {b}): "
                        f"pass --positive with the one to detect (e.g. --positive {b})")


def _require_labels(table: Table) -> np.ndarray:
    if table.y is None:
        raise DataError(f"{table.path}: no label column given (use --label COLUMN)")
    return table.y


def _splitter(table: Table, folds: int, groups: np.ndarray | None):  # noqa: ANN202
    y = _require_labels(table)
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
    y = _require_labels(table)
    groups = None
    if group_column is not None:
        if group_column not in table.frame.columns:
            raise DataError(f"{table.path}: missing group column {group_column!r} (columns: "
                            f"{', '.join(map(str, table.frame.columns[:20]))})")
        groups = table.frame[group_column].astype(str).to_numpy()
    splitter, _ = _splitter(table, folds, groups)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def out_of_fold(
    table: Table, *, folds: int = 5, group_column: str | None = None, numeric: list[str] | None = None,
    progress: Progress = _no_progress, extra_fits: int = 0, **params: Any,
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold probabilities (binary: positive-class score; multi-class: one column per class).

    ``extra_fits``: fits the caller does after these, counted in what ``progress`` is told."""
    y = _require_labels(table)
    numeric = numeric_feature_columns(table.frame) if numeric is None else numeric
    params = {**params, "multiclass": not table.binary}
    X = _inputs(table, numeric)
    classes = sorted(set(y.tolist()))
    out = np.zeros((len(y), len(classes)))
    splits = split_indices(table, folds=folds, group_column=group_column)
    for k, (train_idx, test_idx) in enumerate(splits):
        if len(set(y[train_idx].tolist())) < 2:
            raise DataError(f"{table.path}: a training fold has a single class; use fewer folds or more data")
        progress(k, len(splits) + extra_fits, f"fold {k + 1}/{len(splits)}: fitting on {len(train_idx):,} rows")
        model = build_pipeline(numeric, **params).fit(_take(X, train_idx), y[train_idx])
        proba = model.predict_proba(_take(X, test_idx))
        for j, c in enumerate(model.classes_):
            out[test_idx, classes.index(c)] = proba[:, j]
    if table.binary:
        return out[:, classes.index(1)], classes
    return out, classes


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, pd.DataFrame) else [X[i] for i in idx]


def metrics_from_scores(table: Table, scores: np.ndarray, threshold: float = 0.5,
                        classes: list[str] | None = None) -> dict[str, Any]:
    y = _require_labels(table)
    if table.binary:
        m = binary_metrics(y, scores, threshold)
        m["positive"] = table.positive
        return m
    classes = [str(c) for c in (classes or table.classes)]
    pred = np.asarray(classes)[np.asarray(scores).argmax(axis=1)]
    return multiclass_metrics(y, pred, classes, proba=np.asarray(scores))


def cross_validate(table: Table, *, folds: int = 5, group_column: str | None = None,
                   progress: Progress = _no_progress, **params: Any) -> dict[str, Any]:
    """Metrics of out-of-fold predictions; with ``group_column`` no group is in train and test at once."""
    check_options(table, clf=params.get("clf", DEFAULT_PARAMS["clf"]))
    scores, classes = out_of_fold(table, folds=folds, group_column=group_column, progress=progress, **params)
    n_fits = len(split_indices(table, folds=folds, group_column=group_column))
    progress(n_fits, n_fits, "done")
    metrics = metrics_from_scores(table, scores, 0.5, classes)
    metrics["folds"] = min(folds, len(set(table.frame[group_column]))) if group_column else folds
    if group_column:
        metrics["group_column"] = group_column
    return metrics


def train(
    table: Table, *, precision_target: float = 0.9, folds: int = 5, holdout: float = 0.0,
    features: Any | None = None, min_recall: float | None = None, progress: Progress = _no_progress,
    **params: Any,
) -> Trained:
    """Fit a model; thresholds come from out-of-fold scores so they reflect unseen data.

    Binary: one threshold (key ``positive``) reaching ``precision_target``; multi-class: one per
    class. With ``holdout`` > 0 a stratified share of rows is kept out of training entirely and
    its metrics are the version's metrics (stored with it for the promotion gate).
    ``min_recall`` (binary): when the threshold reaches ``precision_target`` only below this recall,
    ``params["threshold_warning"]`` says so (the caller refuses or registers with the warning).
    ``features``: an already fitted text featurizer to reuse (text-only models), so several models
    fitted on the same texts can share one transform when scoring.
    """
    y = _require_labels(table)
    check_options(table, holdout=holdout, clf=params.get("clf", DEFAULT_PARAMS["clf"]))
    numeric = numeric_feature_columns(table.frame)
    params = {**params, "multiclass": not table.binary}
    fit_table, held = table, None
    if holdout:
        fit_table, held = split_holdout(table, holdout)
    scores, classes = out_of_fold(fit_table, folds=folds, numeric=numeric, progress=progress, extra_fits=1, **params)
    n_fits = len(split_indices(fit_table, folds=folds)) + 1
    progress(n_fits - 1, n_fits, f"final model: fitting on {len(fit_table.ids):,} rows")
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
    if features is not None and not numeric:
        estimator = build_pipeline(numeric, **params)
        estimator.steps[0] = ("features", features)
        estimator.named_steps["clf"].fit(features.transform(_inputs(fit_table, numeric)), fy)
    else:
        estimator = build_pipeline(numeric, **params).fit(_inputs(fit_table, numeric), fy)
    info = {
        **{k: list(v) if isinstance(v, tuple) else v for k, v in {**DEFAULT_PARAMS, **params}.items()},
        "input_columns": [TEXT, *numeric],
        "numeric_columns": numeric,
        "classes": [str(c) for c in table.classes],
        "positive": table.positive,
        "label_column": table.label_column,
        "rows": int(len(y)),
        "holdout_rows": 0 if held is None else len(held.ids),
        "precision_target": precision_target,
    }
    if warning:
        info["threshold_warning"] = warning
    progress(n_fits, n_fits, "done")
    if held is not None:
        metrics = evaluate(estimator, held, info, threshold)
        metrics["evaluated_on"] = f"held-out {holdout:.0%} of rows ({len(held.ids)})"
    else:
        metrics = dict(cv_metrics)
        metrics["evaluated_on"] = f"out-of-fold predictions ({folds}-fold)"
    metrics["cv"] = {k: v for k, v in cv_metrics.items() if k in CV_KEYS}
    metrics["cv"]["folds"] = folds
    return Trained(estimator, threshold, metrics, info, thresholds, scores, held)


def split_holdout(table: Table, fraction: float) -> tuple[Table, Table]:
    """A stratified (seeded) split of a labeled table into training and held-out parts."""
    from sklearn.model_selection import train_test_split

    y = _require_labels(table)
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


def _numeric_of(params: dict[str, Any]) -> list[str]:
    cols = params.get("input_columns")
    if cols:
        return [c for c in cols if c != TEXT]
    return list(params.get("numeric_columns") or [])


def is_binary(estimator: Any) -> bool:
    return len(getattr(estimator, "classes_", [])) == 2


def score(estimator: Any, table: Table, params: dict[str, Any]) -> np.ndarray:
    """Positive-class probability (binary: ``classes_[1]``) or the class-probability matrix."""
    proba = np.asarray(estimator.predict_proba(_inputs(table, _numeric_of(params))))
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


def evaluate(estimator: Pipeline, table: Table, params: dict[str, Any], threshold: float) -> dict[str, Any]:
    y = _require_labels(table)
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
