"""``shopmon model list|show|promote|rollback`` and ``shopmon labels export|import|queue``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sqlmodel import Session, select

from models import Flag, Label, ModelVersion, Review
from monitor.cli import main
from monitor.config import load_settings
from monitor.db import session_scope, upgrade
from monitor.registry import registry_for

BAD = ["pay me or else", "money or threats", "pay or bad reviews", "send money now"]
GOOD = ["lovely shoes", "fast delivery", "fits great", "nice colour"]


@pytest.fixture
def cli_settings():
    settings = load_settings()  # what the CLI itself will load in this tmp cwd
    upgrade(settings)
    return settings


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _versions(settings) -> tuple[str, str]:
    reg = registry_for(settings)
    frame = pd.DataFrame({"text": BAD + GOOD, "label": [1] * 4 + [0] * 4})
    good = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10)).fit(frame.text, frame.label)
    bad = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10)).fit(frame.text, 1 - frame.label)
    kw = dict(params={"input_columns": ["text"]}, thresholds={"1": 0.5}, data_fingerprint="sha256:abc", holdout=frame)
    v_good = reg.save("malicious", good, metrics={"average_precision": 1.0}, **kw)
    v_bad = reg.save("malicious", bad, metrics={"average_precision": 0.3}, **kw)
    return v_good, v_bad


def test_model_list_show_promote_refused_forced_and_rollback(cli_settings, capsys) -> None:
    v_good, v_bad = _versions(cli_settings)
    code, out, _ = _run(capsys, "model", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"* {v_good}") and lines[1].startswith(f"  {v_bad}")
    assert "average_precision=1.0000" in lines[0]

    code, out, _ = _run(capsys, "model", "show", v_bad)
    assert code == 0 and "training data: sha256:abc" in out and "# Model card: malicious" in out

    code, out, err = _run(capsys, "model", "promote", v_bad)
    assert code == 3
    assert f"candidate {v_bad}" in out and f"live {v_good}" in out and "average_precision *" in out
    assert "is worse than live" in err and "--force" in err
    assert registry_for(cli_settings).live_version("malicious") == v_good

    code, out, _ = _run(capsys, "model", "promote", v_bad, "--force")
    assert code == 0 and "(forced)" in out
    with session_scope(cli_settings) as s:
        live = {r.version for r in s.exec(select(ModelVersion).where(ModelVersion.live))}
    assert live == {v_bad}

    code, out, _ = _run(capsys, "model", "rollback")
    assert code == 0 and f"live version is now {v_good}" in out
    code, _, err = _run(capsys, "model", "rollback", "malicious")
    assert code == 1 and "no earlier live version" in err


def test_promote_better_version_passes_on_a_given_file(cli_settings, capsys, tmp_path: Path) -> None:
    v_good, v_bad = _versions(cli_settings)
    registry_for(cli_settings).promote("malicious", v_bad)
    data = tmp_path / "heldout.csv"
    pd.DataFrame({"text": BAD + GOOD, "label": ["yes"] * 4 + ["no"] * 4}).to_csv(data, index=False)
    code, out, _ = _run(capsys, "model", "promote", v_good, "--data", str(data))
    assert code == 0, out
    assert "PASS" in out and "heldout.csv (8 rows)" in out


def test_model_errors_are_one_line(cli_settings, capsys) -> None:
    code, _, err = _run(capsys, "model", "show", "nonsense")
    assert code == 1 and err.count("\n") == 1 and "is not a version id" in err
    code, _, err = _run(capsys, "model", "rollback")
    assert code == 2 and "say which model" in err


def test_labels_export_import_queue_through_the_cli(cli_settings, capsys, tmp_path: Path) -> None:
    with session_scope(cli_settings) as s:
        reviews = [Review(platform="jd", external_id=f"c{i}", text=t, rating=1) for i, t in enumerate(BAD + GOOD)]
        s.add_all(reviews)
        s.flush()
        s.add(Flag(kind="malicious", target_type="review", target_id=reviews[0].id, score=0.9,
                   model_version="malicious-20261101000000-aaaaaa", reasons=["asks for money"]))
        first_id = reviews[0].id
    out_file = tmp_path / "todo.jsonl"
    code, out, _ = _run(capsys, "labels", "export", str(out_file), "--task", "malicious")
    assert code == 0 and "exported 1 item(s)" in out
    row = json.loads(out_file.read_text(encoding="utf-8"))
    assert row["reasons"] == ["asks for money"] and row["target_id"] == first_id
    row["label"] = "yes"
    out_file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    code, out, _ = _run(capsys, "labels", "import", str(out_file), "--labeler", "ana")
    assert code == 0 and "imported 1" in out and "flags_updated 1" in out

    _versions(cli_settings)
    queue_file = tmp_path / "queue.csv"
    code, out, _ = _run(capsys, "labels", "queue", "--n", "3", "--out", str(queue_file))
    assert code == 0 and out.count("why:") == 3 and "wrote 3 row(s)" in out
    assert str(first_id) not in [line.split()[2] for line in out.splitlines() if "review" in line]
    # The queue file goes straight back through import once labeled.
    frame = pd.read_csv(queue_file)
    frame["label"] = "no"
    frame.to_csv(queue_file, index=False)
    code, out, _ = _run(capsys, "labels", "import", str(queue_file), "--labeler", "bo")
    assert code == 0 and "imported 3" in out
    with session_scope(cli_settings) as s:
        assert len(s.exec(select(Label)).all()) == 4


def test_labels_import_failure_exits_2_and_writes_nothing(cli_settings, capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("task,target_type,target_id,label\nmalicious,review,424242,yes\n", encoding="utf-8")
    code, _, err = _run(capsys, "labels", "import", str(bad), "--labeler", "ana")
    assert code == 2 and "unknown review id 424242" in err and "nothing imported" in err
    with Session(__import__("monitor.db", fromlist=["get_engine"]).get_engine(cli_settings)) as s:
        assert s.exec(select(Label)).all() == []
    code, _, err = _run(capsys, "labels", "queue", "--task", "spam")
    assert code == 2 and "unknown task 'spam'" in err


def test_db_labels_train_and_promote_loop(cli_settings, capsys, tmp_path: Path) -> None:
    """labels import -> labels dataset (+ a file) -> model train -> model promote."""
    bad = [f"pay me {n} yuan or I post more one-star reviews" for n in range(8)]
    good = [f"parcel {n} arrived late and the box was dented" for n in range(8)]
    with session_scope(cli_settings) as s:
        reviews = [Review(platform="jd", external_id=f"d{i}", text=t, rating=1) for i, t in enumerate(bad + good)]
        s.add_all(reviews)
        s.flush()
        ids = [r.id for r in reviews]
    labels = tmp_path / "labels.csv"
    labels.write_text("task,target_type,target_id,label\n" + "".join(
        f"malicious,review,{rid},{'yes' if i < 8 else 'no'}\n" for i, rid in enumerate(ids)), encoding="utf-8")
    assert _run(capsys, "labels", "import", str(labels), "--labeler", "ana")[0] == 0
    extra = tmp_path / "extra.csv"
    extra.write_text("text,label\n给钱不然差评,yes\n物流太慢,no\n" + f"{bad[0]},no\n", encoding="utf-8")

    train_file = tmp_path / "train.csv"
    code, out, _ = _run(capsys, "labels", "dataset", str(train_file), "--task", "malicious", "--add", str(extra))
    assert code == 0 and "wrote 18 labeled rows" in out and "labels: 16" in out and "extra.csv: 2" in out
    frame = pd.read_csv(train_file)
    # The analysts' label beats the file's contradicting row for the same text.
    assert frame.loc[frame.text == bad[0], "label"].tolist() == [1]

    versions = []
    for report in ("--no-report", "--report"):
        code, out, err = _run(capsys, "model", "train", str(train_file), "--name", "malicious", "--label", "label",
                              "--folds", "2", "--holdout", "0.34", report)
        assert code == 0, err
        versions.append(out.strip().splitlines()[-1])
    code, out, _ = _run(capsys, "model", "show", versions[1])
    report_line = next(line for line in out.splitlines() if line.startswith("report: "))
    page = Path(report_line.split()[1]).read_text(encoding="utf-8")
    for section in ("precision-recall", "roc", "confusion-matrix", "score-distribution", "thresholds", "features"):
        assert f'<section id="{section}"><h2>' in page and "data:image/png;base64," in page
    assert registry_for(cli_settings).live_version("malicious") == versions[0]
    code, out, err = _run(capsys, "model", "promote", versions[1])
    assert code == 0, err  # same data, same model: not worse, so it passes the gate
    assert "Verdict: PASS" in out


def test_dataset_needs_some_labels(cli_settings, capsys, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "labels", "dataset", str(tmp_path / "t.csv"))
    assert code == 2 and "no labeled data for malicious" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,perhaps\n", encoding="utf-8")
    code, _, err = _run(capsys, "labels", "dataset", str(tmp_path / "t.csv"), "--add", str(bad))
    assert code == 2 and "'perhaps' are not valid for malicious" in err
