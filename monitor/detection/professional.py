"""Is this account a professional (paid or competitor-hired) bad reviewer?

Two scorers over the same features (``reviewer_features.FEATURE_NAMES``):

* a transparent rule score used until analysts have labelled reviewers: each rule is a fact
  a person can check ("posted 9 one-star reviews in 2 days") with a weight, combined as a
  noisy-OR so one strong fact or several weak ones flag the account;
* a logistic regression trained on ``Label`` rows (task ``professional``) and kept in the model
  registry as ``professional``; once a live version exists it replaces the rules, and the
  facts stay as reasons next to the model's top factors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from models import Label
from monitor.config import Settings
from monitor.detection.reviewer_features import FEATURE_NAMES, ReviewerFeatures

log = logging.getLogger(__name__)

MODEL_NAME = "professional"
RULES_VERSION = "professional-rules-1"
DEFAULT_THRESHOLD = 0.5
MIN_LABELS = 8
MIN_PER_CLASS = 3
POSITIVE = {"1", "true", "yes", "y", "professional", "positive", "spam", "spammer", "confirmed"}
NEGATIVE = {"0", "false", "no", "n", "not_professional", "negative", "genuine", "legit", "legitimate", "rejected"}
# Counts are heavy-tailed; log1p keeps one 500-review account from dominating the fit.
_LOG_COLUMNS = [FEATURE_NAMES.index(n) for n in ("n_reviews", "n_bad", "reviews_per_day", "max_bad_48h",
                                                 "template_reviewers", "level_rank")]
_PURCHASE = FEATURE_NAMES.index("purchase_to_review_hours")


@dataclass
class Scored:
    scores: np.ndarray
    reasons: list[list[str]]
    model_version: str
    threshold: float


def _span(seconds: int) -> str:
    hours = seconds / 3600
    if hours < 1:
        return "within 1 h"
    if hours < 48:
        return f"in {hours:.0f} h"
    return f"in {hours / 24:.0f} days"


def facts(feats: ReviewerFeatures, i: int, *, bad_max_rating: int) -> list[tuple[float, str]]:
    """(weight, reason) for every rule that fires for reviewer row ``i``, strongest first."""
    rid = int(feats.reviewer_ids[i])
    d = feats.details.get(rid, {})
    x = dict(zip(FEATURE_NAMES, feats.X[i], strict=True))
    n = int(x["n_reviews"])
    bad_words = f"bad (1-{bad_max_rating} star)" if bad_max_rating > 1 else "one-star"
    out: list[tuple[float, str]] = []
    if "burst" in d and d["burst"][0] >= 3:
        k, ones, span = d["burst"]
        kind = "one-star" if ones == k else bad_words
        out.append((min(0.85, 0.2 * (k - 1)), f"posted {k} {kind} reviews {_span(span)}"))
    if "template" in d:
        others, sim, peers = d["template"]
        ids = ", ".join(str(p) for p in peers) + (", …" if others > len(peers) else "")
        noun = "reviewer" if others == 1 else "reviewers"
        w = 0.3 if others == 1 else min(0.9, 0.45 + 0.05 * others)
        out.append((w, f"text {sim:.2f} similar to {others} other {noun} (ids {ids})"))
    if n >= 4 and x["share_bad"] >= 0.8:
        out.append((0.3, f"{int(x['n_bad'])} of {n} reviews are {bad_words}"))
    if n >= 5 and x["reviews_per_day"] >= 5:
        out.append((0.3, f"{x['reviews_per_day']:.0f} reviews per day"))
    if "cheapest" in d and d["cheapest"][1] >= 2 and x["cheapest_sku_share"] >= 0.8:
        k, m = d["cheapest"]
        out.append((0.2, f"bought the cheapest option in {k} of {m} reviews"))
    if x["purchase_known"] and 0 <= x["purchase_to_review_hours"] < 12:
        out.append((0.2, f"reviewed {x['purchase_to_review_hours']:.1f} h after purchase (median), "
                         "before the goods could normally arrive"))
    if x["level_known"] and x["level_rank"] == 0:
        out.append((0.1, f"account level '{d.get('level', '')}' is the platform's lowest"))
    if x["first_review_bad"]:
        out.append((0.1, "first review on the account is negative"))
    out.sort(key=lambda f: -f[0])
    return out


def rule_scores(feats: ReviewerFeatures, *, bad_max_rating: int) -> tuple[np.ndarray, list[list[str]]]:
    scores = np.zeros(len(feats.reviewer_ids))
    reasons: list[list[str]] = []
    for i in range(len(feats.reviewer_ids)):
        fired = facts(feats, i, bad_max_rating=bad_max_rating)
        scores[i] = 1 - np.prod([1 - w for w, _ in fired]) if fired else 0.0
        reasons.append([r for _, r in fired])
    return scores, reasons


def model_matrix(X: np.ndarray) -> np.ndarray:
    """The model's input: log-scaled counts, unknown purchase delays neutral."""
    Z = np.array(X, dtype=np.float64, copy=True)
    Z[:, _LOG_COLUMNS] = np.log1p(np.maximum(Z[:, _LOG_COLUMNS], 0))
    Z[:, _PURCHASE] = np.log1p(np.clip(Z[:, _PURCHASE], 0, 24 * 90))
    return Z


