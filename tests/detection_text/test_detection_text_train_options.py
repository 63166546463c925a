"""`shopmon model train|cv` refuse bad options before fitting; the report keeps evaluations apart."""

from __future__ import annotations

import csv
import html
import math
import re
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.paths import FIXTURES

SEED = FIXTURES / "seed" / "reviews.csv"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def no_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any fit makes the test fail: the options must be refused before training starts."""
    import monitor.training.fit as fit
    import monitor.training.folds as folds

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("fitting started before the options were checked")

    monkeypatch.setattr(fit, "out_of_fold", refuse)
    monkeypatch.setattr(fit, "build_pipeline", refuse)
    monkeypatch.setattr(folds, "out_of_fold", refuse)
    monkeypatch.setattr(folds, "build_pipeline", refuse)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _two_word_labels(path: Path) -> Path:
    rows = _rows(SEED)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "kind"])
        for r in rows:
            w.writerow([r["text"], "extortion" if r["malicious"] == "1" else "ordinary"])
    return path


@pytest.mark.parametrize("args, message", [
    (["--name", "malicious", "--label", "kind"], "pass --positive with the one to detect"),
    (["--name", "Bad Name!", "--label", "kind", "--positive", "extortion"], "invalid model name"),
    (["--name", "malicious", "--label", "kind", "--positive", "extortion", "--clf", "forest"], "--clf 'forest'"),
    (["--name", "malicious", "--label", "kind", "--positive", "extortion", "--holdout", "0.95"], "--holdout"),
    (["--name", "malicious", "--label", "kind", "--positive", "extortion", "--folds", "1", "--holdout", "0"],
     "--folds 1 (one fit, threshold on held-back rows) needs --holdout above 0"),
])
def test_train_refuses_bad_options_before_fitting(
    env: Path, capsys: pytest.CaptureFixture[str], no_fitting: None, args: list[str], message: str
) -> None:
    data = _two_word_labels(env / "two.csv")
    code = main(["model", "train", str(data), *args])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err
    assert not (env / "data" / "models").exists() or not any((env / "data" / "models").rglob("model.skops"))


def test_cv_asks_for_positive_before_fitting(env: Path, capsys: pytest.CaptureFixture[str], no_fitting: None) -> None:
    data = _two_word_labels(env / "two.csv")
    assert main(["model", "cv", str(data), "--label", "kind"]) == 2
    assert "pass --positive" in capsys.readouterr().err


def _section(page: str, key: str) -> tuple[str, dict[str, float]]:
    m = re.search(rf'<section id="{key}"><h2>(.*?)</h2>(.*?)</section>', page, re.S)
    assert m, f"section {key} missing"
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", m.group(2))
    return html.unescape(m.group(1)), {k: float(v) for k, v in cells}


def test_report_has_one_table_per_evaluation_consistent_with_counts(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _two_word_labels(env / "two.csv")
    code = main(["model", "train", str(data), "--name", "malicious", "--label", "kind", "--positive", "extortion",
                 "--folds", "3", "--holdout", "0.25"])
    out, err = capsys.readouterr()
    assert code == 0, err
    version = out.strip().splitlines()[-1]
    page = (env / "data" / "models" / "malicious" / version / "report.html").read_text(encoding="utf-8")
    held_name, held = _section(page, "evaluation")
    cv_name, cv = _section(page, "evaluation-1")
    assert held_name.startswith("Held-out evaluation") and cv_name.startswith("Cross-validation (3-fold")
    for table in (held, cv):
        tp, fp = table["true positives"], table["false positives"]
        fn, tn = table["false negatives"], table["true negatives"]
        assert tp + fp + fn + tn == table["n"]
        assert table["precision"] == pytest.approx(tp / (tp + fp) if tp + fp else 0.0, abs=1e-4)
        assert table["recall"] == pytest.approx(tp / (tp + fn), abs=1e-4)
    # The held-out table is about the held-out rows only, the CV one about the training rows.
    assert held["n"] + cv["n"] == len(list(csv.DictReader(data.open(encoding="utf-8"))))


def _low_recall_file(path: Path) -> Path:
    """Only 8 of 100 positives are recognisable; the rest look exactly like the negatives."""
    import random

    rng = random.Random(0)
    words = [f"w{i}" for i in range(40)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for i in range(200):
            text = " ".join(rng.choices(words, k=12))
            positive = i % 2 == 0
            if positive and i < 16:
                text += " transfer money now or more bad reviews"
            w.writerow([text, int(positive)])
    return path


def test_threshold_with_recall_below_the_floor_is_refused_or_registered_with_warning(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _low_recall_file(env / "low.csv")
    code = main(["model", "train", str(data), "--name", "malicious", "--label", "label", "--folds", "4"])
    err = capsys.readouterr().err
    assert code == 2
    assert "not registered" in err and "detection.min_recall 0.20" in err and "--allow-low-recall" in err
    assert not list((env / "data" / "models").rglob("model.skops"))

    code = main(["model", "train", str(data), "--name", "malicious", "--label", "label", "--folds", "4",
                 "--allow-low-recall", "--no-report"])
    out, err = capsys.readouterr()
    assert code == 0, err
    version = out.strip().splitlines()[-1]
    assert "WARNING" in err and "recall" in err
    assert main(["model", "list"]) == 0
    listing = capsys.readouterr().out
    line = next(ln for ln in listing.splitlines() if version in ln and not ln.startswith("WARNING"))
    assert "WARNING: low recall" in line
    assert f"WARNING {version}: precision target 0.90 is reached only at recall" in listing
    assert main(["model", "show", version]) == 0
    shown = capsys.readouterr().out
    assert shown.count("WARNING") == 2  # the line under the id and the model card's


def test_seed_model_passes_the_recall_floor(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["model", "train", str(SEED), "--name", "malicious", "--label", "malicious", "--folds", "3",
                 "--no-report"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "WARNING" not in err
    assert main(["model", "list"]) == 0
    assert "WARNING" not in capsys.readouterr().out


def test_train_and_cv_report_every_fit(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _two_word_labels(env / "two.csv")
    assert main(["model", "train", str(data), "--name", "malicious", "--label", "kind", "--positive", "extortion",
                 "--folds", "3", "--no-report"]) == 0
    out, err = capsys.readouterr()
    n = len(_rows(data))
    assert f"trained malicious on {n - math.ceil(n * 0.2)} rows; held-out 20% of rows" in out
    for step in ("[0/4] fold 1/3: fitting on", "[2/4] fold 3/3", "[3/4] final model: fitting on", "[4/4] done"):
        assert step in err
    assert main(["model", "cv", str(data), "--label", "kind", "--positive", "extortion", "--folds", "3"]) == 0
    err = capsys.readouterr().err
    assert "cross-validating: [0/3] fold 1/3" in err and "cross-validating: [3/3] done" in err


def test_one_fit_training_says_which_rows_it_fitted_and_which_set_the_threshold(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--folds 1``: of the rows not held out, 10 % are held back from the one fit to pick the
    threshold; the message counts them apart from the rows the model was fitted on."""
    n = len(_rows(SEED))
    held_out = math.ceil(n * 0.2)  # train_test_split rounds the test share up
    threshold_rows = math.ceil((n - held_out) * 0.1)
    fitted = n - held_out - threshold_rows
    assert main(["model", "train", str(SEED), "--name", "malicious", "--label", "malicious", "--positive", "1",
                 "--folds", "1", "--holdout", "0.2", "--clf", "sgd", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert (f"trained malicious on {fitted} rows, threshold picked on {threshold_rows} rows held back from that "
            f"fit; held-out 20% of rows ({held_out}): accuracy ") in out
