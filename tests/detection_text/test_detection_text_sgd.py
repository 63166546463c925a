"""The large-file recipe (``clf=sgd``): float32 features, bounded passes, saved, loaded and explained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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


def test_cli_trains_with_sgd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main
    from monitor.config import load_settings
    from monitor.paths import FIXTURES
    from monitor.registry import registry_for

    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    seed = FIXTURES / "seed" / "reviews.csv"
    assert main(["model", "train", str(seed), "--name", "malicious", "--label", "malicious", "--folds", "3",
                 "--clf", "sgd", "--no-report"]) == 0
    version = capsys.readouterr().out.strip().splitlines()[-1]
    _, meta = registry_for(load_settings(data_dir=tmp_path / "data")).load("malicious", version)
    assert meta.params["clf"] == "sgd"


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
