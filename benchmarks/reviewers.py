"""Reviewer-behaviour benchmarks on real labelled data; prints JSON.

1. Yelp Chicago filtered reviews (``yelp_chicago_reviews_train.tsv``): 5-fold CV with
   reviewers kept disjoint between folds (StratifiedGroupKFold on ``reviewerID``); ROC AUC of
   text only, behaviour + rating only, and text + rating + behaviour (target >= 0.85).
2. Amazon spammer accounts (``amazon_spammer_isr/``): the authors' fixed train/test splits at
   5/10/30/50 % labelled; ROC AUC and F1 per split (mean over the split files), with the ten
   behaviour features alone and with co-review-graph aggregation (neighbour feature means,
   degree, and the share of known spammers among labelled neighbours, plus one round of
   neighbours' predicted scores). F1 uses the threshold that maximised F1 on out-of-fold
   predictions of the training users, never the test labels.

Usage: python benchmarks/reviewers.py [--only yelp|amazon]   (data: SHOPMON_SHARED or ../shared)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix, hstack
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.preprocessing import StandardScaler

from monitor.paths import shared_dir
from monitor.training.fit import subset
from monitor.training.folds import cross_validate
from monitor.training.io import read_table

#: `shopmon model cv FILE --label flagged --group-column reviewer_id` with these --map options.
YELP_MAP = {
    "reviewContent": "text", "reviewerID": "reviewer_id", "restaurantID": "listing_id", "date": "created_at",
    "yelpJoinDate": "reviewer_joined_at", "reviewCount": "reviewer_total_reviews", "firstCount": "reviewer_first_reviews",
    "restaurantRating": "listing_rating", "friendCount": "reviewer_friends", "usefulCount": "reviewer_useful",
    "coolCount": "reviewer_cool", "funnyCount": "reviewer_funny", "complimentCount": "reviewer_compliments",
    "tipCount": "reviewer_tips", "fanCount": "reviewer_fans",
}
YELP_NUMERIC = [
    "rating", "reviewUsefulCount", "friendCount", "reviewCount", "firstCount", "usefulCount", "coolCount",
    "funnyCount", "complimentCount", "tipCount", "fanCount", "restaurantRating", "ReviewLength",
]


# -- Yelp -------------------------------------------------------------------------------
def yelp_features(df: pd.DataFrame) -> pd.DataFrame:
    """Behaviour per review: the reviewer's profile counts plus what the review itself shows."""
    x = df[YELP_NUMERIC].astype(float).copy()
    date = pd.to_datetime(df["date"], format="%m/%d/%Y", errors="coerce")
    joined = pd.to_datetime(df["yelpJoinDate"], format="%B %Y", errors="coerce")
    x["account_age_days"] = (date - joined).dt.days.clip(lower=0).fillna(-1)
    x["rating_deviation"] = (df["rating"] - df["restaurantRating"]).abs()
    x["extreme_rating"] = df["rating"].isin([1, 5]).astype(float)
    x["first_review_share"] = df["firstCount"] / df["reviewCount"].clip(lower=1)
    x["reviews_in_data"] = df.groupby("reviewerID")["reviewID"].transform("count")
    return x


