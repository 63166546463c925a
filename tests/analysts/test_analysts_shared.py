"""The analysts' loop on real third-party reviews (../shared; skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from monitor.labels import read_labeled_file
from monitor.registry import Registry
from monitor.training.gate import gate

pytestmark = pytest.mark.shared


def test_gate_on_real_chinese_reviews_prefers_the_model_trained_on_more_data(shared: Path, tmp_path: Path) -> None:
    frame = read_labeled_file(shared / "data" / "online_shopping_10_cats.csv")
    assert len(frame) > 60_000 and set(frame["label"]) == {"0", "1"}
    sample = frame.sample(n=2200, random_state=0).reset_index(drop=True)
    sample["label"] = sample["label"].astype(int)
    big, small, held = sample.iloc[:1000], sample.iloc[1000:1030], sample.iloc[1200:]

    def fit(rows):  # noqa: ANN001, ANN202
        return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 2)), LogisticRegression(C=4)).fit(
            rows["text"].tolist(), rows["label"].to_numpy()
        )

    reg = Registry(tmp_path)
    kw = dict(metrics={}, params={"input_columns": ["text"]}, thresholds={"positive": 0.5}, data_fingerprint="x")
    v_small = reg.save("sentiment", fit(small), holdout=held[["text", "label"]], **kw)
    v_big = reg.save("sentiment", fit(big), holdout=held[["text", "label"]], **kw)

    better = gate(reg, "sentiment", v_big)
    assert better.passed and better.candidate["average_precision"] > better.live["average_precision"]
    assert better.interval is not None and better.interval[0] > 0  # clearly better, not noise
    reg.promote("sentiment", v_big, comparison=better)
    worse = gate(reg, "sentiment", v_small)
    assert not worse.passed and "1000 rows" in worse.table()
