"""Adjusted rating, reputation tests and A-F grade per listing and per shop."""

from monitor.reputation.checks import REMOVING_KINDS, Check, ReviewFact, Verdict, assess, grade_for
from monitor.reputation.store import assess_shop, current, flag_marks, history, latest, shop_facts, snapshot
from monitor.reputation.changed import snapshot_changed

__all__ = [
    "REMOVING_KINDS",
    "Check",
    "ReviewFact",
    "Verdict",
    "assess",
    "assess_shop",
    "current",
    "flag_marks",
    "grade_for",
    "history",
    "latest",
    "shop_facts",
    "snapshot",
    "snapshot_changed",
]
