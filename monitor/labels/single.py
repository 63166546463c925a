"""Label one flag (the board's one-click labeling); the file importer uses the same status rule."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from models import Flag, Label
from monitor import outbox
from monitor.errors import DataError
from monitor.labels.tasks import FLAG_KIND_TASK, TASKS


def flag_status(flag: Flag, task: str, value: str) -> str:
    """What a label says about the flag it answers: confirmed when it agrees, rejected otherwise."""
    agrees = value == "yes" if task != "cause" else value == flag.label
    return "confirmed" if agrees else "rejected"


def label_flag(session: Session, flag_id: int, raw_value: str, *, labeler: str,
               note: str | None = None, now: datetime | None = None) -> Label:
    """Store (or change) this labeler's label for the flag's claim and update the flag's status."""
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise DataError(f"no flag with id {flag_id}")
    task_name = FLAG_KIND_TASK.get(flag.kind)
    if task_name is None:
        raise DataError(f"{flag.kind} flags are not labeled")
    task = TASKS[task_name]
    value = task.normalise(raw_value)
    if value is None:
        raise DataError(f"{raw_value!r} is not a label for {task.name} ({task.allowed()})")
    if not labeler.strip():
        raise DataError("a labeler name is required")
    now = now or datetime.now(UTC)
    label = session.exec(select(Label).where(
        Label.target_type == flag.target_type, Label.target_id == flag.target_id,
        Label.task == task.name, Label.labeler == labeler)).first()
    if label is None:
        label = Label(target_type=flag.target_type, target_id=flag.target_id, task=task.name, labeler=labeler,
                      value=value)
    label.value, label.note, label.created_at, label.source = value, note, now, f"board (flag {flag.id})"
    session.add(label)
    status = flag_status(flag, task.name, value)
    if status != flag.status:
        outbox.record(session, "reputation", "flag", [flag.id])  # a rejected flag's review counts again
    flag.status = status
    session.add(flag)
    session.flush()
    return label
