"""Export what awaits an analyst: open flags with the model's score and reasons."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import Flag, Shop
from monitor.labels.rows import write_rows
from monitor.labels.targets import describe, load_targets
from monitor.labels.tasks import FLAG_KIND_TASK, get_task


def pending_rows(session: Session, *, task: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """One row per open flag (highest score first), ready for an analyst to fill in ``label``."""
    kinds = [k for k, t in FLAG_KIND_TASK.items() if task is None or t == task]
    if task is not None:
        get_task(task)  # unknown task -> KeyError with the valid names
    stmt = (
        select(Flag)
        .where(Flag.status == "open", Flag.kind.in_(kinds))
        .order_by(Flag.score.desc(), Flag.id)
    )
    if limit:
        stmt = stmt.limit(limit)
    flags = list(session.exec(stmt))
    by_type: dict[str, list[int]] = defaultdict(list)
    for f in flags:
        by_type[f.target_type].append(f.target_id)
    targets = {tt: load_targets(session, tt, ids) for tt, ids in by_type.items()}
    shops = {s.id: s for s in session.exec(select(Shop))}
    rows = []
    for f in flags:
        row = {
            "task": FLAG_KIND_TASK[f.kind],
            "target_type": f.target_type,
            "target_id": f.target_id,
            "flag_id": f.id,
            "model_version": f.model_version,
            "score": round(f.score, 4),
            "predicted": f.label or ("yes" if f.kind != "cause" else None),
            "reasons": list(f.reasons or []),
            "label": "",
            "labeler": "",
            "note": "",
        }
        target = targets.get(f.target_type, {}).get(f.target_id)
        if target is not None:
            row.update(describe(f.target_type, target, shops))
        rows.append(row)
    return rows


def export_pending(session: Session, path: Path, *, task: str | None = None, limit: int | None = None) -> int:
    """Write the pending rows to ``path`` (.csv or .jsonl); returns how many."""
    return write_rows(Path(path), pending_rows(session, task=task, limit=limit))
