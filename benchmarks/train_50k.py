"""Train a review classifier on 50 000 labeled reviews; print time and peak memory as JSON.

Data: ``online_shopping_10_cats.csv`` (Chinese e-commerce reviews, label 1 = positive,
0 = negative) from the shared folder (SHOPMON_SHARED or ../shared). 50 000 rows are drawn
(seeded, stratified) for training; the remaining rows are the held-out set.

Stages timed: fit, held-out scoring + metrics, the HTML report, registry save and a verified
load (sha256 + type allow-list). Peak memory is the process's maximum resident set size.

Pipeline: ``monitor.training.fit.build_pipeline`` (the detection model: word + character
TF-IDF n-grams into logistic regression) when it is available, otherwise a TF-IDF character
n-gram + LogisticRegression baseline defined here; the JSON says which (``pipeline``).

Usage: python benchmarks/train_50k.py [--rows 50000] [--pipeline auto|detection|baseline]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from monitor.paths import shared_dir
from monitor.registry import Registry, fingerprint_rows
from monitor.training.heldout import binary_metrics, threshold_for_precision
from monitor.training.report import write_report


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _pipeline(kind: str):  # noqa: ANN202
    if kind in ("auto", "detection"):
        try:
            from monitor.training.fit import build_pipeline

            return "detection (monitor.training.fit.build_pipeline defaults)", build_pipeline()
        except ImportError:
            if kind == "detection":
                raise
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True),
        LogisticRegression(C=4.0, max_iter=1000),
    )
    return "baseline (char 1-3 TF-IDF + LogisticRegression)", pipe


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--pipeline", choices=("auto", "detection", "baseline"), default="auto")
    args = ap.parse_args()
    path = shared_dir() / "data" / "online_shopping_10_cats.csv"
    if not path.is_file():
        print(json.dumps({"skipped": f"{path} not found (set SHOPMON_SHARED)"}))
        return 0

    import os

    load_avg = [round(x, 2) for x in os.getloadavg()]  # timings on a shared machine need this context
    cpus = os.cpu_count()
    rss_start = _peak_mib()
    t0 = time.perf_counter()
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype={"review": str}, keep_default_na=False)
    frame["review"] = frame["review"].str.replace("\ufeff", "", regex=False).str.strip()
    frame = frame[frame["review"] != ""].reset_index(drop=True)
    from sklearn.model_selection import train_test_split

    train, held = train_test_split(frame, train_size=args.rows, stratify=frame["label"], random_state=0)
    load_s = time.perf_counter() - t0
    name, pipe = _pipeline(args.pipeline)

    t = time.perf_counter()
    pipe.fit(train["review"].tolist(), train["label"].to_numpy())
    fit_s = time.perf_counter() - t
    rss_after_fit = _peak_mib()

    t = time.perf_counter()
    scores = pipe.predict_proba(held["review"].tolist())[:, list(pipe.classes_).index(1)]
    y = held["label"].to_numpy()
    # Negative reviews are what shopmon looks for: treat label 0 as the flagged class.
    neg_scores = 1.0 - scores
    thr = threshold_for_precision(1 - y, neg_scores, 0.9)
    metrics = binary_metrics(1 - y, neg_scores, thr)
    score_s = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        feats = None
        clf = pipe.steps[-1][1]
        try:
            names = pipe[:-1].get_feature_names_out()
            coef = -np.asarray(clf.coef_).ravel()  # towards "negative review"
            top = np.argsort(-np.abs(coef))[:25]
            feats = [(str(names[i]), float(coef[i])) for i in top]
        except (AttributeError, ValueError):
            pass
        report = write_report(Path(tmp) / "report", title=f"negative review, {args.rows} rows", y_true=1 - y,
                              scores=neg_scores, threshold=thr, feature_importance=feats,
                              texts=held["review"].tolist())
        report_s = time.perf_counter() - t
        report_kib = round(report.stat().st_size / 1024, 1)

        # skops.io builds its trusted-type tables on import (once per process): timed apart.
        t = time.perf_counter()
        import skops.io  # noqa: F401

        import_skops_s = time.perf_counter() - t
        t = time.perf_counter()
        reg = Registry(Path(tmp) / "models")
        fp = fingerprint_rows(zip(train["review"], train["label"].astype(int)))
        version = reg.save("benchmark", pipe, metrics=metrics, params={"input_columns": ["text"]},
                           thresholds={"positive": thr}, data_fingerprint=fp)
        save_s = time.perf_counter() - t
        model_mib = round((Path(tmp) / "models" / "benchmark" / version / "model.skops").stat().st_size / 2**20, 1)
        t = time.perf_counter()
        loaded, _ = reg.load("benchmark")
        load_model_s = time.perf_counter() - t
        same = bool(np.allclose(loaded.predict_proba(held["review"].tolist()[:200]),
                                pipe.predict_proba(held["review"].tolist()[:200])))

    print(json.dumps({
        "benchmark": "train_50k",
        "data": "online_shopping_10_cats.csv",
        "pipeline": name,
        "train_rows": int(len(train)),
        "heldout_rows": int(len(held)),
        "seconds": {"load_csv": round(load_s, 2), "fit": round(fit_s, 2), "score_heldout": round(score_s, 2),
                    "report": round(report_s, 2), "import_skops": round(import_skops_s, 2),
                    "registry_save": round(save_s, 2),
                    "registry_load_verified": round(load_model_s, 2)},
        "peak_rss_mib": {"before": rss_start, "after_fit": rss_after_fit, "end": _peak_mib()},
        "heldout": {k: round(v, 4) for k, v in metrics.items() if k in (
            "average_precision", "roc_auc", "precision", "recall", "f1")} | {"threshold": round(thr, 4)},
        "report_kib": report_kib,
        "model_file_mib": model_mib,
        "reload_predicts_identically": same,
        "cpus": cpus,
        "load_avg_at_start": load_avg,
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
