"""The after-sales record: open cases from bad reviews and abuse flags, then move them through states.

Split by responsibility: ``states`` (the vocabulary and state machine), ``severity`` (how bad a case is),
``evidence`` (what flags say about reviews), ``opening`` (opening and enriching cases), ``workflow``
(listing cases and a person's updates). The pipeline, commands, pages and many tests use these names,
so they are importable from here.
"""

from alerts.cases.opening import open_cases
from alerts.cases.severity import severity_for
from alerts.cases.states import (
    CONTACT_CHANNELS,
    RESOLVED_STATES,
    SERIOUS_SEVERITIES,
    SYSTEM_ACTOR,
    TRANSITIONS,
    CaseError,
    needs_action,
)
from alerts.cases.workflow import case_events, get_case, list_cases, update_case

__all__ = [
    "CONTACT_CHANNELS",
    "RESOLVED_STATES",
    "SERIOUS_SEVERITIES",
    "SYSTEM_ACTOR",
    "TRANSITIONS",
    "CaseError",
    "case_events",
    "get_case",
    "list_cases",
    "needs_action",
    "open_cases",
    "severity_for",
    "update_case",
]
