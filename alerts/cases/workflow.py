"""Working a case: finding and listing cases, and one person's update checked before anything changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from models.base import utcnow
from models.cases import CASE_STATES, CONTACT_ALIASES, SEVERITIES, Case, CaseEvent, severity_rank

from alerts.case_fields import CONTACT_FIELDS, check_promise, normalise_order_no, normalise_phone
from alerts.cases.states import CONTACT_CHANNELS, CaseError, case_event, check_transition
from monitor.config import CasesConfig


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
        check_transition(case, current, "promised")
        path.append((current, "promised"))
        current = "promised"
    if compensation_cents is not None and state is None and current != "awaiting_compensation":
        check_transition(case, current, "awaiting_compensation")
        path.append((current, "awaiting_compensation"))
        current = "awaiting_compensation"
    if state is not None and state != current:
        check_transition(case, current, state)
        path.append((current, state))
        current = state
    elif state is not None:
        check_transition(case, current, state)
    if current == "awaiting_compensation" and compensation_cents is None and case.compensation_cents is None:
        raise CaseError(f"case {case.id}: awaiting_compensation needs the amount agreed (--compensation)")

    # Claim the case before changing it: the UPDATE matches only while the case is as it was read
    # above (PostgreSQL waits for another writer's row lock and re-reads; SQLite waits for the write
    # lock), so of two updates racing on one case the second is refused instead of overwriting the
    # first with checks made against a state that no longer holds.
    claimed = session.execute(
        update(Case).where(Case.id == case.id, Case.updated_at == case.updated_at).values(updated_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    if claimed != 1:
        raise CaseError(f"case {case.id} was changed by someone else meanwhile; reload it and try again")

    progress = False
    if owner is not None:
        session.add(case_event(case, "assign", actor=actor, at=now, previous=case.owner, owner=owner.strip()))
        case.owner = owner.strip()
    if contact is not None:
        session.add(case_event(case, "contact", actor=actor, at=now, channel=contact))
        case.contact_status = contact
        progress = True
    if promise_date is not None:
        session.add(case_event(case, "promise", actor=actor, at=now, promised_by=promise_date.isoformat()))
        case.promised_by = promise_date
        progress = True
    if details:
        # The history names what changed, never the phone or order number itself.
        shown = {k: v for k, v in details.items() if k not in CONTACT_FIELDS}
        session.add(case_event(case, "details", actor=actor, at=now, fields=sorted(details), **shown))
        for name, value in details.items():
            setattr(case, name, value)
    if compensation_cents is not None:
        session.add(case_event(case, "compensation", actor=actor, at=now, amount_cents=compensation_cents))
        case.compensation_cents = compensation_cents
    for before, after in path:
        session.add(case_event(case, "state", actor=actor, at=now, before=before, after=after))
        progress = True
    case.state = current
    if current == "closed" and case.closed_at is None:
        case.closed_at = now
    elif current != "closed":
        case.closed_at = None
    if note is not None:
        session.add(case_event(case, "note", actor=actor, at=now, note=note))
    case.updated_at = now
    if progress:
        # Escalation counts from the last real step with the buyer, not from notes.
        case.last_progress_at = now
        case.escalated_at = None
    session.add(case)
    session.flush()
    return case
