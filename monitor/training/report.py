"""Offline HTML evaluation report: every plot is an inline PNG, so it opens with no network.

Binary models pass a 1-D array of positive-class scores; multi-class models (the after-sales
cause) pass an (n, k) probability matrix plus ``classes`` in column order.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # reports are written on servers without a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    confusion_matrix,
    precision_recall_curve,
    roc_curve,
)

from monitor.errors import DataError  # noqa: E402
from monitor.fonts import INSTALL_HINT, cjk_font, font_families  # noqa: E402
from monitor.training.heldout import (  # noqa: E402
    binary_metrics,
    multiclass_metrics,
    threshold_for_precision,
)
from monitor.training.report_html import PAGE, cells, evaluation_section, img, most_wrong, table  # noqa: E402

REPORT_FILE = "report.html"
SECTIONS = (
    ("precision-recall", "Precision–recall curve"),
    ("roc", "ROC curve"),
    ("confusion-matrix", "Confusion matrix"),
    ("score-distribution", "Score distribution"),
    ("thresholds", "Threshold for the precision target"),
    ("features", "Most influential features"),
    ("most-wrong", "Examples the model gets most wrong"),
)


def _png(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing-glyph warnings for CJK without a CJK font
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _one_vs_rest(y_true: np.ndarray, scores: np.ndarray, classes: list[Any]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(class name, 0/1 truth, score) per curve: one for binary, one per class otherwise."""
    if scores.ndim == 1:
        return [(str(classes[-1]) if classes else "positive", y_true.astype(int), scores)]
    return [(str(c), (y_true == c).astype(int), scores[:, i]) for i, c in enumerate(classes)]


