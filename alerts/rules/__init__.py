"""Alert rules: turn cases, flags and crawl runs into Alert rows. Nothing here sends mail.

Split by responsibility: ``queue`` (staging, silences, dedup and grouping, the bulk write),
``case_alerts``, ``flag_alerts`` and ``ops_alerts`` (one kind of subject each), ``passes`` (an evaluation
over every rule, the periodic reports). The scheduler names ``alerts.rules:evaluate`` and
``alerts.rules:queue_report`` as hooks, so the entry points are importable from here.
"""

from alerts.rules.ops_alerts import queue_job_alert, queue_ops_alert, scrub_error
from alerts.rules.passes import evaluate, queue_report

__all__ = ["evaluate", "queue_job_alert", "queue_ops_alert", "queue_report", "scrub_error"]
