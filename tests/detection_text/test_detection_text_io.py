"""Reading training files: formats, --map, labels, and one clear error per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.errors import DataError
from monitor.training.folds import split_indices
from monitor.training.io import parse_mapping, read_table


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_positive_value(tmp_path: Path) -> None:
    f = _csv(tmp_path / "r.csv", "id,text,label\n007,hello,fake\n008,world,real\n")
    t = read_table(f, label="label", positive="fake")
    assert t.ids == ["007", "008"]  # ids stay text: leading zeros survive
    assert t.y.tolist() == [1, 0]
    assert t.classes == ["real", "fake"]


def test_zero_one_labels_need_no_positive(tmp_path: Path) -> None:
    f = _csv(tmp_path / "r.tsv", "text\tspam\na\t1\nb\t0\n")
    t = read_table(f, label="spam")
    assert t.positive == "1" and t.y.tolist() == [1, 0]


def test_other_labels_are_multiclass(tmp_path: Path) -> None:
    f = _csv(tmp_path / "r.csv", "text,cause\na,quality\nb,late_delivery\nc,quality\n")
    t = read_table(f, label="cause")
    assert not t.binary and t.classes == ["late_delivery", "quality"]


def test_jsonl_and_map(tmp_path: Path) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text("\n".join(json.dumps({"body": b, "y": y}, ensure_ascii=False) for b, y in [("好", 0), ("差", 1)]),
                 encoding="utf-8")
    t = read_table(f, label="y", mapping=parse_mapping(["body=text"]))
    assert t.frame["text"].tolist() == ["好", "差"]
    assert t.ids == ["1", "2"]  # no id column: row numbers


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "bom.csv"
    f.write_bytes("text,label\nok,1\nno,0\n".encode("utf-8-sig"))
    assert read_table(f, label="label").frame.columns[0] == "text"


@pytest.mark.parametrize(
    ("content", "kwargs", "needle"),
    [
        ("review,label\na,1\n", {"label": "label"}, "missing column 'text'"),
        ("text,label\na,1\n", {"label": "is_fake"}, "missing label column 'is_fake'"),
        ("text,label\na,1\nb,\n", {"label": "label"}, "empty on data row 2"),
        ("text,label\na,yes\nb,no\n", {"label": "label", "positive": "fake"}, "--positive 'fake' never occurs"),
        ("text,label\na,x\nb,x\n", {"label": "label"}, "single value"),
        ("text,rating\na,five\n", {}, "column 'rating' is not a number on data row 1"),
        ("body\nx\n", {"mapping": {"review": "text"}}, "--map source column 'review' not found"),
    ],
)
def test_bad_input_names_the_problem(tmp_path: Path, content: str, kwargs: dict, needle: str) -> None:
    f = _csv(tmp_path / "bad.csv", content)
    with pytest.raises(DataError, match="bad.csv") as err:
        read_table(f, **kwargs)
    assert needle in str(err.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="unsupported file type .xlsx"):
        read_table(_csv(tmp_path / "a.xlsx", "text\n"))
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("text\n差评\n".encode("gbk"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_table(gbk)
    with pytest.raises(DataError, match="SOURCE=DEST"):
        parse_mapping(["text"])


def test_reviewer_aggregates_are_derived(tmp_path: Path) -> None:
    f = _csv(
        tmp_path / "r.csv",
        "text,rating,reviewer_id,created_at,reviewer_friends\n"
        "a,1,u1,2026-01-01T10:00:00Z,3\nb,1,u1,2026-01-01T11:00:00Z,3\nc,4,u2,2026-01-02T10:00:00Z,\n",
    )
    frame = read_table(f).frame
    assert frame["reviewer_review_count"].tolist() == [2, 2, 1]
    assert frame["reviewer_extreme_share"].tolist() == [1.0, 1.0, 0.0]
    assert frame["reviewer_max_per_day"].tolist() == [2, 2, 1]
    assert frame["reviewer_friends"].iloc[0] == 3.0 and np.isnan(frame["reviewer_friends"].iloc[2])


def test_group_folds_keep_groups_disjoint(tmp_path: Path) -> None:
    rows = ["text,label,fold"] + [f"t{i},{i % 2},{i % 5}" for i in range(50)]
    t = read_table(_csv(tmp_path / "g.csv", "\n".join(rows) + "\n"), label="label")
    splits = split_indices(t, folds=5, group_column="fold")
    assert len(splits) == 5
    folds = t.frame["fold"].to_numpy()
    for train_idx, test_idx in splits:
        assert not set(folds[train_idx]) & set(folds[test_idx])
    with pytest.raises(DataError, match="missing group column 'hotel'"):
        split_indices(t, group_column="hotel")


def test_missing_reviewer_id_is_named_when_the_model_needs_its_aggregates(tmp_path: Path) -> None:
    import pandas as pd

    from monitor.training.predict import model_inputs

    with pytest.raises(DataError, match="missing column 'reviewer_id'"):
        model_inputs(pd.DataFrame({"text": ["a"]}), ["reviewer_review_count"], "new.csv")
    assert model_inputs(pd.DataFrame({"text": ["a", "b"]}), [], "new.csv") == ["a", "b"]
