"""Fit the image models on a catalogue and store them in the model registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config import Settings
from monitor.listings.classifier import (
    CATEGORY_MODEL,
    COLOUR_MODEL,
    catalogue_loader,
    fit_image_models,
    read_catalogue,
)
from monitor.listings.features import FEATURE_VERSION
from monitor.registry import fingerprint_rows, registry_for


@dataclass
class TrainResult:
    versions: dict[str, str]
    metrics: dict[str, dict[str, Any]]
    live: dict[str, bool]
    skipped: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"versions": self.versions, "metrics": self.metrics, "live": self.live, "skipped": self.skipped}


def _card(name: str, csv_path: Path, metrics: dict[str, Any]) -> str:
    what = "catalogue category" if name == CATEGORY_MODEL else "colour family"
    acc = metrics.get("cv_accuracy")
    lines = [
        f"# Model card: {name}",
        "",
        f"Predicts the {what} shown in a product photo, for `shopmon listings` mismatch checks.",
        "",
        f"- Trained on: `{csv_path.name}` ({metrics.get('n_train', 0)} images, {metrics.get('classes', 0)} classes)",
        f"- Features: {FEATURE_VERSION} (product cut-out, colour-family shares, HSV histogram, HOG, small pixels)",
        (
            f"- Cross-validated accuracy: {acc:.3f} ({metrics.get('cv_folds')} folds)"
            if acc is not None
            else "- Cross-validated accuracy: too few images per class to hold any out"
        ),
        f"- Raw mismatch mapped to the flag line: {metrics.get('mismatch_threshold', 0.5):.3f}"
        " (5% of correctly described held-out photos reach it)",
        "",
        "## Intended use",
        "",
        "Says whether a listing's photo agrees with its title; a person checks every flag.",
        "It knows only the categories of the catalogue it was trained on.",
        "",
    ]
    return "\n".join(lines)


def train_from_catalogue(settings: Settings, csv_path: Path, *, session: Any | None = None) -> TrainResult:
    """Fit both image models on ``csv_path`` and save them as new registry versions.

    The first version of each name goes live; later ones wait for ``shopmon model promote``.
    """
    rows = read_catalogue(csv_path)
    loader = catalogue_loader(csv_path, settings)
    fitted = fit_image_models(rows, loader)
    fingerprint = fingerprint_rows((r.image, r.category, r.colour) for r in rows)
    registry = registry_for(settings, session=session)
    versions: dict[str, str] = {}
    live: dict[str, bool] = {}
    for name, est in ((CATEGORY_MODEL, fitted.category), (COLOUR_MODEL, fitted.colour)):
        metrics = fitted.metrics[name]
        versions[name] = registry.save(
            name,
            est,
            metrics=metrics,
            params={**fitted.params, "catalogue": str(csv_path)},
            # Raw mismatch that maps to the 0.5 flag line; 0.5 when too few images to calibrate.
            thresholds={"mismatch": metrics.get("mismatch_threshold", 0.5)},
            data_fingerprint=fingerprint,
            card=_card(name, csv_path, metrics),
        )
        live[name] = registry.live_version(name) == versions[name]
    return TrainResult(versions=versions, metrics=fitted.metrics, live=live, skipped=fitted.skipped)
