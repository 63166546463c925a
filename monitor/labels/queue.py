"""Active-learning queue: the unlabeled reviews whose labels would teach the models most.

Three signals, each in [0, 1]:
- uncertainty: how close the live model's score is to its decision threshold
  (for the multi-class cause model: how small the margin between the top two classes is);
- disagreement: how far other versions of the model (newer candidates, and the scores stored
  on flags by the versions that wrote them) are from the live model;
- novelty: how unlike every labeled review the text is (character n-gram cosine similarity),
  so new kinds of abuse get looked at even when the model is confidently wrong about them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from models import Flag, Label, Review
from monitor.errors import DataError
from monitor.labels.frame import review_text
from monitor.labels.tasks import FLAG_KIND_TASK, REVIEW_TASKS
from monitor.registry import Registry, RegistryError, VersionMeta

log = logging.getLogger(__name__)

WEIGHTS = {"uncertainty": 0.6, "disagreement": 0.25, "novelty": 0.15}
MAX_CANDIDATES = 20_000  # newest unlabeled reviews considered; keeps the queue interactive
OTHER_VERSIONS = 2
DUPLICATE_SIMILARITY = 0.9  # cosine of character n-grams: copies with a changed emoji or digit


@dataclass
class QueueItem:
    review_id: int
    priority: float
    score: float | None
    model_version: str | None
    uncertainty: float
    disagreement: float
    novelty: float
    text: str
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_row(self, task: str) -> dict[str, Any]:
        """The export/import file format, so a queue file goes straight back through import."""
        return {
            "task": task, "target_type": "review", "target_id": self.review_id, "model_version": self.model_version,
            "score": None if self.score is None else round(self.score, 4), "reasons": self.reasons,
            "text": self.text, "label": "", "labeler": "", "note": "",
        }


def _threshold(meta: VersionMeta, fallback: float) -> float:
    for key in ("1", "positive", "True", meta.name):
        if key in meta.thresholds:
            return float(meta.thresholds[key])
    return fallback


def _scores(estimator: Any, meta: VersionMeta, texts: list[str]) -> np.ndarray:
    from monitor.training.gate import features_of

    frame = pd.DataFrame({"text": texts, "label": 0})
    # Models trained with numeric columns get them as unknown, as detection does; the
    # pipeline's imputer fills them.
    for col in meta.params.get("numeric_columns") or []:
        frame[col] = np.nan
    X = features_of(frame, meta)
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    return proba[:, 1] if proba.shape[1] == 2 else proba


def uncertainty(scores: np.ndarray, threshold: float) -> np.ndarray:
    if scores.ndim == 2:  # multi-class: small margin between the two likeliest classes
        top2 = np.sort(scores, axis=1)[:, -2:]
        return 1.0 - (top2[:, 1] - top2[:, 0])
    # Distance to the threshold as a share of the room on that side: 0 and 1 are both certain.
    t = min(max(threshold, 1e-6), 1 - 1e-6)
    side = np.where(scores >= t, 1.0 - t, t)
    return np.clip(1.0 - np.abs(scores - t) / side, 0.0, 1.0)


def novelty(candidate_texts: list[str], labeled_texts: list[str]) -> np.ndarray:
    """1 - the highest cosine similarity to any labeled text (1.0 when nothing is labeled)."""
    if not labeled_texts or not candidate_texts:
        return np.ones(len(candidate_texts))
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=1, sublinear_tf=True, max_features=50_000)
    vec.fit(labeled_texts + candidate_texts)
    cand = vec.transform(candidate_texts)
    lab = vec.transform(labeled_texts)
    best = np.zeros(cand.shape[0])
    for i in range(0, lab.shape[0], 2000):  # bounded memory for big label sets
        sims = (cand @ lab[i : i + 2000].T).max(axis=1).toarray().ravel()
        best = np.maximum(best, sims)
    return np.clip(1.0 - best, 0.0, 1.0)


def build_queue(
    session: Session,
    registry: Registry,
    *,
    task: str = "malicious",
    n: int = 50,
    default_threshold: float = 0.5,
    max_candidates: int = MAX_CANDIDATES,
) -> list[QueueItem]:
    """The ``n`` unlabeled reviews with the highest priority for ``task``, best first."""
    if task not in REVIEW_TASKS:
        raise DataError(f"the queue covers review tasks ({', '.join(REVIEW_TASKS)}), not {task!r}")
    if n < 1:
        raise DataError("--n must be at least 1")
    labeled_ids = set(
        session.exec(select(Label.target_id).where(Label.task == task, Label.target_type == "review"))
    )
    stmt = (
        select(Review)
        .where(Review.deleted_at.is_(None))
        .order_by(Review.first_seen.desc(), Review.id.desc())
    )
    candidates: list[Review] = []
    for r in session.exec(stmt):
        if r.id in labeled_ids or not (r.text or r.title):
            continue
        candidates.append(r)
        if len(candidates) >= max_candidates:
            break
    if not candidates:
        return []
    texts = [review_text(r) for r in candidates]
    ids = [r.id for r in candidates]
    reasons: list[list[str]] = [[] for _ in candidates]

    live_scores, live_meta = _live(registry, task, texts)
    flag_scores = _flag_scores(session, task, ids)
    if live_scores is None:
        # No live model: the stored flag scores are the best guess of the current decision.
        live_scores = np.array([_or_nan(flag_scores.get(i, (None, None))[0]) for i in ids], dtype=float)
    thr = _threshold(live_meta, default_threshold) if live_meta else default_threshold
    known = ~np.isnan(live_scores) if live_scores.ndim == 1 else np.ones(len(ids), bool)
    unc = np.where(known, uncertainty(np.nan_to_num(live_scores, nan=thr), thr), 0.5)

    dis = np.zeros(len(ids))
    for other, meta in _others(registry, task, live_meta, texts):
        d = np.abs(other - live_scores).max(axis=1) if other.ndim == 2 else np.abs(other - live_scores)
        d = np.nan_to_num(d)
        for k in np.flatnonzero(d > dis):
            if d[k] >= 0.2:
                reasons[k].append(f"{meta.version} scores it {_fmt_score(other[k])}")
        dis = np.maximum(dis, d)
    if live_scores.ndim == 1 and live_meta is not None:
        for k, rid in enumerate(ids):
            stored, version = flag_scores.get(rid, (None, None))
            if stored is not None and version != live_meta.version:
                d = abs(stored - live_scores[k])
                if d >= 0.2:
                    reasons[k].append(f"flag by {version} scored {stored:.2f}")
                dis[k] = max(dis[k], d)

    labeled_texts = _labeled_texts(session, task)
    nov = novelty(texts, labeled_texts)
    w_nov = WEIGHTS["novelty"] if labeled_texts else 0.0
    priority = WEIGHTS["uncertainty"] * unc + WEIGHTS["disagreement"] * dis + w_nov * nov

    order, twins = _diverse(np.argsort(-priority, kind="stable"), texts, n)
    items = []
    for k in order:
        why = []
        if known[k]:
            score_txt = _fmt_score(live_scores[k])
            why.append(f"score {score_txt} near threshold {thr:.2f}" if unc[k] >= 0.6 and live_scores.ndim == 1
                       else f"score {score_txt}")
        else:
            why.append("not scored by any model yet")
        why += reasons[k]
        if w_nov and nov[k] >= 0.7:
            why.append(f"unlike any labeled review (similarity {1 - nov[k]:.2f})")
        if twins.get(k):
            why.append(f"stands for {twins[k]} near-identical review(s) left out of the queue")
        items.append(
            QueueItem(
                review_id=ids[k],
                priority=round(float(priority[k]), 4),
                score=None if not known[k] or live_scores.ndim == 2 else round(float(live_scores[k]), 4),
                model_version=live_meta.version if live_meta else flag_scores.get(ids[k], (None, None))[1],
                uncertainty=round(float(unc[k]), 4),
                disagreement=round(float(dis[k]), 4),
                novelty=round(float(nov[k]), 4),
                text=texts[k],
                reasons=why,
            )
        )
    return items


def _diverse(ranked: np.ndarray, texts: list[str], n: int) -> tuple[list[int], dict[int, int]]:
    """Take the best ``n`` in order, skipping near-copies of an item already taken.

    A coordinated attack posts the same text dozens of times; labeling one copy teaches as
    much as labeling all of them. Returns the picks and, per pick, how many copies it stands for.
    """
    pool = [int(k) for k in ranked[: max(n * 5, n + 50)]]
    if len(pool) <= 1:
        return pool[:n], {}
    from sklearn.feature_extraction.text import TfidfVectorizer

    # No idf: within a small pool it would inflate the one digit that differs between copies.
    vecs = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), use_idf=False).fit_transform(
        [texts[k] for k in pool]
    )
    picked: list[int] = []
    rows: list[int] = []
    twins: dict[int, int] = {}
    for pos, k in enumerate(pool):
        if rows:
            sims = (vecs[rows] @ vecs[pos].T).toarray().ravel()
            best = int(np.argmax(sims))
            if sims[best] >= DUPLICATE_SIMILARITY:
                twins[picked[best]] = twins.get(picked[best], 0) + 1
                continue
        if len(picked) < n:
            picked.append(k)
            rows.append(pos)
    return picked, twins


def _or_nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _fmt_score(v: Any) -> str:
    arr = np.asarray(v)
    return f"{float(arr.max()):.2f} (top class)" if arr.ndim else f"{float(arr):.2f}"


def _live(registry: Registry, task: str, texts: list[str]) -> tuple[np.ndarray | None, VersionMeta | None]:
    if registry.live_version(task) is None:
        return None, None
    try:
        est, meta = registry.load(task)
    except RegistryError as exc:
        log.warning("queue: live %s model unusable (%s); using stored flag scores", task, exc)
        return None, None
    return _scores(est, meta, texts), meta


def _others(
    registry: Registry, task: str, live_meta: VersionMeta | None, texts: list[str]
) -> list[tuple[np.ndarray, VersionMeta]]:
    if live_meta is None:
        return []
    newest = [m for m in reversed(registry.versions(task)) if m.version != live_meta.version][:OTHER_VERSIONS]
    out = []
    for m in newest:
        try:
            est, meta = registry.load(task, m.version)
            out.append((_scores(est, meta, texts), meta))
        except (RegistryError, ValueError) as exc:
            log.warning("queue: skipping %s: %s", m.version, exc)
    return out


def _flag_scores(session: Session, task: str, ids: list[int]) -> dict[int, tuple[float | None, str | None]]:
    kinds = [k for k, t in FLAG_KIND_TASK.items() if t == task]
    if task == "cause":
        return {}  # cause flags store the top class, not a comparable yes/no score
    out: dict[int, tuple[float | None, str | None]] = {}
    wanted = set(ids)
    stmt = select(Flag).where(Flag.kind.in_(kinds), Flag.target_type == "review").order_by(Flag.created_at)
    for f in session.exec(stmt):
        if f.target_id in wanted:
            out[f.target_id] = (f.score, f.model_version)  # latest flag wins
    return out


def _labeled_texts(session: Session, task: str) -> list[str]:
    rows = session.exec(
        select(Review).join(Label, Label.target_id == Review.id).where(Label.task == task, Label.target_type == "review")
    )
    seen: set[int] = set()
    out = []
    for r in rows:
        if r.id not in seen:
            seen.add(r.id)
            out.append(review_text(r))
    return out
