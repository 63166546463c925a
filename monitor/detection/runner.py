"""``detect()``: score new reviews with the live text models, write flags, then run behaviour.

Flags are evidence: a re-score updates the flag its model version wrote (score, reasons) and never
deletes one, so an extortion review later edited to five stars keeps its record. Works in batches
with the caller's session (no commit here), so 100k reviews never sit in memory at once.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, update
from sqlmodel import Session, select

from models import Flag, Review, utcnow
from models.detection import FLAG_KEY
from monitor.config import Settings
from monitor import outbox
from monitor.db import upsert
from monitor.detection.phrases import cue_reasons
from monitor.detection.review_rows import oldest_first
from monitor.detection.review_context import context_frame
from monitor.detection.live_models import TextModels, load_models
from monitor.detection.text import SEED_CORROBORATION_SCORE, TextScore, score_batch
from monitor.detection.text_model import TextModel
from monitor.in_lists import id_filters

log = logging.getLogger(__name__)

BATCH = 2000
REVIEW_FLAG_KINDS = ("malicious", "deceptive", "cause")
_SCORED_COLUMNS = (Review.id, Review.title, Review.text, Review.follow_up_text, Review.rating, Review.shop_id,
                   Review.listing_id, Review.reviewer_id)


@dataclass
class DetectSummary:
    scored: int = 0
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REVIEW_FLAG_KINDS, 0))
    updated: int = 0
    model_versions: dict[str, str] = field(default_factory=dict)
    behaviour: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        out = {"reviews_scored": self.scored, **self.created, "flags_updated": self.updated}
        for key, value in self.behaviour.items():
            out[key] = out.get(key, 0) + int(value)
        return out


def review_text(review: Review | Row) -> str:
    """What the text models read: title, review and follow-up (demands often arrive in the 追评)."""
    return "\n".join(p for p in (review.title, review.text, review.follow_up_text) if p and p.strip())


def detect(
    session: Session, settings: Settings, *, rescore: bool = False, now: datetime | None = None
) -> DetectSummary:
    """Score reviews whose ``scored_at`` is null (all reviews with ``rescore``) and write flags.

    With none waiting the models are not loaded (nor, on a fresh registry, trained)."""
    now = now or utcnow()
    if not rescore and session.exec(select(Review.id).where(Review.scored_at.is_(None)).limit(1)).first() is None:
        # Nothing waits (an indexed look-up): loading the models would be the run's whole cost
        # (skops' import alone loads every scikit-learn module, about 1 CPU s).
        return DetectSummary()
    models = load_models(settings, session=session)
    summary = DetectSummary(model_versions=models.versions())
    scored_ids = array("q")  # a million Python ints in a list would cost ~36 MB more
    last_id = 0
    while True:
        # Only the columns scoring reads: whole ORM rows (raw page JSON, photos) cost more to load
        # than the text models take to score them.
        stmt = select(*_SCORED_COLUMNS).where(Review.id > last_id).order_by(Review.id).limit(BATCH)
        if not rescore:
            stmt = stmt.where(Review.scored_at.is_(None))
        batch = list(session.exec(stmt))
        if not batch:
            break
        last_id = batch[-1].id  # type: ignore[assignment]
        _score_batch(session, settings, models, batch, now, summary)
        scored_ids.extend(r.id for r in batch if r.id is not None)
        session.flush()
        # Scored rows are written; dropping the loaded flags keeps memory flat on large databases.
        session.expunge_all()
    summary.scored = len(scored_ids)
    if rescore:
        summary.behaviour = _run_behaviour(session, settings, now=now, review_ids=None)
    else:
        summary.behaviour = _behaviour_in_slices(session, settings, now=now, review_ids=scored_ids)
    log.info("detect %s", summary.as_dict())
    return summary


def _behaviour_in_slices(session: Session, settings: Settings, *, now: datetime,
                         review_ids: Sequence[int]) -> dict[str, int]:
    """Reviewer and attack detection over a backlog, ``catch_up_slice`` reviews at a time, oldest
    first, as crawls would have brought them: a pass reads its slice's timelines and reviewers,
    not the whole backlog's (the near-duplicate walk still follows whole clusters). The flags are
    one pass's, except bursts, whose Bonferroni bound counts the shorter timeline a slice reads
    (docs/detection-behaviour.md). ``reviewers_scored`` counts a reviewer once per pass."""
    size = settings.detection.catch_up_slice
    if len(review_ids) <= size:
        return _run_behaviour(session, settings, now=now, review_ids=review_ids)
    total: dict[str, int] = {}
    slices = oldest_first(session, review_ids, size)
    for i, part in enumerate(slices, 1):
        for key, value in _run_behaviour(session, settings, now=now, review_ids=part).items():
            total[key] = total.get(key, 0) + int(value)
        session.flush()
        session.expunge_all()  # the pass's flags are written; the next pass reads what it needs
        log.info("reviewer and attack detection: slice %d of %d (%d reviews) done", i, len(slices), len(part))
    return total


def _run_behaviour(session: Session, settings: Settings, *, now: datetime, review_ids: Sequence[int] | None) -> dict[str, int]:
    if review_ids is not None and not len(review_ids):
        return {}
    return _behaviour_run(session, settings, now=now, review_ids=review_ids)


def _behaviour_run(session: Session, settings: Settings, *, now: datetime, review_ids: Sequence[int] | None) -> dict[str, int]:
    try:
        from monitor.detection import behaviour
    except ModuleNotFoundError as exc:
        if exc.name != "monitor.detection.behaviour":
            raise
        log.warning("reviewer/attack detection (monitor.detection.behaviour) is not installed; skipped")
        return {}
    return behaviour.run(session, settings, now=now, review_ids=review_ids)


def _existing_flags(session: Session, review_ids: list[int], versions: Iterable[str]) -> dict[tuple, Flag]:
    out: dict[tuple, Flag] = {}
    for where in id_filters(Flag.target_id, review_ids):
        stmt = select(Flag).where(
            Flag.target_type == "review",
            where,
            Flag.kind.in_(REVIEW_FLAG_KINDS),  # type: ignore[attr-defined]
            Flag.model_version.in_(list(versions)),  # type: ignore[attr-defined]
        )
        out.update({(f.kind, f.target_id, f.model_version): f for f in session.exec(stmt)})
    return out


def _score_batch(
    session: Session, settings: Settings, models: TextModels, batch: list[Row], now: datetime, summary: DetectSummary
) -> None:
    texts = [review_text(r) for r in batch]
    columns = models.columns()
    context = context_frame(session, batch, columns) if columns else None
    scored = score_batch(models, texts, context)
    existing = _existing_flags(session, [r.id for r in batch if r.id is not None], models.versions().values())
    bad_max = settings.detection.case_max_rating
    new_flags: list[dict[str, Any]] = []
    created_at = utcnow()

    def put(review: Row, kind: str, label: str, score: float, reasons: list[str]) -> None:
        model = models[kind]
        flag = existing.get((kind, review.id, model.version))
        if flag is not None:
            flag.score, flag.label, flag.reasons = score, label, reasons
            summary.updated += 1
            session.add(flag)
            return
        new_flags.append({
            "kind": kind, "target_type": "review", "target_id": review.id, "model_version": model.version,
            "score": score, "label": label, "reasons": reasons, "members": [], "shop_id": review.shop_id,
            "listing_id": review.listing_id, "review_id": review.id, "reviewer_id": review.reviewer_id,
            "status": "open", "created_at": created_at,
        })
        summary.created[kind] += 1

    for i, (review, text, sc) in enumerate(zip(batch, texts, scored.scores, strict=True)):
        if not text.strip():
            continue
        if sc.is_malicious:
            grams = scored.top_features("malicious", i, class_index=1)
            put(review, "malicious", "malicious", sc.malicious,
                malicious_reasons(models["malicious"], text, sc, features=grams))
        if sc.is_deceptive:
            grams = scored.top_features("deceptive", i, class_index=1)
            put(review, "deceptive", "deceptive", sc.deceptive,
                deceptive_reasons(models["deceptive"], text, sc, features=grams))
        # A cause only for genuine bad reviews: extortion is not an after-sales problem to fix.
        if review.rating is not None and review.rating <= bad_max and not sc.is_malicious:
            grams = scored.top_features("cause", i, class_index=models["cause"].classes.index(sc.cause_best))
            put(review, "cause", sc.cause, sc.cause_score, cause_reasons(models["cause"], text, sc, features=grams))
    # One executemany per batch instead of an ORM object and an UPDATE per review.
    if new_flags:
        # Another worker may be scoring the same review: its flag is updated, never doubled.
        stmt = upsert(session, Flag)
        stmt = stmt.on_conflict_do_update(index_elements=list(FLAG_KEY), set_={
            c: stmt.excluded[c] for c in ("score", "label", "reasons")})
        session.execute(stmt, new_flags)
    # Opening cases looks at these reviews (and their flags) only, never the whole history.
    outbox.record(session, "cases", "review", [r.id for r in batch])
    outbox.record(session, "listings", "listing", [r.listing_id for r in batch])  # their buyers' words changed
    # The reviews, not only their listings: the reputation step re-reads just these.
    outbox.record(session, "reputation", "review", [r.id for r in batch])
    for where in id_filters(Review.id, [r.id for r in batch]):
        session.execute(
            # A new cause flag (or new text) is news to the listing check's stored buyers'-words mark.
            update(Review).where(where).values(scored_at=now, says_not_as_pictured=None),
            execution_options={"synchronize_session": False},
        )


def _features_line(grams: list[str]) -> list[str]:
    return ["top features: " + ", ".join(f"“{g}”" for g in grams)] if grams else []


def malicious_reasons(model: TextModel, text: str, sc: TextScore, *, features: list[str] | None = None) -> list[str]:
    """Reasons for a malicious flag; ``features`` are the top n-grams when the caller has them
    from its batch matrix (else the text is vectorized again to find them)."""
    head = f"extortion/threat score {sc.malicious:.2f} ≥ threshold {model.threshold:.2f} ({model.version})"
    if model.seed_default and sc.malicious < SEED_CORROBORATION_SCORE:
        head += "; seed model, confirmed by the matched phrases below"
    cues = cue_reasons(text)
    if not cues:
        cues = ["no known demand or threat phrase matched: check the text"]
    if features is None:
        features = model.top_features(text, class_index=1)
    return [head, *cues, *_features_line(features)]


def deceptive_reasons(model: TextModel, text: str, sc: TextScore, *, features: list[str] | None = None) -> list[str]:
    head = f"fabricated-text score {sc.deceptive:.2f} ≥ threshold {model.threshold:.2f} ({model.version})"
    if features is None:
        features = model.top_features(text, class_index=1)
    return [head, *_features_line(features)]


def cause_reasons(model: TextModel, text: str, sc: TextScore, *, features: list[str] | None = None) -> list[str]:
    classes = model.classes
    best = sc.cause_best
    if sc.cause == best:
        head = f"after-sales cause {sc.cause} (p={sc.cause_score:.2f}, {model.version})"
    else:
        head = (f"best guess {best} (p={sc.cause_score:.2f}) is below its threshold "
                f"{model.thresholds.get(best, 0):.2f}; routed as {sc.cause}")
    if features is None:
        features = model.top_features(text, class_index=classes.index(best))
    return [head, *_features_line(features)]