def _numeric_block(train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    scaler = StandardScaler()
    a = scaler.fit_transform(np.sign(train) * np.log1p(np.abs(train)))
    b = scaler.transform(np.sign(test) * np.log1p(np.abs(test)))
    return a, b


def yelp(root: Path) -> dict:
    path = root / "data" / "yelp_chicago_reviews_train.tsv"
    df = pd.read_csv(path, sep="\t")
    y = df["flagged"].astype(int).to_numpy()
    groups = df["reviewerID"].to_numpy()
    text = df["reviewContent"].fillna("").astype(str)
    feats = yelp_features(df)
    cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    oof = {k: np.zeros(len(df)) for k in ("text", "behaviour", "behaviour_gbm", "text_rating_behaviour")}
    for tr, te in cv.split(df, y, groups):
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        ta, tb = vec.fit_transform(text.iloc[tr]), vec.transform(text.iloc[te])
        na, nb = _numeric_block(feats.iloc[tr], feats.iloc[te])
        lr = LogisticRegression(C=4.0, solver="liblinear")
        oof["text"][te] = lr.fit(ta, y[tr]).predict_proba(tb)[:, 1]
        oof["behaviour"][te] = LogisticRegression(max_iter=3000).fit(na, y[tr]).predict_proba(nb)[:, 1]
        gbm = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)
        oof["behaviour_gbm"][te] = gbm.fit(feats.iloc[tr], y[tr]).predict_proba(feats.iloc[te])[:, 1]
        both_a = hstack([ta, csr_matrix(na) * 2.0]).tocsr()
        both_b = hstack([tb, csr_matrix(nb) * 2.0]).tocsr()
        oof["text_rating_behaviour"][te] = LogisticRegression(C=1.0, solver="liblinear").fit(both_a, y[tr]).predict_proba(
            both_b)[:, 1]
    table = read_table(path, label="flagged", mapping=YELP_MAP)
    cpu = time.process_time()
    product = cross_validate(table, folds=5, group_column="reviewer_id")
    spent = round(time.process_time() - cpu, 1)
    # The same recipe without the context columns (text, rating, reviewer id only): what they add.
    bare = subset(table, np.arange(len(table.ids)))
    bare.frame = bare.frame[["text", "rating", "reviewer_id"]]
    without = cross_validate(bare, folds=5, group_column="reviewer_id")
    return {
        "dataset": "yelp_chicago_reviews_train.tsv",
        "shopmon_model_cv": {
            "command": "shopmon model cv FILE --label flagged --group-column reviewer_id "
                       + " ".join(f"--map {k}={v}" for k, v in YELP_MAP.items()),
            "protocol": "5-fold StratifiedGroupKFold by reviewer_id (the product's splitter)",
            "roc_auc": round(float(product["roc_auc"]), 4), "pr_auc": round(float(product["pr_auc"]), 4),
            "accuracy": round(float(product["accuracy"]), 4), "cpu_seconds": spent,
            "roc_auc_text_and_rating_only": round(float(without["roc_auc"]), 4),
            "target_roc_auc": 0.92, "passed": bool(product["roc_auc"] >= 0.92),
        },
        "rows": int(len(df)),
        "reviewers": int(pd.Series(groups).nunique()),
        "positives": int(y.sum()),
        "protocol": "5-fold StratifiedGroupKFold by reviewerID (reviewer-disjoint), seed 0",
        "roc_auc": {k: round(float(roc_auc_score(y, v)), 4) for k, v in oof.items()},
        "target_roc_auc_text_rating_behaviour": 0.85,
    }


# -- Amazon ISR -------------------------------------------------------------------------
def _best_f1_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    best, best_t = -1.0, 0.5
    for t in np.unique(np.round(scores, 4)):
        f = f1_score(y, scores >= t, zero_division=0)
        if f > best:
            best, best_t = f, float(t)
    return best_t


def _fit_predict(model_factory, Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, float]:
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(model_factory(), Xtr, ytr, cv=folds, method="predict_proba")[:, 1]
    model = model_factory().fit(Xtr, ytr)
    return model.predict_proba(Xte)[:, 1], _best_f1_threshold(ytr, oof)


def _graph_features(A: csr_matrix, X: np.ndarray, known: np.ndarray, label: np.ndarray,
                    score: np.ndarray | None) -> np.ndarray:
    """Neighbour aggregates: degree, mean features, labelled-spammer share, mean/max predicted score."""
    deg = np.asarray(A.sum(axis=1)).ravel()
    inv = 1 / np.maximum(deg, 1)
    mean_x = (A @ X) * inv[:, None]
    lab = np.where(known, label, 0).astype(float)
    n_known = A @ known.astype(float)
    spam_nb = A @ lab
    cols = [np.log1p(deg), mean_x, np.log1p(spam_nb), spam_nb / np.maximum(n_known, 1), np.log1p(n_known)]
    if score is not None:
        mean_s = (A @ score) * inv
        max_s = np.zeros(A.shape[0])
        nz = A.tocoo()
        np.maximum.at(max_s, nz.row, score[nz.col])
        cols += [mean_s, max_s]
    return np.column_stack([c if c.ndim == 2 else c[:, None] for c in cols])


