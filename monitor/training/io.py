"""Read labeled or unlabeled review tables (CSV, TSV, JSONL) into one checked shape.

Every problem with the input file is a DataError naming the file, and the column when one is
missing, so `shopmon model ...` fails with one line instead of a pandas traceback.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from monitor.errors import DataError
from monitor.training.context import NOT_NUMBERS, context_columns

TEXT = "text"
ID_COLUMNS = ("id", "review_id")
#: Columns the models can use besides the text (reviewer aggregates are derived from reviewer_id).
OPTIONAL_NUMERIC = ("rating",)
DERIVED_REVIEWER = (
    "reviewer_review_count",
    "reviewer_mean_rating",
    "reviewer_extreme_share",
    "reviewer_max_per_day",
)
SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".jsonl": None, ".ndjson": None, ".json": None}


@dataclass
class Table:
    path: Path
    frame: pd.DataFrame
    ids: list[str]
    label_column: str | None = None
    y: np.ndarray | None = None
    classes: list[str] = field(default_factory=list)
    positive: str | None = None

    @property
    def binary(self) -> bool:
        return self.positive is not None

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(self.path.read_bytes() if self.path.is_file() else b"")
        digest.update(json.dumps([self.label_column, self.positive]).encode())
        return digest.hexdigest()[:16]


def require_labels(table: Table) -> np.ndarray:
    """The table's labels; a DataError when it was read without a label column."""
    if table.y is None:
        raise DataError(f"{table.path}: no label column given (use --label COLUMN)")
    return table.y


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["src=dst", ...]`` as a dict; a malformed item is a DataError."""
    mapping: dict[str, str] = {}
    for item in items or []:
        src, sep, dst = item.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise DataError(f"--map {item!r} must look like SOURCE=DEST")
        mapping[src.strip()] = dst.strip()
    return mapping


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"input file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv, .tsv or .jsonl")
    try:
        if SUFFIXES[suffix] is None:
            frame = pd.read_json(path, lines=suffix != ".json" or _looks_like_lines(path), dtype=False,
                                 encoding="utf-8-sig")
        else:
            # Everything as text: ids like 007 and labels like "1" must survive untouched.
            frame = pd.read_csv(path, sep=SUFFIXES[suffix], dtype=str, keep_default_na=False,
                                encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text") from None
    except (ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path} cannot be parsed: {first}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _looks_like_lines(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(1).lstrip()
    return head != b"["


def read_table(
    path: Path | str,
    *,
    label: str | None = None,
    positive: str | None = None,
    mapping: dict[str, str] | None = None,
    id_column: str | None = None,
) -> Table:
    """Load ``path``; rename columns by ``mapping``; check ``text`` (and ``label`` when given).

    With ``positive`` the labels become 1 (== positive) / 0; without it a 0/1 or true/false column
    is binary with positive "1", and anything else is multi-class.
    """
    path = Path(path)
    frame = _read_frame(path)
    if mapping:
        missing = [src for src in mapping if src not in frame.columns]
        if missing:
            raise DataError(f"{path}: --map source column {missing[0]!r} not found (columns: {_cols(frame)})")
        frame = frame.rename(columns=mapping)
    if TEXT not in frame.columns:
        raise DataError(f"{path}: missing column 'text' (columns: {_cols(frame)}; rename with --map SRC=text)")
    if frame.empty:
        raise DataError(f"{path}: no data rows (only a header)")
    frame[TEXT] = frame[TEXT].map(_as_text)
    if id_column is not None and id_column not in frame.columns:
        raise DataError(f"{path}: missing id column {id_column!r} (columns: {_cols(frame)})")
    id_col = id_column or next((c for c in ID_COLUMNS if c in frame.columns), None)
    ids = [str(v) for v in frame[id_col]] if id_col else [str(i) for i in range(1, len(frame) + 1)]
    frame = add_numeric_columns(frame, path)
    table = Table(path=path, frame=frame, ids=ids)
    if label is not None:
        if label not in frame.columns:
            raise DataError(f"{path}: missing label column {label!r} (columns: {_cols(frame)})")
        raw = frame[label].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
        if (raw == "").any():
            row = int(np.flatnonzero((raw == "").to_numpy())[0]) + 1
            raise DataError(f"{path}: label column {label!r} is empty on data row {row}")
        table.label_column = label
        values = sorted(set(raw))
        if positive is None:
            positive = _implied_positive(values)
        if positive is not None:
            if positive not in values:
                raise DataError(
                    f"{path}: --positive {positive!r} never occurs in column {label!r} (values: {', '.join(values[:10])})"
                )
            table.positive = positive
            table.classes = [next((v for v in values if v != positive), "0"), positive]
            table.y = (raw == positive).to_numpy().astype(int)
        else:
            if len(values) < 2:
                raise DataError(f"{path}: label column {label!r} has a single value {values[0]!r}")
            table.classes = values
            table.y = raw.to_numpy().astype(str)
    return table


def _implied_positive(values: list[str]) -> str | None:
    """0/1 and true/false label columns are binary without --positive."""
    lowered = {v.lower(): v for v in values}
    if len(values) == 2 and set(lowered) == {"0", "1"}:
        return lowered["1"]
    if len(values) == 2 and set(lowered) == {"false", "true"}:
        return lowered["true"]
    return None


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _cols(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns[:20])) + (" ..." if len(frame.columns) > 20 else "")


def numeric_feature_columns(frame: pd.DataFrame) -> list[str]:
    """Columns the models use besides the text: rating, derived reviewer aggregates, any reviewer_*
    number, and the reviewer/listing context columns (monitor.training.context)."""
    cols = [c for c in OPTIONAL_NUMERIC if c in frame.columns]
    cols += [c for c in frame.columns if c.startswith("reviewer_") and c not in ("reviewer_id", *NOT_NUMBERS)
             and pd.api.types.is_numeric_dtype(frame[c])]
    cols += context_columns(frame)
    return list(dict.fromkeys(cols))


def add_numeric_columns(frame: pd.DataFrame, path: Path | None = None) -> pd.DataFrame:
    """Coerce rating / reviewer_* columns to numbers and derive reviewer aggregates from reviewer_id.

    The aggregates (reviews per reviewer, mean and extreme-rating share, most reviews in one day)
    describe behaviour within the file, which is how the Yelp and Amazon spam datasets are scored.
    """
    frame = frame.copy()
    where = f"{path}: " if path else ""
    for col in [c for c in frame.columns
                if c == "rating" or (c.startswith("reviewer_") and c not in ("reviewer_id", *NOT_NUMBERS))]:
        converted = pd.to_numeric(frame[col].replace("", np.nan), errors="coerce")
        bad = converted.isna() & frame[col].notna() & (frame[col].astype(str).str.strip() != "")
        if col == "rating" and bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise DataError(f"{where}column 'rating' is not a number on data row {row}: {frame[col].iloc[row - 1]!r}")
        if not bad.any():
            frame[col] = converted.astype(float)
    if "reviewer_id" in frame.columns:
        who = frame["reviewer_id"].astype(str)
        frame["reviewer_review_count"] = who.map(who.value_counts()).astype(float)
        if "rating" in frame.columns:
            rating = frame["rating"].astype(float)
            frame["reviewer_mean_rating"] = rating.groupby(who).transform("mean")
            extreme = rating.isin([1.0, 5.0]).astype(float).where(rating.notna())
            frame["reviewer_extreme_share"] = extreme.groupby(who).transform("mean")
        if "created_at" in frame.columns:
            day = pd.to_datetime(frame["created_at"], errors="coerce", utc=True, format="mixed").dt.floor("D")
            per_day = pd.Series(1.0, index=frame.index).groupby([who, day]).transform("sum")
            frame["reviewer_max_per_day"] = per_day.groupby(who).transform("max")
    return frame
