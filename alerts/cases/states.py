"""The case vocabulary and state machine: who the system is, which states exist and how a case moves.

Every other part of the after-sales record (opening, severity, the workflow) speaks these words.
"""

from __future__ import annotations

from datetime import datetime

from models.cases import CASE_STATES, CONTACT_STATUSES, Case, CaseEvent

from monitor.errors import DataError

SYSTEM_ACTOR = "shopmon"
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


def check_transition(case: Case, current: str, target: str) -> None:
    if target not in CASE_STATES:
        raise CaseError(f"unknown state {target!r}; choose from {', '.join(CASE_STATES)}")
    if target != current and target not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current])
        raise CaseError(f"case {case.id} cannot go from {current!r} to {target!r} (allowed: {allowed})")


def case_event(case: Case, action: str, *, actor: str, at: datetime, note: str | None = None, **data: object) -> CaseEvent:
    return CaseEvent(case_id=case.id, at=at, actor=actor, action=action, note=note, data=dict(data))


def needs_action():  # noqa: ANN201
    """SQL condition for cases that still need someone to act."""
    return Case.state.not_in(RESOLVED_STATES)
