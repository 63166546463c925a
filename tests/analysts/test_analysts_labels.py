"""Labels: export -> import round trip, validation that writes nothing, training frames."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import Flag, Label, Review, Shop
from monitor.errors import DataError
from monitor.labels import export_pending, import_labels, pending_rows, read_labeled_file, training_frame
from monitor.labels.rows import read_rows

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _seed(session: Session) -> dict[str, int]:
    shop = Shop(platform="jd", external_id="s1", config_id="demo-shop", name="Demo")
    session.add(shop)
    session.flush()
    texts = ["给钱不然天天差评", "快递太慢了，等了十天", "pay me or I post 100 bad reviews", "colour not as pictured"]
    reviews = [Review(platform="jd", external_id=f"r{i}", text=t, rating=1, shop_id=shop.id) for i, t in enumerate(texts)]
    session.add_all(reviews)
    session.flush()
    flags = [
        Flag(kind="malicious", target_type="review", target_id=reviews[0].id, review_id=reviews[0].id,
             score=0.97, model_version="malicious-20261101000000-aaaaaa", reasons=["demands money", "threat"]),
        Flag(kind="cause", target_type="review", target_id=reviews[1].id, review_id=reviews[1].id,
             label="late_delivery", score=0.8, model_version="cause-20261101000000-bbbbbb", reasons=["快递"]),
        Flag(kind="malicious", target_type="review", target_id=reviews[3].id, review_id=reviews[3].id,
             score=0.55, model_version="malicious-20261101000000-aaaaaa", reasons=["one star"]),
    ]
    session.add_all(flags)
    session.commit()
    return {"r0": reviews[0].id, "r1": reviews[1].id, "r2": reviews[2].id, "r3": reviews[3].id,
            "f0": flags[0].id, "f1": flags[1].id, "f2": flags[2].id}


def _fill(path: Path, answers: dict[int, str]) -> None:
    """Play the analyst: fill the label column of an exported file."""
    if path.suffix == ".csv":
        import csv

        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            r["label"] = answers.get(int(r["flag_id"]), "")
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for r in rows:
            r["label"] = answers.get(r["flag_id"], "")
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_export_import_round_trip(session: Session, tmp_path: Path, suffix: str) -> None:
    ids = _seed(session)
    path = tmp_path / f"pending{suffix}"
    assert export_pending(session, path) == 3
    rows = dict((r["flag_id"], r) for _, r in read_rows(path))
    first = rows[str(ids["f0"])]
    assert first["task"] == "malicious" and first["text"] == "给钱不然天天差评"
    assert first["score"] == "0.97" and first["shop"] == "demo-shop" and first["model_version"].startswith("malicious-")
    if suffix == ".csv":
        assert "demands money | threat" in path.read_text(encoding="utf-8")

    _fill(path, {ids["f0"]: "yes", ids["f1"]: "quality"})  # f2 left blank: not labeled yet
    summary = import_labels(session, path, labeler="ana", now=NOW)
    session.commit()
    assert summary.as_dict() == {"imported": 2, "replaced": 0, "unchanged": 0, "blank": 1,
                                 "flags_updated": 2, "duplicates": 0}
    labels = {lab.target_id: lab for lab in session.exec(select(Label))}
    assert labels[ids["r0"]].value == "yes" and labels[ids["r0"]].labeler == "ana"
    assert labels[ids["r0"]].created_at == NOW and labels[ids["r0"]].source == f"pending{suffix} (flag {ids['f0']})"
    assert labels[ids["r1"]].task == "cause" and labels[ids["r1"]].value == "quality"
    status = {f.id: f.status for f in session.exec(select(Flag))}
    # The analyst corrected the cause, so that flag is rejected; the malicious one confirmed.
    assert status == {ids["f0"]: "confirmed", ids["f1"]: "rejected", ids["f2"]: "open"}
    assert [r["flag_id"] for r in pending_rows(session)] == [ids["f2"]]

    again = import_labels(session, path, labeler="ana", now=NOW)
    assert (again.imported, again.unchanged) == (0, 2)


def test_bad_rows_are_all_reported_and_nothing_is_imported(session: Session, tmp_path: Path) -> None:
    ids = _seed(session)
    path = tmp_path / "labels.csv"
    path.write_text(
        "task,target_type,target_id,flag_id,label\n"
        f"malicious,review,{ids['r2']},,yes\n"  # fine on its own
        "malicious,review,99999,,yes\n"
        f"malicious,review,{ids['r3']},,maybe\n"
        f"cause,review,{ids['r1']},,broken_zipper\n"
        f"spam,review,{ids['r1']},,yes\n"
        f"malicious,listing,{ids['r1']},,yes\n"
        f"malicious,review,{ids['r0']},{ids['f1']},yes\n"
        f"deceptive,review,{ids['r0']},,yes\n"
        f"deceptive,review,{ids['r0']},,no\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        import_labels(session, path, labeler="ana")
    msg = str(err.value)
    assert "7 problem(s), nothing imported" in msg
    assert "line 3: unknown review id 99999" in msg
    assert "line 4: label 'maybe' is not valid for malicious (yes/no)" in msg
    assert "broken_zipper" in msg and "unknown task 'spam'" in msg
    assert "is about a review, not 'listing'" in msg
    assert f"flag {ids['f1']} is a cause flag" in msg
    assert "lines 9 and 10: conflicting labels 'yes' and 'no'" in msg
    session.rollback()
    assert session.exec(select(Label)).all() == []
    assert {f.status for f in session.exec(select(Flag))} == {"open"}


def test_duplicates_are_reported_and_earlier_labels_need_replace(session: Session, tmp_path: Path) -> None:
    ids = _seed(session)
    path = tmp_path / "labels.jsonl"
    row = {"task": "malicious", "target_type": "review", "target_id": ids["r2"], "label": "yes"}
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    s = import_labels(session, path, labeler="bo")
    session.commit()
    assert s.imported == 1 and s.duplicates == ["line 2 repeats line 1"]

    path.write_text(json.dumps({**row, "label": "no"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="already labeled malicious on review .* as 'yes' .*--replace"):
        import_labels(session, path, labeler="bo")
    session.rollback()
    # Another analyst may disagree: that is a second label, not a conflict.
    assert import_labels(session, path, labeler="cy").imported == 1
    s2 = import_labels(session, path, labeler="bo", replace=True)
    session.commit()
    assert s2.replaced == 1
    assert {(lab.labeler, lab.value) for lab in session.exec(select(Label))} == {("bo", "no"), ("cy", "no")}


def test_unreadable_files_give_one_clear_line(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("task,target_type,target_id,label\nmalicious,review,1,sí\n".encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8"):
        import_labels(session, bad, labeler="ana")
    missing = tmp_path / "cols.csv"
    missing.write_text("task,target_id\n", encoding="utf-8")
    with pytest.raises(DataError, match="lacks column"):
        import_labels(session, missing, labeler="ana")
    with pytest.raises(DataError, match="use .csv or .jsonl"):
        import_labels(session, tmp_path / "labels.xlsx", labeler="ana")


def test_training_frame_takes_the_majority_label(session: Session) -> None:
    ids = _seed(session)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for labeler, value, day in [("a", "yes", 1), ("b", "yes", 2), ("c", "no", 3)]:
        session.add(Label(target_type="review", target_id=ids["r0"], task="malicious", value=value,
                          labeler=labeler, created_at=t0.replace(day=day)))
    for labeler, value, day in [("a", "yes", 1), ("b", "no", 2)]:  # tie: latest wins
        session.add(Label(target_type="review", target_id=ids["r2"], task="malicious", value=value,
                          labeler=labeler, created_at=t0.replace(day=day)))
    session.commit()
    frame = training_frame(session, "malicious").set_index("review_id")
    assert frame.loc[ids["r0"], "label"] == 1 and frame.loc[ids["r0"], "n_labels"] == 3
    assert frame.loc[ids["r0"], "agreement"] == pytest.approx(2 / 3)
    assert frame.loc[ids["r2"], "label"] == 0
    assert frame.loc[ids["r2"], "text"] == "pay me or I post 100 bad reviews"
    with pytest.raises(DataError, match="review tasks"):
        training_frame(session, "professional")


def test_read_labeled_file_accepts_the_review_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("cat,label,review\n书籍,1,很好\n书籍,0,\n", encoding="utf-8")
    frame = read_labeled_file(path)
    assert frame[["text", "label"]].values.tolist() == [["很好", "1"]]
    (tmp_path / "e.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="needs a text column"):
        read_labeled_file(tmp_path / "e.csv")