def amazon(root: Path, splits: tuple[int, ...] = (5, 10, 30, 50)) -> dict:
    base = root / "data" / "amazon_spammer_isr"
    X = np.loadtxt(base / "UserFeature.txt")
    n = X.shape[0]
    edges = np.loadtxt(base / "J01Network.txt", dtype=np.int64) - 1
    A = csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    A.data[:] = 1.0
    models = {
        "logreg": lambda: _pipe(LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)),
        "gbm": lambda: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0),
    }
    out: dict = {"dataset": "amazon_spammer_isr", "users": int(n), "edges_directed": int(len(edges)), "splits": {}}
    for pct in splits:
        folder = base / "Training_Testing" / f"{pct}percent"
        runs: dict[str, list[tuple[float, float]]] = {}
        for train_file in sorted(folder.glob("train_*.csv")):
            test_file = folder / train_file.name.replace("train_", "test_")
            tr = np.loadtxt(train_file, dtype=np.int64).reshape(-1, 2)
            te = np.loadtxt(test_file, dtype=np.int64).reshape(-1, 2)
            itr, ytr = tr[:, 0] - 1, tr[:, 1]
            ite, yte = te[:, 0] - 1, te[:, 1]
            known = np.zeros(n, dtype=bool)
            known[itr] = True
            label = np.zeros(n, dtype=np.int64)
            label[itr] = ytr
            for mname, factory in models.items():
                p, t = _fit_predict(factory, X[itr], ytr, X[ite])
                runs.setdefault(f"features_{mname}", []).append(_scores(yte, p, t))
                # Graph: labelled-neighbour aggregates; a training user's own label is hidden
                # from its own row (it is never its own neighbour: no self-loops).
                G = np.hstack([X, _graph_features(A, X, known, label, None)])
                full_fit = factory().fit(G[itr], ytr)
                # One round of collective classification: neighbours' predicted scores.
                score = full_fit.predict_proba(G)[:, 1]
                score[itr] = ytr
                G2 = np.hstack([X, _graph_features(A, X, known, label, score)])
                p2, t2 = _fit_predict(factory, G2[itr], ytr, G2[ite])
                runs.setdefault(f"features_graph_{mname}", []).append(_scores(yte, p2, t2))
        out["splits"][f"{pct}%"] = {
            "files": len(list(folder.glob("train_*.csv"))),
            "train_users": int(len(itr)),
            "test_users": int(len(ite)),
            **{k: {"roc_auc": round(float(np.mean([a for a, _ in v])), 4),
                   "f1": round(float(np.mean([f for _, f in v])), 4)} for k, v in runs.items()},
        }
    return out


def _pipe(model):  # noqa: ANN001, ANN202
    from sklearn.pipeline import make_pipeline

    return make_pipeline(StandardScaler(), model)


def _scores(y: np.ndarray, p: np.ndarray, t: float) -> tuple[float, float]:
    return float(roc_auc_score(y, p)), float(f1_score(y, p >= t, zero_division=0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("yelp", "amazon"))
    parser.add_argument("--splits", default="5,10,30,50", help="Amazon labelled-percent splits to run")
    args = parser.parse_args()
    root = shared_dir()
    if not (root / "data").is_dir():
        print(json.dumps({"skipped": f"shared data not found at {root} (set SHOPMON_SHARED)"}))
        return 0
    result: dict = {}
    splits = tuple(int(p) for p in args.splits.split(","))
    for name, fn in (("yelp", yelp), ("amazon", lambda r: amazon(r, splits))):
        if args.only and args.only != name:
            continue
        start = time.perf_counter()
        result[name] = fn(root)
        result[name]["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
