"""Opening cases: one per bad review or opening flag, enriched (never duplicated) by later flags.

One case per review. Flags that arrive later (a cause, a malicious score, membership in an
attack) enrich the existing case instead of opening a second one, so the team never works
the same buyer twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from models.base import utcnow
from models.cases import Case, CaseEvent, severity_rank
from models.catalog import Listing, Shop
from models.detection import Flag
from models.reviews import Review, Reviewer

from alerts.attacks import link_attack_cases
from alerts.cases.evidence import EVIDENCE_KINDS, Evidence, all_flags, collect_flag_evidence, flags_touching
from alerts.cases.severity import review_severity
from alerts.cases.states import SYSTEM_ACTOR, case_event
from alerts.guidance import guidance_for
from monitor import outbox
from monitor.config import Settings
from monitor.db import insert_rows, upsert
from monitor.in_lists import chunks, id_filters

log = logging.getLogger(__name__)


# Reviews whose cases are opened or enriched together: the first run after an import finds every
# stored review in the outbox, and their rows, flags and new cases held at once were most of that
# run's peak memory.
OPEN_SLICE = 20_000


def open_cases(session: Session, settings: Settings, *, now: datetime | None = None, only_changed: bool = False) -> int:
    """Open a case for every new bad review and every malicious/professional/attack flag; enrich existing ones.

    Returns the number of cases opened. Safe to run repeatedly: a review never gets a second case.
    With ``only_changed`` (the post-crawl pipeline) only the reviews and flags detection recorded
    in the outbox since the last such run are looked at, ``OPEN_SLICE`` reviews at a time.
    """
    now = now or utcnow()
    if not only_changed:
        shop_language = _shop_languages(session, settings)
        evidence = collect_flag_evidence(session, settings, all_flags(session))
        opened = _open_or_enrich(session, settings, None, evidence, now=now, shop_language=shop_language)
        return opened + _link_attacks(session, settings, now, shop_language, None)
    # Only what detection changed since the last run (the outbox), never a scan of history.
    changed = outbox.take(session, "cases")
    changed_flags = [f for where in id_filters(Flag.id, changed.get("flag", ())) for f in session.exec(
        select(Flag).where(where, Flag.kind.in_(EVIDENCE_KINDS)))]
    scope = changed.get("review", set()) | set(collect_flag_evidence(session, settings, changed_flags))
    if not scope:
        return 0  # nothing changed: no case to open, enrich or hang under an attack
    changed_ids = changed.get("flag", set())
    del changed
    shop_language = _shop_languages(session, settings)
    opened = 0
    # The attacks that changed get their cases linked, and those the scope's reviews belong to.
    attack_ids = {f.id for f in changed_flags if f.kind == "attack"}
    ordered = sorted(scope)
    for first in range(0, len(ordered), OPEN_SLICE):
        part = set(ordered[first:first + OPEN_SLICE])
        touching = flags_touching(session, part)
        evidence = collect_flag_evidence(session, settings, touching)
        evidence = {rid: ev for rid, ev in evidence.items() if rid in part}
        attack_ids |= {f.id for f in touching if f.kind == "attack"
                       and (f.id in changed_ids or part & set(f.attack_reviews()))}
        opened += _open_or_enrich(session, settings, part, evidence, now=now, shop_language=shop_language)
    return opened + _link_attacks(session, settings, now, shop_language, attack_ids)


def _shop_languages(session: Session, settings: Settings) -> dict[int, str]:
    """Guidance is written in the shop's language (a shop may set its own)."""
    return {sid: settings.locale_for(cfg).language for sid, cfg in session.exec(select(Shop.id, Shop.config_id))}


def _link_attacks(session: Session, settings: Settings, now: datetime, shop_language: dict[int, str],
                  attack_ids: set[int] | None) -> int:
    """Cases hung under their attacks (``attack_ids``; None: every attack flag)."""
    return link_attack_cases(session, actor=SYSTEM_ACTOR, language=settings.alerts.language, now=now,
                             shop_languages=shop_language, flag_ids=attack_ids)


