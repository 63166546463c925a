"""Train a review classifier on 50 000 (up to 500 000+) labeled reviews; print time and peak memory as JSON.

Data: ``online_shopping_10_cats.csv`` (Chinese e-commerce reviews, label 1 = positive,
0 = negative) from the shared folder (SHOPMON_SHARED or ../shared). 12 773 rows (seeded,
stratified) are held out; training rows are drawn from the other 50 000. More rows than that
(``--rows 500000``) are sampled with replacement, each copy with noise so that no two are the
same text: 1-3 characters replaced by characters of the corpus, a random emoji/punctuation run
appended, or a clause of another review of the same label added (what volume adds in practice:
near-duplicates, typos, decoration).

Stages timed: fit, held-out scoring + metrics, the HTML report, registry save and a verified
load (sha256 + type allow-list). Peak memory is the process's maximum resident set size.

Pipeline: ``monitor.training.recipe.build_pipeline`` (the detection model: word + character
TF-IDF n-grams into logistic regression) when it is available, otherwise a TF-IDF character
n-gram + LogisticRegression baseline defined here; the JSON says which (``pipeline``).

``--params '{"char_ngrams": [1, 3]}'`` overrides build_pipeline parameters (detection pipeline);
``--params '{"clf": "sgd", "hashing": true}'`` is the large-file recipe (``shopmon model train --clf sgd
--hashing``): hashed n-grams (no vocabulary), float32 TF-IDF, SGD log loss with a fixed number of passes.
CPU seconds (user + system of this process) are reported beside wall time: the machine is shared.

Usage: python benchmarks/train_50k.py [--rows 50000] [--pipeline auto|detection|baseline] [--params JSON]
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


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


_DECOR = ["！！", "~~", "😊", "👍👍", "。。。", "?", "❤", "哈哈", "!!!", "…"]


def _noisy(texts: list[str], labels: np.ndarray, n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``n`` rows sampled with replacement from (texts, labels), each changed a little (see module doc)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(texts), n)
    chars = list({ch for t in texts[:5000] for ch in t})
    by_label = {lab: np.flatnonzero(labels == lab) for lab in np.unique(labels)}
    out = []
    for k, i in enumerate(idx):
        t = texts[i]
        kind = k % 3
        if kind == 0 and t:
            chars_t = list(t)
            for _ in range(int(rng.integers(1, 4))):
                chars_t[int(rng.integers(0, len(chars_t)))] = chars[int(rng.integers(0, len(chars)))]
            t = "".join(chars_t)
        elif kind == 1:
            t = t + _DECOR[int(rng.integers(0, len(_DECOR)))] * int(rng.integers(1, 3))
        else:
            other = texts[int(rng.choice(by_label[labels[i]]))]
            t = t + "，" + other[: int(rng.integers(4, 20))]
        out.append(t)
    return out, labels[idx]


def _pipeline(kind: str, params: dict):  # noqa: ANN202
    if kind in ("auto", "detection"):
        try:
            from monitor.training.recipe import build_pipeline

            return (f"detection (monitor.training.recipe.build_pipeline defaults{', ' + json.dumps(params) if params else ''})",
                    build_pipeline(**params))
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
    ap.add_argument("--params", default="{}", help="JSON overrides for build_pipeline")
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

    pool, held = train_test_split(frame, train_size=min(args.rows, 50_000), stratify=frame["label"], random_state=0)
    texts, labels = pool["review"].tolist(), pool["label"].to_numpy().astype(int)
    if args.rows > len(pool):
        texts, labels = _noisy(texts, labels, args.rows)
    train = pd.DataFrame({"review": texts, "label": labels})
    del texts, labels, pool
    load_s = time.perf_counter() - t0
    name, pipe = _pipeline(args.pipeline, json.loads(args.params))

    t, c = time.perf_counter(), _cpu_s()
    pipe.fit(train["review"].tolist(), train["label"].to_numpy())
    fit_s, fit_cpu = time.perf_counter() - t, _cpu_s() - c
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
        "fit_cpu_seconds": round(fit_cpu, 1),
        "total_cpu_seconds": round(_cpu_s(), 1),
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
