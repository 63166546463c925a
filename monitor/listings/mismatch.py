"""How far a photo's reading is from what the listing states, and the calibrated flag scale.

Measured on ../shared fashion_listings (benchmarks/listing_images.py): for category the
mismatch relative to the best class ranks better (an unsure photo stays low); for colour,
whose families blur into each other, one minus the stated colours' probability ranks better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# Share of correctly described catalogue photos allowed to reach the flag line when a
# model's threshold is calibrated on its held-out images.
CALIBRATION_FALSE_POSITIVES = 0.05
MIN_CALIBRATION_IMAGES = 30
# A perfectly separable catalogue would put the line at 0 (any doubt flags) and a hopeless
# one at 1 (nothing flags): keep it where a flag still means something.
THRESHOLD_RANGE = (0.5, 0.99)


def category_mismatch(probs: Mapping[str, float], stated: Sequence[str]) -> float:
    if not probs:
        return 0.0
    best = max(probs.values())
    p = sum(probs.get(s, 0.0) for s in stated)
    return float(max(0.0, 1.0 - min(1.0, p / best))) if best > 0 else 0.0


def colour_mismatch(probs: Mapping[str, float], stated: Sequence[str]) -> float:
    if not probs:
        return 0.0
    return float(max(0.0, 1.0 - sum(probs.get(s, 0.0) for s in stated)))


def calibrated(score: float, threshold: float) -> float:
    """Map a raw mismatch onto 0..1 so that ``threshold`` lands on 0.5, the flag line.

    Piecewise linear, so the ranking (and every ROC AUC) is unchanged.
    """
    t = min(max(threshold, 1e-6), 1 - 1e-6)
    if score < t:
        return 0.5 * score / t
    return 0.5 + 0.5 * (score - t) / (1 - t)


def calibrate_threshold(
    probs: np.ndarray, classes: Sequence[str], truth: Sequence[str], kind: str
) -> dict[str, float] | None:
    """Raw mismatch at which only CALIBRATION_FALSE_POSITIVES of held-out photos, described
    correctly, would be flagged; and how many wrongly described ones it would catch."""
    if len(truth) < MIN_CALIBRATION_IMAGES:
        return None
    fn = category_mismatch if kind == "category" else colour_mismatch
    neg, pos = [], []
    for row, label in zip(probs, truth, strict=True):
        p = dict(zip(classes, map(float, row), strict=True))
        neg.append(fn(p, [label]))
        pos.extend(fn(p, [c]) for c in classes if c != label)
    t = float(np.clip(np.quantile(neg, 1 - CALIBRATION_FALSE_POSITIVES), *THRESHOLD_RANGE))
    return {"threshold": t, "recall_at_threshold": float(np.mean(np.asarray(pos) >= t))}
