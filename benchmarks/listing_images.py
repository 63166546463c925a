"""Listing-vs-image mismatch on ../shared/data/fashion_listings (prints JSON).

Trains the default backend's image models on a stratified part of ``catalogue.csv``, then
scores the rows of ``listing_image_pairs.csv`` whose image was held out (never seen in
training): ROC AUC of the mismatch score overall and per mismatch kind (each kind against
the unswapped listings), listings scored per second, and peak memory.

    python benchmarks/listing_images.py [--test-fraction 0.33] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from monitor.listings.backend import FeatureBackend
from monitor.listings.classifier import CatalogueRow, fit_image_models
from monitor.listings.loading import ImageLoader
from monitor.listings.scoring import ListingInput, ListingScorer
from monitor.paths import shared_dir


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--test-fraction", type=float, default=0.33)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    root = shared_dir() / "data" / "fashion_listings"
    if not (root / "catalogue.csv").is_file():
        print(json.dumps({"skipped": f"fashion_listings not found under {root} (set SHOPMON_SHARED)"}))
        return 0
    with (root / "catalogue.csv").open(encoding="utf-8") as fh:
        cat = list(csv.DictReader(fh))
    with (root / "listing_image_pairs.csv").open(encoding="utf-8") as fh:
        pairs = list(csv.DictReader(fh))

    train, test = train_test_split(
        cat, test_size=args.test_fraction, random_state=args.seed, stratify=[r["articleType"] for r in cat]
    )
    rows = [
        CatalogueRow(image=r["image"], title=r["productDisplayName"], category=r["articleType"], colour=r["baseColour"])
        for r in train
    ]
    loader = ImageLoader(base_dir=root / "images")
    t0, c0 = time.perf_counter(), time.process_time()
    fitted = fit_image_models(rows, loader, seed=args.seed)
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    thresholds = {
        kind: fitted.metrics[name].get("mismatch_threshold", 0.5)
        for kind, name in (("category", "image_category"), ("colour", "image_colour"))
    }
    backend = FeatureBackend(fitted.category, fitted.colour, version="benchmark", thresholds=thresholds)
    scorer = ListingScorer(backend, loader)

    held = {r["image"] for r in test}
    evaluated = [p for p in pairs if p["image"] in held]
    scores, comps, unscored = [], [], 0
    t0, c0 = time.perf_counter(), time.process_time()
    for p in evaluated:
        item = ListingInput(
            listing_id=p["listing_id"],
            title=p["title"],
            attributes={"category": p["category"], "colour": p["colour"]},
            images=[p["image"]],
        )
        res = scorer.score(item)
        if res.score is None:
            unscored += 1
        scores.append(res.score or 0.0)
        comps.append(res)
    score_s, score_cpu = time.perf_counter() - t0, time.process_time() - c0

    y = np.array([int(p["mismatch"]) for p in evaluated])
    s = np.array(scores)
    kinds = np.array([p["mismatch_kind"] for p in evaluated])
    out = {
        "dataset": "fashion_listings",
        "train_images": len(rows),
        "eval_pairs": len(evaluated),
        "eval_by_kind": {k: int((kinds == k).sum()) for k in ("none", "category", "colour")},
        "unscored": unscored,
        "roc_auc": round(float(roc_auc_score(y, s)), 4),
        "roc_auc_by_kind": {
            k: round(float(roc_auc_score(y[np.isin(kinds, ["none", k])], s[np.isin(kinds, ["none", k])])), 4)
            for k in ("category", "colour")
        },
        "flag_rate_at_threshold": {
            "threshold": 0.5,
            "mismatched_flagged": round(float((s[y == 1] >= 0.5).mean()), 4),
            "matching_flagged": round(float((s[y == 0] >= 0.5).mean()), 4),
        },
        "cv_accuracy": {k: v.get("cv_accuracy") for k, v in fitted.metrics.items()},
        "calibrated_raw_thresholds": thresholds,
        # Wall and CPU time both: on a shared machine the wall clock also measures the neighbours.
        "train_seconds": round(train_s, 2),
        "train_cpu_seconds": round(train_cpu, 2),
        "listings_per_second": round(len(evaluated) / score_s, 1),
        "listings_per_cpu_second": round(len(evaluated) / score_cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_roc_auc": 0.85,
    }
    out["meets_target"] = out["roc_auc"] >= 0.85
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
