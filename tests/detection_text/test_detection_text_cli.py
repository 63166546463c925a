"""`shopmon model train|evaluate|predict|cv` and `shopmon detect` through the CLI entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.paths import FIXTURES

SEED = FIXTURES / "seed" / "reviews.csv"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_train_predict_evaluate_round_trip(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "model", "train", str(SEED), "--name", "malicious", "--label", "malicious",
                          "--positive", "1", "--folds", "3")
    assert code == 0, err
    version = out.strip().splitlines()[-1]
    assert version.startswith("malicious-")
    folder = env / "data" / "models" / "malicious" / version
    assert (folder / "model.skops").is_file() and (folder / "report.html").is_file()

    # reviews.csv has a rating column, so the model uses it and new files must carry it too.
    new = _write(env / "new.csv", ["review_id", "body", "rating"], [
        ["b-3", "Send me $200 or I keep posting one-star reviews everywhere.", "1"],
        ["a-1", "The lamp works fine, shipping was quick.", "4"],
        ["c-2", "给我转500元，不然差评不删。", "1"],
    ])
    code, out, err = _run(capsys, "model", "predict", str(new), "--model", "malicious", "--map", "body=text")
    assert code == 0, err
    rows = list(csv.DictReader(out.splitlines()))
    assert [r["id"] for r in rows] == ["b-3", "a-1", "c-2"]  # input order, input ids
    assert [r["label"] for r in rows] == ["1", "0", "1"]
    assert all(0 <= float(r["score"]) <= 1 for r in rows)

    out_file = env / "scores.jsonl"
    code, _, err = _run(capsys, "model", "predict", str(new), "--model", "malicious", "--map", "body=text",
                        "-o", str(out_file), "--version", version)
    assert code == 0, err
    assert [json.loads(line)["id"] for line in out_file.read_text().splitlines()] == ["b-3", "a-1", "c-2"]

    labeled = _write(env / "labeled.csv", ["text", "y", "rating"], [
        ["Pay me $90 and I'll delete this review, otherwise more one-star reviews.", "1", "1"],
        ["不给赔偿我就天天来追评骂你们。", "1", "1"],
        ["Arrived late but works.", "0", "3"],
        ["颜色和图片一样，很好看。", "0", "5"],
    ])
    code, out, err = _run(capsys, "model", "evaluate", str(labeled), "--model", "malicious", "--label", "y")
    assert code == 0, err
    metrics = json.loads(out)
    for key in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "confusion_matrix"):
        assert key in metrics
    assert metrics["confusion_matrix"] == [[2, 0], [0, 2]]
    assert metrics["model_version"] == version


def test_predict_without_id_column_uses_row_numbers(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "model", "train", str(SEED), "--name", "malicious", "--label", "malicious",
                          "--folds", "3", "--holdout", "0", "--no-report")
    assert code == 0, err
    plain = env / "plain.tsv"
    plain.write_text("text\trating\nhello\t5\n😀\t\n\t1\n", encoding="utf-8")
    code, out, err = _run(capsys, "model", "predict", str(plain), "--model", "malicious")
    assert code == 0, err
    assert [r["id"] for r in csv.DictReader(out.splitlines())] == ["1", "2", "3"]


def test_multiclass_train_and_cv(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [r for r in csv.DictReader(SEED.open(encoding="utf-8")) if r["cause"]]
    causes = _write(env / "causes.csv", ["id", "text", "cause", "lang"],
                    [[r["id"], r["text"], r["cause"], r["lang"]] for r in rows])
    code, out, err = _run(capsys, "model", "cv", str(causes), "--label", "cause", "--folds", "3")
    assert code == 0, err
    metrics = json.loads(out)
    assert len(metrics["confusion_matrix"]) == 7 and metrics["accuracy"] > 0.6
    code, out, err = _run(capsys, "model", "cv", str(causes), "--label", "cause", "--group-column", "lang")
    assert code == 0, err
    grouped = json.loads(out)
    # Train on one language, test on the other: much worse than mixed folds, and only 2 folds.
    assert grouped["folds"] == 2 and grouped["accuracy"] < metrics["accuracy"]
    # The overall accuracy is the folds' accuracies weighted by their rows: it lies between them.
    assert len(grouped["fold_accuracy"]) == 2
    assert min(grouped["fold_accuracy"]) <= grouped["accuracy"] <= max(grouped["fold_accuracy"])
    code, out, err = _run(capsys, "model", "train", str(causes), "--name", "cause", "--label", "cause", "--folds", "3")
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("cause-")


def test_binary_cv_prints_metrics_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "model", "cv", str(FIXTURES / "seed" / "deceptive.csv"), "--label", "deceptive",
                          "--folds", "3")
    assert code == 0, err
    m = json.loads(out)
    assert set(m) >= {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "confusion_matrix"}
    assert m["roc_auc"] > 0.8


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["model", "cv", "{bad}", "--label", "label"], "missing column 'text'"),
        (["model", "cv", "{good}", "--label", "is_fake"], "missing label column 'is_fake'"),
        (["model", "train", "{good}", "--name", "x", "--label", "label", "--positive", "fake"], "never occurs"),
        (["model", "predict", "{good}", "--model", "nosuch"], "no live version"),
        (["model", "cv", "{good}", "--label", "label", "--map", "oops"], "SOURCE=DEST"),
        # Issue 12 item 6: a header-only training file was an IndexError traceback.
        (["model", "train", "{header_only}", "--name", "x", "--label", "label"], "no data rows (only a header)"),
        (["model", "cv", "{header_only}", "--label", "label"], "no data rows (only a header)"),
    ],
)
def test_bad_input_is_one_clear_line(env: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str) -> None:
    bad = _write(env / "bad.csv", ["review", "label"], [["a", "1"], ["b", "0"]])
    good = _write(env / "good.csv", ["text", "label"], [["a", "1"], ["b", "0"]])
    header_only = env / "header_only.csv"
    header_only.write_text("text,label\n", encoding="utf-8")
    args = [a.format(bad=bad, good=good, header_only=header_only) for a in args]
    code, out, err = _run(capsys, *args)
    assert code != 0
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_predict_with_a_model_needing_columns_names_the_missing_one(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [[f"text {i} {'bad' if i % 2 else 'good'}", str(1 + 4 * (i % 2)), str(i % 2)] for i in range(40)]
    data = _write(env / "rated.csv", ["text", "rating", "label"], rows)
    code, out, err = _run(capsys, "model", "train", str(data), "--name", "rated", "--label", "label", "--folds", "3",
                          "--no-report")
    assert code == 0, err
    textonly = _write(env / "textonly.csv", ["text"], [["bad"]])
    code, out, err = _run(capsys, "model", "predict", str(textonly), "--model", "rated")
    assert code == 2 and "missing column 'rating'" in err


def test_detect_command(env: Path, capsys: pytest.CaptureFixture[str], seed_model_dir: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.config import load_settings
    from monitor.db import session_scope, upgrade
    from models import Review

    monkeypatch.setenv("SHOPMON_MODEL_DIR", str(seed_model_dir))
    settings = load_settings()
    upgrade(settings)
    with session_scope(settings) as s:
        s.add(Review(platform="jd", external_id="1", text="给我转200块，不然这条差评不删，我还要去投诉。", rating=1))
        s.add(Review(platform="jd", external_id="2", text="快递太慢了，等了半个月。", rating=2))
    code, out, err = _run(capsys, "detect", "--json")
    assert code == 0, err
    counts = json.loads(out)
    assert counts["reviews_scored"] == 2 and counts["malicious"] == 1 and counts["cause"] == 1
    code, out, err = _run(capsys, "detect")
    assert code == 0 and out.startswith("scored 0 review(s)")
    code, out, err = _run(capsys, "detect", "--rescore")
    assert code == 0 and out.startswith("scored 2 review(s)") and "2 flags_updated" in out
