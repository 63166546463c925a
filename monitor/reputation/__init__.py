"""Adjusted rating, reputation tests and A-F grade per listing and per shop.

Nothing is re-exported here: the alert rules import this package at start-up (for reads.py), and
most of it signs review texts through monitor.detection, which loads scikit-learn and SciPy.

- reads.py: stored snapshots read back (``latest``, ``history``) and the flags' marks
  (``flag_marks``, ``REMOVING_KINDS``); light, for the reports.
- checks.py: the rules, pure functions over review facts (near-duplicates by MinHash).
- store.py: facts gathered from the database, assessed (``assess_shop``, ``current``) and stored
  as snapshots (``snapshot``).
- changed.py (``snapshot_changed``), facts.py, near_duplicates.py, tallies.py: the pipeline's
  upkeep of stored per-review facts.
"""
