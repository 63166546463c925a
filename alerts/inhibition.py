"""Inhibition, as Alertmanager has it: a case waiting on a clock of its own gets no reminder and
no escalation until that clock runs out.

- A buyer's promise not yet due (``promised``, ``promised_by`` in the future): nagging the team
  or the buyer before the date helps nobody. Once the date passes the broken promise escalates.
- A platform appeal (``platform_appeal``): the platform has the case. It escalates only when the
  appeal itself has gone ``alerts.appeal_limit_hours`` without a recorded step.

The next step an escalation asks for follows the case's one kind (alerts.guidance.case_kind):
abuse is answered through the platform, never by phoning the buyer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_

from models.cases import Case

from alerts.guidance import ABUSE_KINDS, case_kind
from monitor.config import Settings

Reason = Literal["promise", "appeal", "stalled"]


def _appeal_cutoff(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(hours=settings.alerts.appeal_limit_hours)


def _promise_due(now: datetime) -> Any:
    return (Case.state == "promised") & Case.promised_by.is_not(None) & (Case.promised_by <= now)


def not_inhibited(settings: Settings, now: datetime) -> Any:
    """SQL condition: the case may be reminded about or escalated now."""
    promise_pending = (Case.state == "promised") & Case.promised_by.is_not(None) & (Case.promised_by > now)
    appeal_running = (Case.state == "platform_appeal") & (Case.last_progress_at > _appeal_cutoff(settings, now))
    return ~promise_pending & ~appeal_running


def due_for_escalation(settings: Settings, now: datetime) -> Any:
    """SQL condition: stalled for ``escalation_hours``, a broken promise, or an appeal past its limit."""
    stale = now - timedelta(hours=settings.alerts.escalation_hours)
    return or_(
        (Case.state != "platform_appeal") & (Case.last_progress_at <= stale),
        _promise_due(now),
        (Case.state == "platform_appeal") & (Case.last_progress_at <= _appeal_cutoff(settings, now)),
    )


def escalation_reason(case: Case, now: datetime) -> Reason:
    if case.state == "platform_appeal":
        return "appeal"
    if case.state == "promised" and case.promised_by is not None and case.promised_by <= now:
        return "promise"
    return "stalled"


def next_step(case: Case) -> str:
    """phone (a genuine complaint, buyer not phoned yet), platform (already phoned), appeal (abuse:
    the platform with the evidence) or appeal_overdue (chase the platform about the appeal)."""
    if case.state == "platform_appeal":
        return "appeal_overdue"
    if case_kind(list(case.kinds), case.cause) in ABUSE_KINDS:
        return "appeal"
    return "phone" if case.contact_status != "phoned" else "platform"
