"""Training the default backend's two image models on a catalogue (image, title, category, colour).

The category model learns the shop's own category labels; the colour model learns colour
families. Both are plain scikit-learn pipelines over precomputed feature vectors, so the
registry can store them with skops and load them back without trusting any project code.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from monitor.errors import DataError
from monitor.listings.features import FEATURE_VERSION, image_vectors, prepare
from monitor.listings.loading import ImageLoader, LoaderLimits
from monitor.listings.mismatch import calibrate_threshold
from monitor.listings.vocab import colour_family

log = logging.getLogger(__name__)

CATEGORY_MODEL = "image_category"
COLOUR_MODEL = "image_colour"
REQUIRED_COLUMNS = ("image", "title", "category", "colour")


@dataclass
class CatalogueRow:
    image: str
    title: str
    category: str
    colour: str
    line: int = 0


def read_catalogue(path: Path) -> list[CatalogueRow]:
    """Rows of a catalogue CSV; a missing column or an empty file is a one-line DataError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read catalogue {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"catalogue {path} is not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(
            f"catalogue {path} lacks column(s) {', '.join(missing)} (needs: {', '.join(REQUIRED_COLUMNS)})"
        )
    rows = [
        CatalogueRow(
            image=(r["image"] or "").strip(),
            title=(r["title"] or "").strip(),
            category=(r["category"] or "").strip(),
            colour=(r["colour"] or "").strip(),
            line=n,
        )
        for n, r in enumerate(reader, start=2)
    ]
    if not rows:
        raise DataError(f"catalogue {path} has no rows")
    return rows


@dataclass
class FittedModels:
    category: Pipeline
    colour: Pipeline
    metrics: dict[str, dict[str, Any]]
    params: dict[str, Any]
    skipped: list[str] = field(default_factory=list)


def _pipeline(c: float) -> Pipeline:
    return Pipeline(
        [("scale", StandardScaler()), ("clf", LogisticRegression(C=c, max_iter=3000, class_weight="balanced"))]
    )


C_GRID = (0.01, 0.1, 1.0)


def _fit_one(x: np.ndarray, y: list[str], seed: int, kind: str) -> tuple[Pipeline, dict[str, Any]]:
    counts = Counter(y)
    if len(counts) < 2:
        raise DataError(f"need at least two classes to train, got {sorted(counts)}")
    metrics: dict[str, Any] = {"n_train": len(y), "classes": len(counts)}
    c = 0.1
    # Out-of-fold predictions: every image is scored by a model that never saw it. They pick
    # the regularisation (a 50-image catalogue wants less than a 2,000-image one), and give an
    # honest accuracy and the flag threshold.
    # Five folds for a small catalogue, three once there is plenty of data to hold out.
    folds = min(5 if len(y) < 500 else 3, min(counts.values()))
    if folds >= 2:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        classes = sorted(counts)  # cross_val_predict orders columns like the estimator: sorted
        truth = np.searchsorted(classes, y)
        best: tuple[float, float, np.ndarray] | None = None
        for cand in C_GRID:
            probs = cross_val_predict(_pipeline(cand), x, y, cv=cv, method="predict_proba")
            loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), truth], 1e-9, 1))))
            if best is not None and loss >= best[0]:
                break  # held-out loss is unimodal in C in practice: stop once it turns up
            best = (loss, cand, probs)
        assert best is not None
        loss, c, probs = best
        metrics["C"] = c
        metrics["cv_log_loss"] = loss
        metrics["cv_accuracy"] = float(np.mean(probs.argmax(axis=1) == truth))
        metrics["cv_folds"] = folds
        cal = calibrate_threshold(probs, classes, y, kind)
        if cal is not None:
            metrics["mismatch_threshold"] = cal["threshold"]
            metrics["recall_at_threshold"] = cal["recall_at_threshold"]
    model = _pipeline(c).fit(x, y)
    return model, metrics


def fit_image_models(
    rows: list[CatalogueRow], loader: ImageLoader, *, seed: int = 0, min_per_class: int = 2
) -> FittedModels:
    """Load every catalogue image, extract features and fit both models.

    Unreadable images and rare classes are skipped and listed (never a crash); a catalogue
    with nothing usable left is a DataError.
    """
    # These matrices are small: multi-threaded BLAS only spins (measured 9x more CPU time
    # for the same fit on a busy 2-core machine).
    with threadpool_limits(1):
        return _fit_image_models(rows, loader, seed=seed, min_per_class=min_per_class)


def _fit_image_models(rows: list[CatalogueRow], loader: ImageLoader, *, seed: int, min_per_class: int) -> FittedModels:
    cat_x: list[np.ndarray] = []
    col_x: list[np.ndarray] = []
    cats: list[str] = []
    fams: list[str | None] = []
    skipped: list[str] = []
    for row in rows:
        if not row.image:
            skipped.append(f"line {row.line}: no image")
            continue
        loaded = loader.load(row.image)
        if not hasattr(loaded, "image"):
            skipped.append(f"line {row.line}: {loaded}")
            continue
        vc, vo = image_vectors(prepare(loaded.image))
        cat_x.append(vc)
        col_x.append(vo)
        cats.append(row.category)
        fams.append(colour_family(row.colour) or colour_family(row.title))
    if not cats:
        raise DataError("no catalogue image could be read: " + "; ".join(skipped[:3]))

    cat_counts = Counter(c for c in cats if c)
    keep_cat = [i for i, c in enumerate(cats) if c and cat_counts[c] >= min_per_class]
    rare = sorted(c for c, n in cat_counts.items() if n < min_per_class)
    if rare:
        skipped.append(f"categories with fewer than {min_per_class} images skipped: {', '.join(rare)}")
    fam_counts = Counter(f for f in fams if f)
    keep_col = [i for i, f in enumerate(fams) if f and fam_counts[f] >= min_per_class]

    xc = np.stack([cat_x[i] for i in keep_cat]) if keep_cat else np.zeros((0, 1))
    category, m_cat = _fit_one(xc, [cats[i] for i in keep_cat], seed, "category")
    xo = np.stack([col_x[i] for i in keep_col]) if keep_col else np.zeros((0, 1))
    colour, m_col = _fit_one(xo, [fams[i] for i in keep_col], seed, "colour")  # type: ignore[misc]
    params = {"feature_version": FEATURE_VERSION, "classifier": "LogisticRegression", "seed": seed}
    return FittedModels(
        category=category,
        colour=colour,
        metrics={CATEGORY_MODEL: m_cat, COLOUR_MODEL: m_col},
        params=params,
        skipped=skipped,
    )


def catalogue_loader(path: Path, settings: Any | None = None) -> ImageLoader:
    """Catalogue images are local files next to the CSV; URLs follow the listings fetch policy."""
    from monitor.listings.backend import allowed_hosts
    from monitor.listings.loading import LOOPBACK_HOSTS

    limits = LoaderLimits()
    if settings is not None:
        limits = LoaderLimits(
            max_bytes=settings.listings.max_image_bytes, timeout=settings.listings.fetch_timeout_seconds
        )
    return ImageLoader(
        base_dir=path.resolve().parent,
        allowed_hosts=allowed_hosts(settings) if settings is not None else LOOPBACK_HOSTS,
        limits=limits,
    )
