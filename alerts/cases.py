"""The after-sales record: open cases from bad reviews and abuse flags, then move them through states.

One case per review. Flags that arrive later (a cause, a malicious score, membership in an
attack) enrich the existing case instead of opening a second one, so the team never works
the same buyer twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, select

from models.base import utcnow
from models.cases import CASE_STATES, CONTACT_ALIASES, CONTACT_STATUSES, SEVERITIES, Case, CaseEvent, severity_rank
from models.catalog import Listing, Shop
from models.detection import Flag
from models.reviews import Review, Reviewer

from alerts.attacks import link_attack_cases
from alerts.case_fields import CONTACT_FIELDS, check_promise, normalise_order_no, normalise_phone
from alerts.guidance import guidance_for
from monitor import outbox
from monitor.config import CasesConfig, Settings
from monitor.db import upsert
from monitor.errors import DataError
from monitor.in_lists import chunks, id_filters

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "shopmon"
OPENING_FLAG_KINDS = ("malicious", "professional", "attack")
ENRICHING_FLAG_KINDS = (*OPENING_FLAG_KINDS, "deceptive", "watchlist")
SERIOUS_SEVERITIES = ("high", "critical")
# Cases in these states need nobody's attention: no escalation, no reminders.
RESOLVED_STATES = ("modified", "closed")
CONTACT_CHANNELS = tuple(c for c in CONTACT_STATUSES if c != "none")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("contacted", "platform_appeal", "modified", "closed"),
    "contacted": ("promised", "awaiting_compensation", "refused", "platform_appeal", "modified", "closed"),
    "promised": ("modified", "refused", "awaiting_compensation", "contacted", "platform_appeal", "closed"),
    "awaiting_compensation": ("promised", "modified", "refused", "closed"),
    "modified": ("closed", "open"),
    "refused": ("platform_appeal", "contacted", "modified", "closed"),
    "platform_appeal": ("modified", "refused", "closed"),
    "closed": ("open",),
}
assert set(TRANSITIONS) == set(CASE_STATES)


class CaseError(DataError):
    """An update the case workflow refuses (unknown case, illegal transition, bad value)."""


# Severity --------------------------------------------------------------------------------
_FLAG_POINTS = {"malicious": 3, "attack": 3, "professional": 2, "deceptive": 1, "watchlist": 1}


def severity_for(
    rating: int | None,
    kinds: list[str],
    *,
    sales: int | None = None,
    helpful_votes: int | None = None,
    photos: int = 0,
) -> tuple[str, list[str]]:
    """Severity and the reasons for it: worse ratings, abuse flags, busy listings and visible reviews weigh more."""
    points = 0
    reasons: list[str] = []
    if rating is not None and rating <= 3:
        p = {1: 3, 2: 2, 3: 1}[max(rating, 1)]
        points += p
        reasons.append(f"{rating}-star review (+{p})")
    for kind in sorted(set(kinds)):
        if kind in _FLAG_POINTS:
            points += _FLAG_POINTS[kind]
            reasons.append(f"flagged {kind} (+{_FLAG_POINTS[kind]})")
    if sales is not None and sales >= 100:
        p = 2 if sales >= 1000 else 1
        points += p
        reasons.append(f"listing has {sales} sales (+{p})")
    # Reach: helpful votes and photos push a review up the listing page, where buyers read it.
    if helpful_votes is not None and helpful_votes >= 3:
        p = 2 if helpful_votes >= 10 else 1
        points += p
        reasons.append(f"{helpful_votes} helpful votes (+{p})")
    if photos:
        points += 1
        reasons.append("review has photos (+1)")
    if points >= 7:
        level = "critical"
    elif points >= 5:
        level = "high"
    elif points >= 3:
        level = "medium"
    else:
        level = "low"
    return level, reasons


def _review_severity(review: Review, listing: Listing | None, kinds: list[str]) -> tuple[str, list[str]]:
    return severity_for(
        review.rating,
        kinds,
        sales=listing.sales if listing else None,
        helpful_votes=review.helpful_votes,
        photos=len(review.photos or []),
    )


# Opening ---------------------------------------------------------------------------------
@dataclass
class _Evidence:
    kinds: set[str] = field(default_factory=set)
    opening: bool = False
    cause: str | None = None
    cause_score: float = -1.0
    flag_id: int | None = None
    reasons: list[str] = field(default_factory=list)


_EVIDENCE_KINDS = (*ENRICHING_FLAG_KINDS, "cause")


def _all_flags(session: Session) -> list[Flag]:
    return list(session.exec(select(Flag).where(Flag.kind.in_(_EVIDENCE_KINDS), Flag.status != "rejected")))


def _flags_touching(session: Session, review_ids: set[int]) -> list[Flag]:
    """Every flag that can say something about ``review_ids``: theirs, their reviewers', and the
    attack flags (their member ids are JSON; there are few of them)."""
    reviewers: set[int] = set()
    found: dict[int, Flag] = {}
    live = (Flag.kind.in_(_EVIDENCE_KINDS), Flag.status != "rejected")
    for chunk in chunks(sorted(set(review_ids))):
        reviewers.update(r for r in session.exec(select(Review.reviewer_id).where(Review.id.in_(chunk))) if r)
        for column in (Flag.target_id, Flag.review_id):
            stmt = select(Flag).where(*live, column.in_(chunk))
            if column is Flag.target_id:
                stmt = stmt.where(Flag.target_type == "review")
            found.update((f.id, f) for f in session.exec(stmt))
    for where in id_filters(Flag.target_id, reviewers):
        stmt = select(Flag).where(*live, Flag.target_type == "reviewer", where)
        found.update((f.id, f) for f in session.exec(stmt))
    found.update((f.id, f) for f in session.exec(select(Flag).where(*live, Flag.kind == "attack")))
    return list(found.values())


def _collect_flag_evidence(session: Session, settings: Settings, flags: list[Flag]) -> dict[int, _Evidence]:
    """Map review id -> what ``flags`` say about it."""
    max_rating = settings.detection.case_max_rating
    evidence: dict[int, _Evidence] = defaultdict(_Evidence)
    reviewer_ids = {f.target_id for f in flags if f.target_type == "reviewer"}
    by_reviewer: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    if reviewer_ids:
        rows = session.exec(
            select(Review.id, Review.reviewer_id, Review.rating).where(
                Review.reviewer_id.in_(reviewer_ids), Review.deleted_at.is_(None)
            )
        ).all()
        for rid, reviewer_id, rating in rows:
            by_reviewer[reviewer_id].append((rid, rating))

    for flag in flags:
        if flag.kind == "attack":
            targets = list(flag.members) or ([flag.review_id] if flag.review_id else [])
        elif flag.target_type == "review":
            targets = [flag.target_id]
        elif flag.target_type == "reviewer":
            # A professional reviewer's praise is not a case; their bad reviews (and the one
            # the flag points at) are.
            targets = [rid for rid, rating in by_reviewer.get(flag.target_id, []) if rating is None or rating <= max_rating]
            if flag.review_id and flag.review_id not in targets:
                targets.append(flag.review_id)
        else:
            targets = [flag.review_id] if flag.review_id else []
        for rid in targets:
            ev = evidence[rid]
            if flag.kind == "cause":
                if flag.label and flag.score > ev.cause_score:
                    ev.cause, ev.cause_score = flag.label, flag.score
                continue
            ev.kinds.add(flag.kind)
            if flag.kind in OPENING_FLAG_KINDS:
                ev.opening = True
                if ev.flag_id is None:
                    ev.flag_id = flag.id
            ev.reasons.extend(r for r in flag.reasons if r not in ev.reasons)
    return evidence


def _event(case: Case, action: str, *, actor: str, at: datetime, note: str | None = None, **data: object) -> CaseEvent:
    return CaseEvent(case_id=case.id, at=at, actor=actor, action=action, note=note, data=dict(data))


def open_cases(session: Session, settings: Settings, *, now: datetime | None = None, only_changed: bool = False) -> int:
    """Open a case for every new bad review and every malicious/professional/attack flag; enrich existing ones.

    Returns the number of cases opened. Safe to run repeatedly: a review never gets a second case.
    With ``only_changed`` (the post-crawl pipeline) only the reviews and flags detection recorded
    in the outbox since the last such run are looked at.
    """
    now = now or utcnow()
    # Guidance is written in the shop's language (a shop may set its own).
    language = settings.alerts.language
    shop_language = {sid: settings.locale_for(cfg).language for sid, cfg in session.exec(select(Shop.id, Shop.config_id))}
    max_rating = settings.detection.case_max_rating
    scope: set[int] | None = None
    if only_changed:
        # Only what detection changed since the last run (the outbox), never a scan of history.
        changed = outbox.take(session, "cases")
        flag_ids = sorted(changed.get("flag", ()))
        changed_flags = [f for start in range(0, len(flag_ids), 500) for f in session.exec(
            select(Flag).where(Flag.id.in_(flag_ids[start : start + 500]), Flag.kind.in_(_EVIDENCE_KINDS)))]
        scope = changed.get("review", set()) | set(_collect_flag_evidence(session, settings, changed_flags))
        evidence = _collect_flag_evidence(session, settings, _flags_touching(session, scope))
        evidence = {rid: ev for rid, ev in evidence.items() if rid in scope}
    else:
        evidence = _collect_flag_evidence(session, settings, _all_flags(session))

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
        ordered = sorted(scope)
        bad_without_case = [rid for start in range(0, len(ordered), 500)
                            for rid in session.exec(stmt.where(Review.id.in_(ordered[start : start + 500])))]
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
        ev = evidence.get(rid, _Evidence())
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
        severity, why = _review_severity(review, listing, kinds)
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
    for start in range(0, len(new_rows), 500):
        chunk = new_rows[start : start + 500]
        # ON CONFLICT: a case another worker opened for the same review a moment ago stays the only one.
        stmt = upsert(session, Case).on_conflict_do_nothing(index_elements=["review_id"])
        ids = session.execute(stmt.returning(Case.id, Case.review_id), chunk).all()
        if not ids:
            continue
        session.execute(
            insert(CaseEvent),
            [
                {"case_id": cid, "at": now, "actor": SYSTEM_ACTOR, "action": "opened", "note": None, "data": opened_data[rid]}
                for cid, rid in ids
            ],
        )
        opened += len(ids)

    opened += link_attack_cases(session, actor=SYSTEM_ACTOR, language=language, now=now, shop_languages=shop_language)
    return opened


def _enrich(
    session: Session, case: Case, review: Review, listing: Listing | None, ev: _Evidence, *, now: datetime, language: str
) -> None:
    kinds = sorted(set(case.kinds) | ev.kinds)
    cause = ev.cause or case.cause
    if kinds == sorted(case.kinds) and cause == case.cause:
        return
    severity, why = _review_severity(review, listing, kinds)
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
        _event(case, "enriched", actor=SYSTEM_ACTOR, at=now, added_kinds=added, cause=cause, severity=severity, severity_reasons=why)
    )


# Working a case --------------------------------------------------------------------------
def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseError(f"no case with id {case_id}")
    return case


def case_events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)).all())


def list_cases(
    session: Session,
    *,
    state: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    owner: str | None = None,
    attack: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Case]:
    """Cases worst first, then oldest first (the order the team should work them).

    ``attack`` keeps an attack's case and its members; ``since``/``until`` bound when a case opened.
    """
    if state is not None and state not in CASE_STATES:
        raise CaseError(f"unknown state {state!r}; choose from {', '.join(CASE_STATES)}")
    if severity is not None and severity not in SEVERITIES:
        raise CaseError(f"unknown severity {severity!r}; choose from {', '.join(SEVERITIES)}")
    query = select(Case)
    if state:
        query = query.where(Case.state == state)
    if severity:
        query = query.where(Case.severity == severity)
    if owner is not None:
        query = query.where(Case.owner == owner)
    if attack is not None:
        query = query.where((Case.id == attack) | (Case.parent_id == attack))
    if since is not None:
        query = query.where(Case.opened_at >= since)
    if until is not None:
        query = query.where(Case.opened_at < until)
    cases = list(session.exec(query).all())
    cases.sort(key=lambda c: (-severity_rank(c.severity), c.opened_at, c.id or 0))
    return cases[:limit] if limit else cases


def _check_transition(case: Case, current: str, target: str) -> None:
    if target not in CASE_STATES:
        raise CaseError(f"unknown state {target!r}; choose from {', '.join(CASE_STATES)}")
    if target != current and target not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current])
        raise CaseError(f"case {case.id} cannot go from {current!r} to {target!r} (allowed: {allowed})")


def update_case(
    session: Session,
    case_id: int,
    *,
    actor: str,
    state: str | None = None,
    contact: str | None = None,
    promise_date: datetime | None = None,
    owner: str | None = None,
    note: str | None = None,
    buyer_id: str | None = None,
    phone: str | None = None,
    order_no: str | None = None,
    compensation_cents: int | None = None,
    config: CasesConfig | None = None,
    now: datetime | None = None,
) -> Case:
    """Apply one person's update. Everything is checked before anything changes, so a refused
    update leaves the case exactly as it was. An empty phone or order number clears it."""
    now = now or utcnow()
    actor = (actor or "").strip()
    if not actor:
        raise CaseError("an update needs the name of who made it (--by)")
    if all(v is None for v in (state, contact, promise_date, owner, note, buyer_id, phone, order_no, compensation_cents)):
        raise CaseError(
            "nothing to update: give --state, --contact, --promise-date, --owner, --note, --buyer-id, --phone, "
            "--order or --compensation"
        )
    case = get_case(session, case_id)
    contact = CONTACT_ALIASES.get(contact, contact) if contact is not None else None
    if contact is not None and contact not in CONTACT_CHANNELS:
        raise CaseError(f"unknown contact channel {contact!r}; choose from {', '.join(CONTACT_CHANNELS)}")
    if promise_date is not None:
        check_promise(session, case, promise_date, now=now, config=config or CasesConfig())
    if owner is not None and not owner.strip():
        raise CaseError("owner must not be empty")
    details: dict[str, str | None] = {}
    if buyer_id is not None:
        details["buyer_platform_id"] = buyer_id.strip() or None
    if phone is not None:
        details["buyer_phone"] = normalise_phone(phone)
    if order_no is not None:
        details["order_no"] = normalise_order_no(order_no)
    if compensation_cents is not None and compensation_cents <= 0:
        raise CaseError("the compensation amount must be more than zero")

    # Work out the state path first: contacting an open case makes it "contacted", a
    # promise date makes it "promised"; an explicit --state then applies on top.
    path: list[tuple[str, str]] = []
    current = case.state
    if contact is not None and current == "open":
        path.append((current, "contacted"))
        current = "contacted"
    if promise_date is not None and current != "promised":
        _check_transition(case, current, "promised")
        path.append((current, "promised"))
        current = "promised"
    if compensation_cents is not None and state is None and current != "awaiting_compensation":
        _check_transition(case, current, "awaiting_compensation")
        path.append((current, "awaiting_compensation"))
        current = "awaiting_compensation"
    if state is not None and state != current:
        _check_transition(case, current, state)
        path.append((current, state))
        current = state
    elif state is not None:
        _check_transition(case, current, state)
    if current == "awaiting_compensation" and compensation_cents is None and case.compensation_cents is None:
        raise CaseError(f"case {case.id}: awaiting_compensation needs the amount agreed (--compensation)")

    progress = False
    if owner is not None:
        session.add(_event(case, "assign", actor=actor, at=now, previous=case.owner, owner=owner.strip()))
        case.owner = owner.strip()
    if contact is not None:
        session.add(_event(case, "contact", actor=actor, at=now, channel=contact))
        case.contact_status = contact
        progress = True
    if promise_date is not None:
        session.add(_event(case, "promise", actor=actor, at=now, promised_by=promise_date.isoformat()))
        case.promised_by = promise_date
        progress = True
    if details:
        # The history names what changed, never the phone or order number itself.
        shown = {k: v for k, v in details.items() if k not in CONTACT_FIELDS}
        session.add(_event(case, "details", actor=actor, at=now, fields=sorted(details), **shown))
        for name, value in details.items():
            setattr(case, name, value)
    if compensation_cents is not None:
        session.add(_event(case, "compensation", actor=actor, at=now, amount_cents=compensation_cents))
        case.compensation_cents = compensation_cents
    for before, after in path:
        session.add(_event(case, "state", actor=actor, at=now, before=before, after=after))
        progress = True
    case.state = current
    if current == "closed" and case.closed_at is None:
        case.closed_at = now
    elif current != "closed":
        case.closed_at = None
    if note is not None:
        session.add(_event(case, "note", actor=actor, at=now, note=note))
    case.updated_at = now
    if progress:
        # Escalation counts from the last real step with the buyer, not from notes.
        case.last_progress_at = now
        case.escalated_at = None
    session.add(case)
    session.flush()
    return case


def needs_action():  # noqa: ANN201
    """SQL condition for cases that still need someone to act."""
    return Case.state.not_in(RESOLVED_STATES)
