"""Case figures for the reports, dated by the cases' events and counting each case once.

A case modified and then closed in the same week is one resolved case with the outcome
"modified"; a contact made this week on a case opened last week counts this week.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, func, select

from models.cases import Case, CaseEvent, severity_rank
from models.ledger import Compensation
from models.reviews import Review

from alerts.cases import RESOLVED_STATES, SYSTEM_ACTOR
from monitor.config import Settings

AGE_BUCKETS = (("<1d", 24), ("1-2d", 48), ("2-7d", 168), (">7d", None))
#: What a case came to, in the order a supervisor reads them. "deleted" is a case whose review
#: the buyer removed (the case state says "modified" either way).
OUTCOMES = ("modified", "deleted", "promised", "awaiting_compensation", "refused", "platform_appeal", "closed")
# States that are steps on the way, not outcomes.
_STEPS = ("open", "contacted")


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def _p90(values: list[float]) -> float | None:
    return values[min(len(values) - 1, int(len(values) * 0.9))] if values else None


def _outcome(afters: list[str], deleted: bool) -> str | None:
    """The outcome of a case's state changes in the period: the last one that says how it ended."""
    telling = [a for a in afters if a not in _STEPS and a != "closed"]
    if telling:
        last = telling[-1]
        return "deleted" if last == "modified" and deleted else last
    return "closed" if afters and afters[-1] == "closed" else None


def _open_now(session: Session, settings: Settings, now: datetime, contacted: set[int]) -> dict[str, Any]:
    open_cases = list(session.exec(select(Case).where(Case.state.not_in(RESOLVED_STATES))).all())
    by_age = {name: 0 for name, _ in AGE_BUCKETS}
    for case in open_cases:
        age_h = (now - case.opened_at).total_seconds() / 3600
        for name, limit in AGE_BUCKETS:
            if limit is None or age_h < limit:
                by_age[name] += 1
                break
    escalation = timedelta(hours=settings.alerts.escalation_hours)
    return {
        "open_cases": len(open_cases),
        "open_by_age": by_age,
        "open_by_severity": dict(
            sorted(Counter(c.severity for c in open_cases).items(), key=lambda kv: -severity_rank(kv[0]))
        ),
        "uncontacted_over_escalation": sum(
            1 for c in open_cases if c.id not in contacted and now - c.opened_at > escalation
        ),
        "open_by_owner": dict(Counter(c.owner or "" for c in open_cases)),
    }


def case_figures(session: Session, settings: Settings, start: datetime, end: datetime, *, now: datetime) -> dict[str, Any]:
    """Opened, resolved and outcomes (each case once), response times, per-staff work, money paid."""
    events = list(session.exec(
        select(CaseEvent).where(CaseEvent.at >= start, CaseEvent.at < end).order_by(CaseEvent.at, CaseEvent.id)
    ).all())
    afters: dict[int, list[str]] = defaultdict(list)
    for e in events:
        if e.action == "state" and e.data.get("after"):
            afters[e.case_id].append(e.data["after"])
    deleted = set(session.exec(
        select(Case.id).join(Review, Review.id == Case.review_id)
        .where(Case.id.in_(list(afters)), Review.deleted_at.is_not(None))
    ).all()) if afters else set()
    outcomes = Counter(o for cid, a in afters.items() if (o := _outcome(a, cid in deleted)) is not None)
    resolved = {cid for cid, a in afters.items() if a[-1] in RESOLVED_STATES}

    # Response time: from a case opening to its first contact with the buyer, counted in the
    # period the contact was made.
    first_contact = dict(session.exec(
        select(CaseEvent.case_id, func.min(CaseEvent.at)).where(CaseEvent.action == "contact").group_by(CaseEvent.case_id)
    ).all())
    firsts = list({
        e.case_id: e for e in reversed(events) if e.action == "contact" and e.at == first_contact[e.case_id]
    }.values())
    opened_at = dict(session.exec(select(Case.id, Case.opened_at).where(Case.id.in_([e.case_id for e in firsts]))).all()) if firsts else {}
    waits_by_actor: dict[str, list[float]] = defaultdict(list)
    for e in firsts:
        waits_by_actor[e.actor].append(max(0.0, _minutes(e.at - opened_at[e.case_id])))
    waits = sorted(w for ws in waits_by_actor.values() for w in ws)

    staff: dict[str, dict[str, Any]] = {}
    touched: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.actor == SYSTEM_ACTOR:
            continue
        row = staff.setdefault(e.actor, {"name": e.actor, "cases": 0, "contacts": 0, "resolved": 0})
        touched[e.actor].add(e.case_id)
        row["contacts"] += e.action == "contact"
    resolvers = {
        e.case_id: e.actor for e in events
        if e.action == "state" and e.case_id in resolved and e.data.get("after") in RESOLVED_STATES
    }
    for cid, actor in resolvers.items():
        if actor in staff:
            staff[actor]["resolved"] += 1
    now_open = _open_now(session, settings, now, set(first_contact))
    for name, row in staff.items():
        row["cases"] = len(touched[name])
        ws = sorted(waits_by_actor.get(name, []))
        row["first_contacts"] = len(ws)
        row["median_response_minutes"] = statistics.median(ws) if ws else None
        row["open_owned"] = now_open["open_by_owner"].get(name, 0)

    paid = session.exec(
        select(Compensation.currency, func.count(Compensation.id), func.sum(Compensation.amount_cents))
        .where(Compensation.paid_at >= start, Compensation.paid_at < end)
        .group_by(Compensation.currency)
    ).all()
    return {
        "cases_opened": session.exec(
            select(func.count(Case.id)).where(Case.opened_at >= start, Case.opened_at < end)
        ).one(),
        "cases_resolved": len(resolved),
        "outcomes": {o: outcomes.get(o, 0) for o in OUTCOMES},
        "response": {
            "contacted": len(waits),
            "median_minutes": statistics.median(waits) if waits else None,
            "p90_minutes": _p90(waits),
            "waits_minutes": waits,
            "uncontacted_over_escalation": now_open.pop("uncontacted_over_escalation"),
        },
        "staff": sorted(staff.values(), key=lambda r: (-r["cases"], r["name"])),
        "compensation": [{"currency": c, "payments": n, "total_cents": int(t or 0)} for c, n, t in paid],
        **{k: v for k, v in now_open.items() if k != "open_by_owner"},
    }
