"""``shopmon listings score``: listings given as JSON lines in, one score line out per input line."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config import Settings
from monitor.errors import DataError
from monitor.listings.backend import ImageBackend, load_backend
from monitor.listings.check import loader_for
from monitor.listings.scoring import ListingInput, ListingScorer


@dataclass
class BatchSummary:
    lines: int = 0
    scored: int = 0
    flagged: int = 0
    unscored: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"lines": self.lines, "scored": self.scored, "flagged": self.flagged, "unscored": self.unscored}


def _strings(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{field!r} must be a list of paths or URLs")
    return value


def parse_line(raw: str, n: int) -> ListingInput:
    """One input line; ValueError with a short reason when it is not a usable listing."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {n} is not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"line {n} is not a JSON object")
    attributes = obj.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ValueError(f"line {n}: 'attributes' must be an object")
    title = obj.get("title")
    return ListingInput(
        listing_id=obj.get("listing_id", f"line-{n}"),
        title=str(title) if title is not None else None,
        attributes=attributes,
        images=_strings(obj.get("images"), "images"),
        buyer_photos=_strings(obj.get("buyer_photos"), "buyer_photos"),
    )


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        fh = path.open("r", encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    with fh:
        try:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    yield n, line
        except UnicodeDecodeError:
            raise DataError(f"{path} is not UTF-8 text") from None


def score_file(
    settings: Settings, in_path: Path, out_path: Path, *, backend: ImageBackend | None = None
) -> BatchSummary:
    """Score every line of ``in_path`` into ``out_path`` (written whole or not at all).

    A line that cannot be scored still gets an output line with ``score: null`` and the reason,
    so the output always lines up with the input.
    """
    if not in_path.is_file():
        raise DataError(f"input file not found: {in_path}")
    backend = backend or load_backend(settings)
    scorer = ListingScorer(backend, loader_for(settings, base_dir=in_path.resolve().parent))
    threshold = settings.listings.threshold
    summary = BatchSummary()
    out_path = out_path.resolve()
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    except OSError as exc:
        raise DataError(f"cannot write {out_path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for n, raw in _read_lines(in_path):
                summary.lines += 1
                try:
                    item = parse_line(raw, n)
                except ValueError as exc:
                    record: dict[str, Any] = {"listing_id": None, "score": None, "reasons": [str(exc)]}
                else:
                    record = scorer.score(item).as_dict()
                if record["score"] is None:
                    summary.unscored += 1
                else:
                    summary.scored += 1
                    summary.flagged += record["score"] >= threshold
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return summary
