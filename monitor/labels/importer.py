"""Import analysts' labels: everything is validated first, then written in one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import Flag, Label
from monitor import outbox
from monitor.errors import DataError
from monitor.labels.rows import read_rows
from monitor.labels.single import flag_status
from monitor.labels.targets import load_targets
from monitor.labels.tasks import FLAG_KIND_TASK, TASKS

MAX_LISTED = 12


@dataclass
class ImportSummary:
    imported: int = 0
    replaced: int = 0
    unchanged: int = 0
    blank: int = 0
    flags_updated: int = 0
    duplicates: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duplicates"] = len(self.duplicates)
        return d


@dataclass
class _Row:
    line: int
    task: str
    target_type: str
    target_id: int
    value: str
    labeler: str
    note: str | None
    flag_id: int | None
    created_at: datetime


def _parse_time(raw: str, line: int, errors: list[str]) -> datetime | None:
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        errors.append(f"line {line}: labeled_at {raw!r} is not an ISO date-time")
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _validate(
    rows: list[tuple[int, dict[str, str]]], labeler: str, now: datetime, errors: list[str], summary: ImportSummary
) -> list[_Row]:
    parsed: list[_Row] = []
    for line, r in rows:
        if not r.get("label"):
            summary.blank += 1  # not labeled yet: exported rows the analyst skipped
            continue
        task = TASKS.get(r.get("task", ""))
        if task is None:
            errors.append(f"line {line}: unknown task {r.get('task')!r} (one of: {', '.join(TASKS)})")
            continue
        tt = r.get("target_type", "")
        if tt not in task.target_types:
            errors.append(f"line {line}: task {task.name} is about a {'/'.join(task.target_types)}, not {tt!r}")
            continue
        try:
            tid = int(r.get("target_id", ""))
        except ValueError:
            errors.append(f"line {line}: target_id {r.get('target_id')!r} is not a number")
            continue
        value = task.normalise(r["label"])
        if value is None:
            errors.append(f"line {line}: label {r['label']!r} is not valid for {task.name} ({task.allowed()})")
            continue
        flag_id = None
        if r.get("flag_id"):
            try:
                flag_id = int(r["flag_id"])
            except ValueError:
                errors.append(f"line {line}: flag_id {r['flag_id']!r} is not a number")
                continue
        created = now
        if r.get("labeled_at"):
            created = _parse_time(r["labeled_at"], line, errors) or now
        parsed.append(
            _Row(line, task.name, tt, tid, value, r.get("labeler") or labeler, r.get("note") or None, flag_id, created)
        )
    return parsed


def _check_references(session: Session, parsed: list[_Row], errors: list[str]) -> dict[int, Flag]:
    by_type: dict[str, set[int]] = defaultdict(set)
    for row in parsed:
        by_type[row.target_type].add(row.target_id)
    found = {tt: load_targets(session, tt, ids) for tt, ids in by_type.items()}
    for row in parsed:
        if row.target_id not in found[row.target_type]:
            errors.append(f"line {row.line}: unknown {row.target_type} id {row.target_id}")
    flag_ids = {r.flag_id for r in parsed if r.flag_id is not None}
    flags = {f.id: f for f in session.exec(select(Flag).where(Flag.id.in_(flag_ids)))} if flag_ids else {}
    for row in parsed:
        if row.flag_id is None:
            continue
        flag = flags.get(row.flag_id)
        if flag is None:
            errors.append(f"line {row.line}: unknown flag id {row.flag_id}")
        elif (flag.target_type, flag.target_id, FLAG_KIND_TASK.get(flag.kind)) != (
            row.target_type, row.target_id, row.task
        ):
            errors.append(
                f"line {row.line}: flag {row.flag_id} is a {flag.kind} flag on {flag.target_type} "
                f"{flag.target_id}, not {row.task} on {row.target_type} {row.target_id}"
            )
    return flags


def _dedupe(parsed: list[_Row], errors: list[str], summary: ImportSummary) -> list[_Row]:
    seen: dict[tuple[str, int, str, str], _Row] = {}
    for row in parsed:
        key = (row.target_type, row.target_id, row.task, row.labeler)
        first = seen.get(key)
        if first is None:
            seen[key] = row
        elif first.value == row.value:
            summary.duplicates.append(f"line {row.line} repeats line {first.line}")
        else:
            errors.append(
                f"lines {first.line} and {row.line}: conflicting labels {first.value!r} and {row.value!r} "
                f"by {row.labeler} for {row.task} on {row.target_type} {row.target_id}"
            )
    return list(seen.values())


def import_labels(
    session: Session,
    path: Path,
    *,
    labeler: str,
    replace: bool = False,
    now: datetime | None = None,
) -> ImportSummary:
    """Validate every row of ``path``, then store the labels and update the flags they answer.

    Raises DataError listing the problems (unknown ids, invalid values, conflicting rows,
    or a different earlier label by the same labeler unless ``replace``) and writes nothing.
    The caller's session owns the transaction; ``shopmon labels import`` commits it once.
    """
    path = Path(path)
    now = now or datetime.now(UTC)
    if not labeler.strip():
        raise DataError("a labeler name is required (--labeler or a labeler column)")
    summary = ImportSummary()
    errors: list[str] = []
    rows = read_rows(path)
    parsed = _validate(rows, labeler.strip(), now, errors, summary)
    flags = _check_references(session, parsed, errors)
    unique = _dedupe(parsed, errors, summary)

    existing: dict[tuple[str, int, str, str], Label] = {}
    targets = {(r.target_type, r.target_id) for r in unique}
    if targets:
        tasks = {r.task for r in unique}
        for lab in session.exec(select(Label).where(Label.task.in_(tasks))):
            if (lab.target_type, lab.target_id) in targets:
                existing[(lab.target_type, lab.target_id, lab.task, lab.labeler)] = lab
    for row in unique:
        old = existing.get((row.target_type, row.target_id, row.task, row.labeler))
        if old is not None and old.value != row.value and not replace:
            errors.append(
                f"line {row.line}: {row.labeler} already labeled {row.task} on {row.target_type} "
                f"{row.target_id} as {old.value!r} (file says {row.value!r}; use --replace to change it)"
            )

    if errors:
        shown = "; ".join(errors[:MAX_LISTED])
        more = f"; and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
        raise DataError(f"{path}: {len(errors)} problem(s), nothing imported: {shown}{more}")

    source = path.name
    for row in unique:
        old = existing.get((row.target_type, row.target_id, row.task, row.labeler))
        row_source = f"{source} (flag {row.flag_id})" if row.flag_id else source
        if old is not None and old.value == row.value:
            summary.unchanged += 1
        elif old is not None:
            old.value, old.note, old.created_at = row.value, row.note, row.created_at
            old.source = row_source
            session.add(old)
            summary.replaced += 1
        else:
            session.add(
                Label(
                    target_type=row.target_type,
                    target_id=row.target_id,
                    task=row.task,
                    value=row.value,
                    labeler=row.labeler,
                    source=row_source,
                    note=row.note,
                    created_at=row.created_at,
                )
            )
            summary.imported += 1
        if row.flag_id is not None:
            flag = flags[row.flag_id]
            status = flag_status(flag, row.task, row.value)
            if flag.status != status:
                flag.status = status
                session.add(flag)
                outbox.record(session, "reputation", "flag", [flag.id])  # a rejected flag's review counts again
                summary.flags_updated += 1
    session.flush()
    return summary
