"""The large-file recipe (``clf=sgd``): float32 features, bounded passes, saved, loaded and explained."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from monitor.training.recipe import build_pipeline


def _texts() -> tuple[list[str], np.ndarray]:
    bad = [f"退款 {i} 太差了 质量很差 不会再买" for i in range(20)] + [f"terrible {i}, broke in a day" for i in range(10)]
    good = [f"很好 {i} 质量不错 物流很快" for i in range(20)] + [f"great {i}, works as described" for i in range(10)]
    return bad + good, np.array([1] * 30 + [0] * 30)


def test_sgd_recipe_trains_on_float32_and_separates() -> None:
    texts, y = _texts()
    model = build_pipeline(clf="sgd").fit(texts, y)
    assert model.named_steps["features"].transform(texts[:2]).dtype == np.float32
    proba = model.predict_proba(texts)[:, 1]
    assert proba[y == 1].min() > proba[y == 0].max()


def test_sgd_model_saves_loads_and_explains(tmp_path: Path) -> None:
    from monitor.detection.text_model import TextModel
    from monitor.registry import Registry

    texts, y = _texts()
    model = build_pipeline(clf="sgd").fit(texts, y)
    reg = Registry(tmp_path / "models")
    reg.save("malicious", model, metrics={}, params={"input_columns": ["text"]}, thresholds={"positive": 0.5},
             data_fingerprint="sha256:x")
    loaded, _ = reg.load("malicious")
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    reasons = TextModel("malicious", "v", loaded, {"positive": "1"}, {"positive": 0.5}).top_features(
        "质量很差 不会再买", class_index=1)
    assert reasons and all(r in "质量很差 不会再买" for r in reasons)


def test_sgd_recipe_fits_multiclass_targets() -> None:
    texts = ["late delivery again", "broken on arrival", "rude service staff"] * 6
    y = np.array(["late", "broken", "rude"] * 6)
    model = build_pipeline(clf="sgd", multiclass=True, char_min_df=1).fit(texts, y)
    assert list(model.predict(["late delivery again"])) == ["late"]
    assert np.allclose(model.predict_proba(texts).sum(axis=1), 1.0)


def test_hashed_model_explains_from_the_text(tmp_path: Path) -> None:
    """Hashed n-grams have no names: the reasons are the text's own n-grams, found by their hash
    columns, and each one is a column the featurizer really set for that text."""
    from monitor.detection.text_model import TextModel
    from monitor.registry import Registry

    texts, y = _texts()
    model = build_pipeline(clf="sgd", hashing=True, hash_bits=16).fit(texts, y)
    reg = Registry(tmp_path / "models")
    reg.save("malicious", model, metrics={}, params={"input_columns": ["text"]}, thresholds={"positive": 0.5},
             data_fingerprint="sha256:x")
    loaded, _ = reg.load("malicious")
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    tm = TextModel("malicious", "v", loaded, {"positive": "1"}, {"positive": 0.5})
    text = "质量很差 不会再买 terrible"
    columns = tm._hashed_grams(text)
    assert columns and set(columns) <= set(loaded.named_steps["features"].transform([text]).tocsr().indices)
    reasons = tm.top_features(text, class_index=1)
    assert reasons and all(r in text for r in reasons)
    assert tm.top_features("terrible", class_index=1) == ["terrible"]


def test_one_fit_training_picks_the_threshold_on_rows_it_did_not_see() -> None:
    """``folds=1``: a single fit (no folds multiplying the cost); the threshold and ``cv`` metrics
    come from 10 % of the training rows held back from it, the version's metrics from the held-out rows."""
    from monitor.paths import FIXTURES
    from monitor.training.fit import VALIDATION_SHARE, train
    from monitor.training.io import read_table

    table = read_table(FIXTURES / "seed" / "reviews.csv", label="malicious", positive="1")
    table.frame = table.frame[["text"]]
    told: list[tuple[int, int]] = []
    trained = train(table, folds=1, holdout=0.2, clf="sgd", hashing=True,
                    progress=lambda done, total, what: told.append((done, total)))
    assert {total for _, total in told} == {1}  # one fit announced, nothing else fitted
    n_fit = len(table.ids) - trained.params["holdout_rows"]
    assert trained.metrics["cv"]["n"] == math.ceil(n_fit * VALIDATION_SHARE)  # train_test_split rounds up
    assert trained.params["threshold_rows"] == trained.metrics["cv"]["n"]
    assert trained.params["fitted_rows"] == n_fit - trained.metrics["cv"]["n"]
    assert trained.metrics["n"] == trained.params["holdout_rows"]
    assert 0 < trained.threshold < 1 and trained.metrics["roc_auc"] > 0.9
