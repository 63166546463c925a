"""Adjusted rating, reputation tests and A-F grade per listing and per shop.

The pipeline's upkeep of the stored facts, ``monitor.reputation.changed.snapshot_changed``, is
imported from its module, not from here: it signs review texts (near_duplicates.py, through
monitor.detection, which loads scikit-learn and SciPy), and the alert rules import this package
for the reports' reads at start-up.
"""

from monitor.reputation.checks import REMOVING_KINDS, Check, ReviewFact, Verdict, assess, grade_for
from monitor.reputation.store import assess_shop, current, flag_marks, history, latest, shop_facts, snapshot

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
]
