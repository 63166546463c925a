"""The file format shared by export, queue and import: one row per item to label.

CSV (UTF-8, a BOM from spreadsheet programs is fine) or JSON Lines, chosen by extension.
Analysts fill in ``label`` (and optionally ``labeler`` and ``note``); everything else is context.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from monitor.errors import DataError

COLUMNS = (
    "task",
    "target_type",
    "target_id",
    "flag_id",
    "model_version",
    "score",
    "predicted",
    "reasons",
    "shop",
    "rating",
    "text",
    "label",
    "labeler",
    "note",
)
REQUIRED = ("task", "target_type", "target_id", "label")
REASON_SEP = " | "


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise DataError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .jsonl")


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    fmt = file_format(path)
    buf = io.StringIO()
    n = 0
    if fmt == "csv":
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            flat = dict(row)
            flat["reasons"] = REASON_SEP.join(row.get("reasons") or [])
            writer.writerow({k: "" if flat.get(k) is None else flat[k] for k in COLUMNS})
            n += 1
    else:
        for row in rows:
            buf.write(json.dumps({k: row.get(k) for k in COLUMNS}, ensure_ascii=False) + "\n")
            n += 1
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(buf.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror}") from None
    return n


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs with every value as stripped text ('' when absent)."""
    fmt = file_format(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and retry") from None
    out: list[tuple[int, dict[str, str]]] = []
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path} lacks column(s): {', '.join(missing)}")
        for row in reader:
            if None in row:
                raise DataError(f"{path} line {reader.line_num}: more values than columns")
            out.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
        return out
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {n} is not valid JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path} line {n} is not a JSON object")
        missing = [c for c in REQUIRED if c not in obj]
        if missing:
            raise DataError(f"{path} line {n} lacks field(s): {', '.join(missing)}")
        out.append((n, {k: "" if v is None else str(v).strip() for k, v in obj.items() if k != "reasons"}))
    return out
