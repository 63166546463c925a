"""Analysts' labels: export what awaits review, import labels safely, pick what to label next."""

from monitor.labels.export import export_pending, pending_rows
from monitor.labels.frame import dataset_frame, read_labeled_file, training_frame
from monitor.labels.importer import ImportSummary, import_labels
from monitor.labels.queue import QueueItem, build_queue
from monitor.labels.tasks import CAUSES, TASKS

__all__ = [
    "CAUSES",
    "TASKS",
    "ImportSummary",
    "QueueItem",
    "build_queue",
    "dataset_frame",
    "export_pending",
    "import_labels",
    "pending_rows",
    "read_labeled_file",
    "training_frame",
]