def _open_or_enrich(session: Session, settings: Settings, scope: set[int] | None, evidence: dict[int, Evidence], *,
                    now: datetime, shop_language: dict[int, str]) -> int:
    """Cases for the bad reviews without one in ``scope`` (None: every review) and for the reviews
    ``evidence`` opens a case for; the cases that exist are enriched (and flushed, so the session
    holds them weakly again). Returns the cases opened."""
    language = settings.alerts.language
    max_rating = settings.detection.case_max_rating
    max_age = settings.detection.case_max_age_days
    cutoff = now - timedelta(days=max_age) if max_age else None
    stmt = (
        select(Review.id)
        .outerjoin(Case, Case.review_id == Review.id)
        .where(Review.rating <= max_rating, Review.deleted_at.is_(None), Case.id.is_(None))
    )
    if cutoff is not None:
        stmt = stmt.where(func.coalesce(Review.created_at, Review.first_seen) >= cutoff)
    if scope is None:
        bad_without_case = session.exec(stmt).all()
    else:
        bad_without_case = [rid for where in id_filters(Review.id, scope) for rid in session.exec(stmt.where(where))]
    wanted = set(bad_without_case) | {rid for rid, ev in evidence.items() if ev.opening}
    involved = wanted | set(evidence)

    existing: dict[int, Case] = {}
    for where in id_filters(Case.review_id, involved):
        for case in session.exec(select(Case).where(where)).all():
            existing[case.review_id] = case

    reviews: dict[int, tuple[Review, Listing | None]] = {}
    buyer_ids: dict[int, str | None] = {}
    for where in id_filters(Review.id, involved):
        for review, listing, buyer_id in session.exec(
            select(Review, Listing, Reviewer.external_id)
            .outerjoin(Listing, Listing.id == Review.listing_id)
            .outerjoin(Reviewer, Reviewer.id == Review.reviewer_id)
            .where(where)
        ).all():
            reviews[review.id] = (review, listing)
            buyer_ids[review.id] = buyer_id

    new_rows: list[dict[str, Any]] = []
    opened_data: dict[int, dict[str, Any]] = {}
    too_old = 0
    for rid in sorted(involved):
        if rid not in reviews:
            log.warning("flag points at review %s which does not exist; skipped", rid)
            continue
        review, listing = reviews[rid]
        ev = evidence.get(rid, Evidence())
        case = existing.get(rid)
        if case is not None:
            _enrich(session, case, review, listing, ev, now=now, language=shop_language.get(review.shop_id, language))
            continue
        if rid not in wanted:
            continue
        if cutoff is not None and (review.created_at or review.first_seen) < cutoff:
            too_old += 1  # flagged, and the flag stays for analysts, but there is no buyer to contact now
            continue
        kinds = sorted(ev.kinds)
        severity, why = review_severity(review, listing, kinds)
        new_rows.append(
            {
                "review_id": rid,
                "flag_id": ev.flag_id,
                "shop_id": review.shop_id,
                "listing_id": review.listing_id,
                "buyer_nick": review.reviewer_nick,
                "buyer_platform_id": buyer_ids[rid],
                "review_posted_at": review.created_at,
                "item_title": listing.title if listing else None,
                "review_text": review.text,
                "rating": review.rating,
                "severity": severity,
                "cause": ev.cause,
                "state": "open",
                "contact_status": "none",
                "kinds": kinds,
                "guidance": guidance_for(kinds, ev.cause, shop_language.get(review.shop_id, language)),  # type: ignore[arg-type]
                "opened_at": now,
                "updated_at": now,
                "last_progress_at": now,
            }
        )
        opened_data[rid] = {"severity": severity, "severity_reasons": why, "flag_reasons": ev.reasons}

    if too_old:
        log.info("%d flagged reviews dated over %s days ago open no case (detection.case_max_age_days)",
                 too_old, max_age)
    # Bulk inserts: building thousands of ORM objects costs more than the database work
    # when a first crawl brings a shop's whole history of bad reviews.
    opened = 0
    session.flush()
    for chunk in chunks(new_rows):
        # ON CONFLICT: a case another worker opened for the same review a moment ago stays the only one.
        stmt = upsert(session, Case).on_conflict_do_nothing(index_elements=["review_id"])
        ids = session.execute(stmt.returning(Case.id, Case.review_id), chunk).all()
        if not ids:
            continue
        insert_rows(
            session, CaseEvent,
            [
                {"case_id": cid, "at": now, "actor": SYSTEM_ACTOR, "action": "opened", "note": None, "data": opened_data[rid]}
                for cid, rid in ids
            ],
        )
        opened += len(ids)
    return opened


def _enrich(
    session: Session, case: Case, review: Review, listing: Listing | None, ev: Evidence, *, now: datetime, language: str
) -> None:
    kinds = sorted(set(case.kinds) | ev.kinds)
    cause = ev.cause or case.cause
    if kinds == sorted(case.kinds) and cause == case.cause:
        return
    severity, why = review_severity(review, listing, kinds)
    # Severity only goes up on new evidence: a person may already be acting on the old one.
    if severity_rank(severity) < severity_rank(case.severity):
        severity = case.severity
    added = sorted(set(kinds) - set(case.kinds))
    case.kinds = kinds
    case.cause = cause
    case.severity = severity
    case.guidance = guidance_for(kinds, cause, language)  # type: ignore[arg-type]
    if case.flag_id is None and ev.flag_id is not None:
        case.flag_id = ev.flag_id
    case.updated_at = now
    session.add(case)
    session.add(
        case_event(case, "enriched", actor=SYSTEM_ACTOR, at=now, added_kinds=added, cause=cause, severity=severity, severity_reasons=why)
    )
