"""On real catalogue photos (../shared fashion_listings): a small honest train/evaluate split."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from monitor.listings.backend import FeatureBackend
from monitor.listings.classifier import CatalogueRow, fit_image_models
from monitor.listings.loading import ImageLoader
from monitor.listings.scoring import ListingInput, ListingScorer

pytestmark = pytest.mark.shared


def test_mismatch_score_ranks_swapped_images_on_unseen_photos(shared: Path) -> None:
    root = shared / "data" / "fashion_listings"
    if not (root / "catalogue.csv").is_file():
        pytest.skip(f"fashion_listings not in {shared}")
    catalogue = list(csv.DictReader((root / "catalogue.csv").open(encoding="utf-8")))
    pairs = list(csv.DictReader((root / "listing_image_pairs.csv").open(encoding="utf-8")))
    per_class: dict[str, list[dict]] = defaultdict(list)
    for row in catalogue:
        per_class[row["articleType"]].append(row)
    train = [r for rows in per_class.values() for r in rows[:15]]  # 15 photos per category
    seen = {r["image"] for r in train}
    unseen_pairs = [p for p in pairs if p["image"] not in seen and p["listing_id"][1:] + ".jpg" not in seen][:240]

    loader = ImageLoader(base_dir=root / "images")
    fitted = fit_image_models(
        [CatalogueRow(r["image"], r["productDisplayName"], r["articleType"], r["baseColour"]) for r in train], loader
    )
    thresholds = {"category": fitted.metrics["image_category"].get("mismatch_threshold", 0.5),
                  "colour": fitted.metrics["image_colour"].get("mismatch_threshold", 0.5)}
    scorer = ListingScorer(FeatureBackend(fitted.category, fitted.colour, version="t", thresholds=thresholds), loader)
    scores = []
    for p in unseen_pairs:
        res = scorer.score(
            ListingInput(p["listing_id"], p["title"], {"category": p["category"], "colour": p["colour"]}, [p["image"]])
        )
        assert res.score is not None, res.reasons
        scores.append(res.score)
    y = np.array([int(p["mismatch"]) for p in unseen_pairs])
    kinds = np.array([p["mismatch_kind"] for p in unseen_pairs])
    s = np.array(scores)
    assert roc_auc_score(y, s) >= 0.8
    category = np.isin(kinds, ["none", "category"])
    assert roc_auc_score(y[category], s[category]) >= 0.85
