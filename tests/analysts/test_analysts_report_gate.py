"""Evaluation report and promotion gate."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from monitor.errors import DataError
from monitor.registry import PromotionRefused, Registry, RegistryError
from monitor.training.gate import gate
from monitor.training.heldout import threshold_for_precision
from monitor.training.report import SECTIONS, write_report

BAD = ["pay me or I post more", "refund or I report you", "I will ruin your shop", "give money or else",
       "threaten to expose you", "pay or one star forever"]
GOOD = ["arrived late, box dented", "colour differs from photo", "missing one screw", "rude service reply",
        "quality is poor", "size runs small"]


def _frame(k: int = 1) -> pd.DataFrame:
    return pd.DataFrame({"text": (BAD + GOOD) * k, "label": [1] * len(BAD) * k + [0] * len(GOOD) * k})


def _section_imgs(page: str, key: str) -> list[str]:
    m = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert m, f"section {key} missing"
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', m.group(1))


def test_binary_report_contains_every_plot_and_opens_offline(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.array([0] * 40 + [1] * 20)
    scores = np.clip(y * 0.3 + rng.random(60) * 0.7, 0, 1)
    texts = [f"review <b>{i}</b>" for i in range(60)]
    path = write_report(tmp_path / "r", title="malicious v2", y_true=y, scores=scores, threshold=0.5,
                        feature_importance=[("退款", 1.5), ("great", -0.7)], texts=texts)
    page = path.read_text(encoding="utf-8")
    for key, _ in SECTIONS:
        if key != "most-wrong":
            imgs = _section_imgs(page, key)
            assert imgs and base64.b64decode(imgs[0])[:8] == b"\x89PNG\r\n\x1a\n", key
    assert "退款" in page  # feature names also listed as text
    # No network: nothing is fetched from elsewhere.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    # Review text is escaped, never injected as HTML.
    assert "<b>" not in page.split("<body>")[1].split('id="most-wrong"')[1]
    assert "&lt;b&gt;" in page
    assert "average_precision" in page and "roc_auc" in page


def test_multiclass_report_has_per_class_thresholds(tmp_path: Path) -> None:
    classes = ["late_delivery", "quality", "service_attitude"]
    y = np.array(classes * 10)
    rng = np.random.default_rng(1)
    probs = rng.random((30, 3))
    probs[np.arange(30), np.arange(30) % 3] += 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    page = write_report(tmp_path, title="cause", y_true=y, scores=probs, threshold={}, classes=classes,
                        precision_target=0.8).read_text()
    thr = re.search(r'<section id="thresholds">(.*?)</section>', page, re.S).group(1)
    for c in classes:
        assert f"<td>{c}</td>" in thr
    assert _section_imgs(page, "confusion-matrix")
    assert "macro_f1" in page


def test_report_rejects_mismatched_inputs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="3 labels but 2 scores"):
        write_report(tmp_path, title="x", y_true=[0, 1, 1], scores=[0.1, 0.2], threshold=0.5)


def test_threshold_for_precision_reaches_target() -> None:
    y = [0, 0, 1, 0, 1, 1, 1]
    s = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.9]
    assert threshold_for_precision(y, s, 1.0) == pytest.approx(0.6)
    assert threshold_for_precision(y, s, 0.5) == pytest.approx(0.1)


def _save(reg: Registry, model, holdout: pd.DataFrame | None) -> str:
    return reg.save("malicious", model, metrics={}, params={"input_columns": ["text"]},
                    thresholds={"1": 0.5}, data_fingerprint="sha256:x", holdout=holdout)


def test_gate_refuses_a_worse_candidate_and_passes_a_better_one(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    train = _frame()
    good = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10)).fit(train.text, train.label)
    # Trained on flipped labels: ranks the held-out rows backwards.
    bad = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10)).fit(train.text, 1 - train.label)
    holdout = _frame()
    v_good = _save(reg, good, holdout)
    v_bad = _save(reg, bad, holdout)

    verdict = gate(reg, "malicious", v_bad)
    assert not verdict.passed
    assert verdict.metric == "average_precision"
    assert verdict.candidate["average_precision"] < verdict.live["average_precision"]
    table = verdict.table()
    assert f"candidate {v_bad}" in table and f"live {v_good}" in table and "REFUSED" in table
    # Worse on every resample of the same rows: the whole interval is below zero.
    lo, hi = verdict.interval
    assert lo <= hi < 0 and "95% paired bootstrap interval" in table
    with pytest.raises(PromotionRefused, match="worse than live"):
        reg.promote("malicious", v_bad, comparison=verdict)
    assert reg.live_version("malicious") == v_good

    # Now the better model is the candidate against the bad one.
    reg.promote("malicious", v_bad, comparison=verdict, force=True)
    verdict2 = gate(reg, "malicious", v_good, frame=holdout, data_name="file.csv")
    assert verdict2.passed and "file.csv (12 rows)" in verdict2.table()
    reg.promote("malicious", v_good, comparison=verdict2)
    assert reg.live_version("malicious") == v_good


def test_gate_without_common_data_asks_for_a_file(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    train = _frame()
    m = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(train.text, train.label)
    _save(reg, m, None)
    v2 = _save(reg, m, None)
    with pytest.raises(RegistryError, match="pass --data FILE"):
        gate(reg, "malicious", v2)
    with pytest.raises(RegistryError, match="do not match model classes"):
        gate(reg, "malicious", v2, frame=pd.DataFrame({"text": ["a"], "label": ["maybe"]}))


def test_gate_scores_a_live_model_with_numeric_columns_on_text_only_rows(tmp_path: Path) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    train = _frame()
    train["rating"] = [1.0] * 6 + [3.0] * 6
    live = Pipeline([
        ("f", ColumnTransformer([("t", TfidfVectorizer(), "text"), ("n", SimpleImputer(), ["rating"])])),
        ("clf", LogisticRegression()),
    ]).fit(train[["text", "rating"]], train.label)
    reg = Registry(tmp_path)
    reg.save("malicious", live, metrics={}, thresholds={"positive": 0.5}, data_fingerprint="x",
             params={"input_columns": ["text", "rating"], "numeric_columns": ["rating"]})
    text_only = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10)).fit(train.text, train.label)
    v2 = _save(reg, text_only, _frame())
    verdict = gate(reg, "malicious", v2)
    assert verdict.live["n"] == 12 and "average_precision" in verdict.live
