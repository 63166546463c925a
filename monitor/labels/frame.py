"""Labeled data as training frames: from the database's labels, or from a labeled file."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

from models import Label
from monitor.errors import DataError
from monitor.labels.targets import load_targets
from monitor.labels.tasks import REVIEW_TASKS, get_task

TEXT_ALIASES = ("text", "review", "content", "body")


def review_text(review) -> str:  # noqa: ANN001
    """What the text models read: title and body together, exactly as detection scores them."""
    return f"{review.title} {review.text}" if review.title else (review.text or "")


def training_frame(session: Session, task: str) -> pd.DataFrame:
    """Columns ``text``, ``label`` (1/0 for yes/no tasks, the class name for ``cause``),
    ``review_id``, ``n_labels`` and ``agreement`` (share of labelers who chose ``label``).

    Several analysts may label one review: the majority wins, a tie goes to the latest label.
    """
    try:
        spec = get_task(task)
    except KeyError as exc:
        raise DataError(str(exc.args[0])) from None
    if task not in REVIEW_TASKS:
        raise DataError(f"training from database labels covers review tasks ({', '.join(REVIEW_TASKS)}), not {task!r}")
    votes: dict[int, list[Label]] = defaultdict(list)
    for lab in session.exec(select(Label).where(Label.task == task, Label.target_type == "review")):
        votes[lab.target_id].append(lab)
    reviews = load_targets(session, "review", votes)
    rows = []
    for rid, labs in sorted(votes.items()):
        review = reviews.get(rid)
        if review is None or not (review.text or review.title):
            continue
        counts = Counter(lab.value for lab in labs)
        top = max(counts.values())
        tied = {v for v, c in counts.items() if c == top}
        winner = max((lab for lab in labs if lab.value in tied), key=lambda lab: lab.created_at).value
        label: int | str = (1 if winner == "yes" else 0) if spec.binary else winner
        rows.append(
            {"text": review_text(review), "label": label, "review_id": rid, "n_labels": len(labs),
             "agreement": top / len(labs)}
        )
    return pd.DataFrame(rows, columns=["text", "label", "review_id", "n_labels", "agreement"])


def read_labeled_file(path: Path) -> pd.DataFrame:
    """A CSV/TSV/JSONL file with a text column (text, review, content or body) and ``label``."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            frame = pd.read_json(path, lines=True, dtype=False)
        elif suffix in (".csv", ".tsv"):
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8-sig",
                                dtype=str, keep_default_na=False)
        else:
            raise DataError(f"{path}: unknown file type {suffix or '(none)'}; use .csv, .tsv or .jsonl")
    except FileNotFoundError:
        raise DataError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path} cannot be parsed: {str(exc).splitlines()[0]}") from None
    text_col = next((c for c in TEXT_ALIASES if c in frame.columns), None)
    if text_col is None or "label" not in frame.columns:
        raise DataError(f"{path} needs a text column ({'/'.join(TEXT_ALIASES)}) and a label column")
    frame = frame.rename(columns={text_col: "text"})
    frame = frame[frame["text"].astype(str).str.strip() != ""]
    frame = frame[frame["label"].astype(str).str.strip() != ""]
    if frame.empty:
        raise DataError(f"{path} has no rows with both text and label")
    return frame.reset_index(drop=True)


def _normalise_file_labels(frame: pd.DataFrame, task: str, path: Path) -> pd.Series:
    spec = get_task(task)
    normalised = frame["label"].astype(str).map(spec.normalise)
    bad = frame.loc[normalised.isna(), "label"].astype(str).unique().tolist()
    if bad:
        raise DataError(f"{path}: label(s) {', '.join(map(repr, bad[:5]))} are not valid for {task} ({spec.allowed()})")
    if spec.binary:
        return (normalised == "yes").astype(int)
    return normalised


def dataset_frame(session: Session, task: str, files: list[Path] | None = None) -> pd.DataFrame:
    """Database labels for ``task`` plus labeled files, as one training set (``id, text, label, source``).

    A text found both in the database and in a file keeps the analysts' database label; within
    the files the first occurrence wins. Labels are normalised like imports (yes/no -> 1/0).
    """
    db = training_frame(session, task)
    parts = [pd.DataFrame({"id": [f"review:{i}" for i in db["review_id"]], "text": db["text"],
                           "label": db["label"], "source": "labels"})]
    for path in files or []:
        extra = read_labeled_file(path)
        parts.append(pd.DataFrame({
            "id": [f"{Path(path).name}:{i + 1}" for i in range(len(extra))],
            "text": extra["text"].astype(str),
            "label": _normalise_file_labels(extra, task, Path(path)).to_numpy(),
            "source": Path(path).name,
        }))
    out = pd.concat(parts, ignore_index=True)
    out = out.drop_duplicates(subset="text", keep="first").reset_index(drop=True)
    if out.empty:
        raise DataError(f"no labeled data for {task}: import labels (shopmon labels import) or pass --add FILE")
    return out