def _live_model(session: Session, settings: Settings):  # noqa: ANN202
    from monitor.registry import ModelTrustError, RegistryError, registry_for

    registry = registry_for(settings, session=session)
    if registry.needs_bootstrap(MODEL_NAME):  # never trained here: the rules are the model
        return None
    try:
        estimator, meta = registry.load(MODEL_NAME)
    except ModelTrustError:
        raise  # tampered or a broken alias: stop, never score with something else silently
    except RegistryError as exc:
        # A broken model must not stop detection: the rules still work, and the error is logged.
        log.error("professional model unusable, falling back to rules: %s", exc)
        return None
    if meta.params.get("features") != list(FEATURE_NAMES):
        # e.g. a text model registered under this name with `shopmon model train --name professional`.
        log.error("live %s was not trained on the reviewer features %s; using the rules", meta.version,
                  ", ".join(FEATURE_NAMES))
        return None
    return estimator, meta


def score(session: Session, settings: Settings, feats: ReviewerFeatures) -> Scored:
    """Scores and reasons per reviewer row, from the live model or, without one, the rules."""
    bad_max = settings.detection.case_max_rating
    rule, reasons = rule_scores(feats, bad_max_rating=bad_max)
    threshold = settings.detection.thresholds.get(MODEL_NAME, DEFAULT_THRESHOLD)
    loaded = _live_model(session, settings) if len(feats.reviewer_ids) else None
    if loaded is None:
        return Scored(rule, reasons, RULES_VERSION, threshold)
    estimator, meta = loaded
    Z = model_matrix(feats.X)
    probs = estimator.predict_proba(Z)[:, 1]
    threshold = settings.detection.thresholds.get(MODEL_NAME, meta.thresholds.get(MODEL_NAME, DEFAULT_THRESHOLD))
    contrib = _contributions(estimator, Z)
    for i in range(len(reasons)):
        if contrib is not None:
            top = [j for j in np.argsort(-contrib[i])[:3] if contrib[i, j] > 0]
            if top:
                reasons[i].append(
                    "model top factors: " + ", ".join(f"{FEATURE_NAMES[j]} (+{contrib[i, j]:.2f})" for j in top)
                )
    return Scored(probs, reasons, meta.version, threshold)


def _contributions(estimator, Z: np.ndarray) -> np.ndarray | None:  # noqa: ANN001
    """Per-feature log-odds contributions of a scaler + linear model pipeline."""
    steps = getattr(estimator, "named_steps", {})
    scaler, linear = steps.get("scale"), steps.get("model")
    if scaler is None or not hasattr(linear, "coef_"):
        return None
    return scaler.transform(Z) * linear.coef_[0]


# -- training from analysts' labels ------------------------------------------------------
def labelled_reviewers(session: Session) -> dict[int, int]:
    """reviewer id -> 1/0 from Label rows; the latest label per reviewer wins, unknown values are skipped."""
    stmt = (
        select(Label.target_id, Label.value)
        .where(Label.task == MODEL_NAME, Label.target_type == "reviewer")
        .order_by(Label.created_at, Label.id)
    )
    out: dict[int, int] = {}
    for rid, value in session.execute(stmt):
        v = str(value).strip().lower()
        if v in POSITIVE:
            out[rid] = 1
        elif v in NEGATIVE:
            out[rid] = 0
    return out


def fit(X: np.ndarray, y: np.ndarray, *, precision_target: float):  # noqa: ANN201
    """Fit the pipeline; pick the lowest threshold whose out-of-fold precision meets the target."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    def make() -> Pipeline:
        return Pipeline(
            [("scale", StandardScaler()), ("model", LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))]
        )

    Z = model_matrix(X)
    folds = int(min(5, np.bincount(y).min()))
    oof = cross_val_predict(make(), Z, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0),
                            method="predict_proba")[:, 1]
    threshold = DEFAULT_THRESHOLD
    for t in np.unique(oof):
        pred = oof >= t
        if pred.sum() and (y[pred] == 1).mean() >= precision_target:
            threshold = float(t)
            break
    pred = (oof >= threshold).astype(int)
    metrics = {
        "oof_roc_auc": float(roc_auc_score(y, oof)),
        "oof_precision": float(precision_score(y, pred, zero_division=0)),
        "oof_recall": float(recall_score(y, pred, zero_division=0)),
        "oof_f1": float(f1_score(y, pred, zero_division=0)),
        "n": int(len(y)),
    }
    return make().fit(Z, y), threshold, metrics


def train(session: Session, settings: Settings, feats: ReviewerFeatures) -> str | None:
    """Train on the labelled reviewers among ``feats`` and register a version; None if too few labels."""
    from monitor.registry import fingerprint_rows, registry_for

    labels = labelled_reviewers(session)
    pos = {int(r): i for i, r in enumerate(feats.reviewer_ids)}
    pairs = [(pos[r], v) for r, v in labels.items() if r in pos]
    y = np.array([v for _, v in pairs], dtype=np.int64)
    if len(y) < MIN_LABELS or np.bincount(y, minlength=2).min() < MIN_PER_CLASS:
        return None
    X = feats.X[[i for i, _ in pairs]]
    estimator, threshold, metrics = fit(X, y, precision_target=settings.detection.precision_target)
    fingerprint = fingerprint_rows(
        [int(feats.reviewer_ids[i]), int(v), *map(float, feats.X[i])] for i, v in pairs
    )
    version = registry_for(settings, session=session).save(
        MODEL_NAME,
        estimator,
        metrics=metrics,
        params={"features": list(FEATURE_NAMES), "estimator": "StandardScaler+LogisticRegression(balanced)",
                "labels": int(len(y)), "positives": int(y.sum())},
        thresholds={MODEL_NAME: threshold},
        data_fingerprint=fingerprint,
    )
    log.info("trained %s on %d labelled reviewers (threshold %.3f)", version, len(y), threshold)
    return version