def write_report(
    out_dir: Path,
    *,
    title: str,
    y_true: Sequence[Any],
    scores: Sequence[Any],
    threshold: float | dict[str, float],
    feature_importance: list[tuple[str, float]] | None = None,
    texts: list[str] | None = None,
    classes: Sequence[Any] | None = None,
    precision_target: float = 0.9,
    evaluation: str = "Held-out evaluation",
    other_evaluations: dict[str, dict[str, Any]] | None = None,
    n_wrong: int = 20,
) -> Path:
    """Write ``out_dir/report.html`` and return its path.

    ``threshold`` is the decision threshold in use (binary) or per class; the report also
    shows, per class, the threshold that would reach ``precision_target``.
    ``evaluation`` names what ``y_true``/``scores`` are (every plot and the first table come from
    them); ``other_evaluations`` (e.g. ``{"Cross-validation (5-fold, out-of-fold)": metrics}``) are
    shown as tables of their own under their names, never mixed into the first one.
    """
    y = np.asarray(y_true)
    s = np.asarray(scores, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise DataError("report needs a non-empty 1-D list of true labels")
    if s.shape[0] != y.size:
        raise DataError(f"report got {y.size} labels but {s.shape[0]} scores")
    if texts is not None and len(texts) != y.size:
        raise DataError(f"report got {y.size} labels but {len(texts)} texts")
    binary = s.ndim == 1
    if binary:
        y = y.astype(int)
        cls = [0, 1] if classes is None else list(classes)
    else:
        if classes is None or len(classes) != s.shape[1]:
            raise DataError("multi-class scores need `classes` in column order")
        cls = list(classes)
        y = y.astype(str) if np.asarray(cls).dtype.kind in "UO" else y
    # Feature names from Chinese reviews are CJK n-grams: the shared chart font draws them.
    with plt.rc_context({"font.family": font_families()}):
        return _write(out_dir, title, y, s, cls, binary, threshold, feature_importance, texts,
                      precision_target, evaluation, other_evaluations or {}, n_wrong)


def _write(
    out_dir: Path,
    title: str,
    y: np.ndarray,
    s: np.ndarray,
    cls: list[Any],
    binary: bool,
    threshold: float | dict[str, float],
    feature_importance: list[tuple[str, float]] | None,
    texts: list[str] | None,
    precision_target: float,
    evaluation: str,
    other_evaluations: dict[str, dict[str, Any]],
    n_wrong: int,
) -> Path:
    curves = _one_vs_rest(y, s, cls)
    targets = {name: threshold_for_precision(t, sc, precision_target) for name, t, sc in curves}
    if binary:
        thr = float(threshold if not isinstance(threshold, dict) else next(iter(threshold.values())))
        pred = (s >= thr).astype(int)
        metrics = binary_metrics(y, s, thr)
        metrics["threshold"] = thr
        labels_order: list[Any] = [0, 1]
        tick_names = [str(c) for c in cls]
    else:
        pred = np.asarray(cls, dtype=object)[s.argmax(axis=1)]
        pred = pred.astype(y.dtype) if y.dtype.kind in "iu" else pred.astype(str)
        metrics = multiclass_metrics(y, pred)
        labels_order = cls
        tick_names = [str(c) for c in cls]
    cm = confusion_matrix(y, pred, labels=labels_order)
    if binary:
        metrics.update(cells(cm.tolist()))

    figures: dict[str, str] = {}

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for name, t, sc in curves:
        if 0 < t.sum() < t.size:
            p, r, _ = precision_recall_curve(t, sc)
            ax.plot(r, p, label=name)
    ax.axhline(precision_target, color="grey", ls="--", lw=1, label=f"target {precision_target:.2f}")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="Precision–recall")
    ax.legend(fontsize=7, loc="lower left")
    figures["precision-recall"] = img(_png(fig), "precision-recall curve")

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for name, t, sc in curves:
        if 0 < t.sum() < t.size:
            fpr, tpr, _ = roc_curve(t, sc)
            ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(fontsize=7, loc="lower right")
    figures["roc"] = img(_png(fig), "ROC curve")

    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(cls), 1.0 + 0.7 * len(cls)))
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=8)
    ax.set_xticks(range(len(cls)), tick_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(cls)), tick_names, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix")
    figures["confusion-matrix"] = img(_png(fig), "confusion matrix")

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    bins = np.linspace(0, 1, 31)
    if binary:
        ax.hist(s[y == 0], bins=bins, alpha=0.6, label=f"true {tick_names[0]}")
        ax.hist(s[y == 1], bins=bins, alpha=0.6, label=f"true {tick_names[1]}")
        ax.axvline(thr, color="black", ls="--", lw=1, label=f"threshold {thr:.2f}")
        ax.set(xlabel="score")
    else:
        top = s.max(axis=1)
        ax.hist(top[pred == y], bins=bins, alpha=0.6, label="correct")
        ax.hist(top[pred != y], bins=bins, alpha=0.6, label="wrong")
        ax.set(xlabel="probability of the predicted class")
    ax.set(ylabel="reviews", title="Score distribution")
    ax.legend(fontsize=7)
    figures["score-distribution"] = img(_png(fig), "score distribution")

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, t, sc in curves[:8]:
        if 0 < t.sum() < t.size:
            p, r, th = precision_recall_curve(t, sc)
            line, = ax.plot(th, p[:-1], label=f"{name} precision")
            ax.plot(th, r[:-1], ls=":", color=line.get_color(), label=f"{name} recall")
            ax.axvline(targets[name], color=line.get_color(), lw=0.8, ls="--")
    ax.axhline(precision_target, color="grey", ls="--", lw=1)
    ax.set(xlabel="threshold", ylabel="precision / recall", xlim=(0, 1), ylim=(0, 1.02),
           title=f"Thresholds for precision ≥ {precision_target:.2f}")
    ax.legend(fontsize=6, ncol=2)
    figures["thresholds"] = img(_png(fig), "precision and recall by threshold")
    threshold_rows = []
    for name, t, sc in curves:
        t_thr = targets[name]
        m = binary_metrics(t, sc, t_thr)
        threshold_rows.append((name, t_thr, m["precision"], m["recall"], int(t.sum())))

    features_html = "<p>No feature importances were given for this model.</p>"
    if feature_importance:
        top = sorted(feature_importance, key=lambda kv: abs(kv[1]), reverse=True)[:25]
        fig, ax = plt.subplots(figsize=(5.5, 0.5 + 0.22 * len(top)))
        has_cjk = cjk_font() is not None
        # Without a CJK font Chinese n-grams would draw as empty boxes: label those bars by
        # rank and let the table beside the chart carry the text.
        labels = [n if has_cjk or all(ord(ch) < 0x2E80 for ch in n) else f"#{rank}"
                  for rank, (n, _) in enumerate(top, 1)]
        vals = [v for _, v in top]
        ax.barh(range(len(top))[::-1], vals, color=["#c0392b" if v > 0 else "#2e86c1" for v in vals])
        ax.set_yticks(range(len(top))[::-1], labels, fontsize=7)
        ax.set(xlabel="weight (positive pushes towards the flagged class)", title="Most influential features")
        features_html = img(_png(fig), "most influential features") + table(
            ["#", "feature", "weight"], [(rank, n, float(v)) for rank, (n, v) in enumerate(top, 1)]
        )
        if not has_cjk and labels != [n for n, _ in top]:
            features_html += f"<p class=meta>Chinese features are numbered in the chart: {html.escape(INSTALL_HINT)}.</p>"
    figures["features"] = features_html

    figures["most-wrong"] = most_wrong(y, s, pred, cls, texts, binary, n_wrong)

    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p class=meta>Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} · precision target "
            f"{precision_target:.2f} · plots, confusion matrix and examples: {html.escape(evaluation.lower())}</p>",
            evaluation_section("evaluation", f"{evaluation} ({y.size} rows)", metrics)]
    for k, (heading, other) in enumerate(other_evaluations.items(), 1):
        body.append(evaluation_section(f"evaluation-{k}", heading, other))
    for key, heading in SECTIONS:
        body.append(f'<section id="{key}"><h2>{html.escape(heading)}</h2>{figures[key]}')
        if key == "thresholds":
            body.append(table(["class", "threshold", "precision", "recall", "support"], threshold_rows))
        body.append("</section>")
    page = PAGE.format(title=html.escape(title), body="\n".join(body))

    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / REPORT_FILE
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write report to {out_dir}: {exc.strerror}") from None
    return path
