"""NB-SVM weights, the writing-style profile and the tuned C: what they compute, and that models using them
save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from monitor.paths import FIXTURES
from monitor.training.fit import train
from monitor.training.io import read_table
from monitor.training.recipe import build_pipeline
from monitor.training.style import STYLE_NAMES, TEXT_END, TEXT_START, NBScale, StyleFeatures, TextEdges
from monitor.training.tuning import TUNE_CS, TunedLogisticRegression, logreg


def test_nb_scale_is_the_log_count_ratio() -> None:
    X = sp.csr_matrix(np.array([[2, 0, 1], [1, 0, 1], [0, 3, 1]], dtype=float))
    y = np.array([1, 1, 0])
    step = NBScale(alpha=1.0).fit(X, y)
    p, q = np.array([4.0, 1.0, 3.0]), np.array([1.0, 4.0, 2.0])
    assert np.allclose(step.ratio_, np.log((p / p.sum()) / (q / q.sum())))
    assert np.allclose(step.transform(X).toarray(), X.toarray() * step.ratio_)
    # Not a yes/no target: features pass unchanged.
    assert np.allclose(NBScale().fit(X, np.array(["a", "b", "c"])).transform(X).toarray(), X.toarray())


def test_style_profile_reads_how_a_text_is_written() -> None:
    genuine = ["the room was small but clean, and the staff fixed the heater in ten minutes."] * 5
    fake = ["AMAZING!!! Best hotel ever!!! I love love love it!!! Best best best!!!"] * 5
    step = StyleFeatures().fit(genuine + fake, np.array([0] * 5 + [1] * 5))
    out = step.transform([genuine[0], fake[0], ""])
    assert out.shape == (3, len(STYLE_NAMES)) and np.isfinite(out).all()
    col = {n: i for i, n in enumerate(STYLE_NAMES)}
    assert out[1, col["exclamation_rate"]] > out[0, col["exclamation_rate"]]
    assert out[1, col["capital_rate"]] > out[0, col["capital_rate"]]
    assert out[1, col["repeated_bigram_share"]] > out[0, col["repeated_bigram_share"]]
    assert out[1, col["first_person_share"]] > out[0, col["first_person_share"]]
    # Character 3-grams of the genuine rows are likelier under the genuine-review model.
    assert out[0, col["genuine_char3_loglik"]] > out[1, col["genuine_char3_loglik"]]


def test_model_with_nb_and_style_saves_loads_and_explains(tmp_path: Path) -> None:
    from monitor.registry import Registry

    texts = [f"great great hotel {i} amazing!!!" for i in range(20)] + [f"room {i} was fine, bed soft." for i in range(20)]
    y = np.array([1] * 20 + [0] * 20)
    model = build_pipeline(nb=True, style=True).fit(texts, y)
    reg = Registry(tmp_path / "models")
    reg.save("deceptive", model, metrics={}, params={"input_columns": ["text"]}, thresholds={"positive": 0.5},
             data_fingerprint="sha256:x")
    loaded, _ = reg.load("deceptive")
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts))

    from monitor.detection.text_model import TextModel

    tm = TextModel("deceptive", "v", loaded, {"positive": "1"}, {"positive": 0.5})
    reasons = tm.top_features("great great hotel 99 amazing!!!", class_index=1)
    assert reasons and all("__" not in r for r in reasons)
    assert not set(reasons) & set(STYLE_NAMES)


def test_edges_let_the_model_see_how_a_review_ends(tmp_path: Path) -> None:
    """Finished texts against cut-off ones: the end mark joins the n-grams (".", end), the model
    saves and loads, and the marks never show up in a reason."""
    from monitor.detection.text_model import TextModel
    from monitor.registry import Registry

    assert TextEdges().fit_transform(["ab"]) == [f"{TEXT_START}ab{TEXT_END}"]
    words = ["the battery lasts", "shipping was quick", "the colour is right", "it fits my desk"]
    texts = [f"{w} and {v}" for w in words for v in words if w != v]
    finished, cut = [t + "." for t in texts], [t.rsplit(" ", 1)[0] for t in texts]
    y = np.array([0] * len(texts) + [1] * len(texts))
    model = build_pipeline(edges=True, char_min_df=1, word_min_df=1).fit(finished + cut, y)
    assert f"word__. {TEXT_END}" in set(model.named_steps["features"].get_feature_names_out())
    reg = Registry(tmp_path / "models")
    reg.save("deceptive", model, metrics={}, params={"input_columns": ["text"]}, thresholds={"positive": 0.5},
             data_fingerprint="sha256:x")
    loaded, _ = reg.load("deceptive")
    proba = loaded.predict_proba(["the lid is tight and the box was.", "the lid is tight and the box"])[:, 1]
    assert proba[1] > 0.5 > proba[0]
    reasons = TextModel("deceptive", "v", loaded, {"positive": "1"}, {"positive": 0.5}).top_features(
        cut[0], class_index=1)
    assert reasons and not any(TEXT_START in r or TEXT_END in r for r in reasons)


@pytest.mark.parametrize("params", [{"nb": True}, {"style": True}, {"edges": True}, {"tune_C": True},
                                    {"perplexity": True}])
def test_recipes_fit_multiclass_targets(params: dict) -> None:
    texts = ["late delivery again", "broken on arrival", "rude service staff"] * 6
    y = np.array(["late", "broken", "rude"] * 6)
    model = build_pipeline(multiclass=True, char_min_df=1, **params).fit(texts, y)
    assert list(model.predict(["late delivery again"])) == ["late"]


@pytest.mark.parametrize("options, stored", [
    (["--nb", "--style"], {"nb": True, "style": True}),
    # the large-file recipe (tests/detection_text/test_detection_text_sgd.py)
    (["--clf", "sgd", "--hashing"], {"clf": "sgd", "hashing": True}),
    (["--edges"], {"edges": True}),
    (["--tune-c"], {"tune_C": True}),
    # the language-model feature (tests/detection_text/test_detection_text_perplexity.py)
    (["--edges", "--perplexity"], {"edges": True, "perplexity": True}),
])
def test_cli_trains_with_recipe_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], options: list[str], stored: dict) -> None:
    from monitor.cli import main
    from monitor.paths import FIXTURES

    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    seed = FIXTURES / "seed" / "deceptive.csv"
    assert main(["model", "train", str(seed), "--name", "deceptive", "--label", "deceptive", "--folds", "3",
                 *options, "--no-report"]) == 0
    version = capsys.readouterr().out.strip().splitlines()[-1]
    from monitor.config import load_settings
    from monitor.registry import registry_for

    _, meta = registry_for(load_settings(data_dir=tmp_path / "data")).load("deceptive", version)
    assert {k: meta.params[k] for k in stored} == stored
    assert main(["model", "predict", str(seed), "--model", "deceptive"]) == 0


def test_training_rows_likelihood_leaves_the_row_itself_out() -> None:
    rng = np.random.default_rng(0)
    alphabet = list("abcdefghijklmnopqrstuvwxyz ")
    texts = ["".join(rng.choice(alphabet, 80)) for _ in range(30)]
    y = np.array([0] * 20 + [1] * 10)
    step = StyleFeatures()
    in_fit = step.fit_transform(texts, y)[:, -1]
    # Genuine row i scored by a model fitted on the other genuine rows only.
    for i in (0, 7):
        others = StyleFeatures().fit([t for j, t in enumerate(texts) if j != i], np.delete(y, i))
        assert in_fit[i] == pytest.approx(others.transform([texts[i]])[0, -1], rel=1e-5)
    # Fake training rows and new texts are scored by the full genuine model.
    assert np.allclose(in_fit[20:], step.transform(texts[20:])[:, -1])


def test_tuned_logreg_picks_c_on_its_training_rows_only() -> None:
    """The label is the difference of two columns that share a large noise: a C so small that the
    weights only follow each column's own correlation with the label cannot cancel the noise, a usable
    C can. The inner cross-validation picks the usable one; the fitted model is the plain logistic
    regression at that C on every row."""
    rng = np.random.default_rng(0)
    signal, noise = rng.normal(size=120), rng.normal(scale=5.0, size=120)
    X = sp.csr_matrix(np.column_stack([signal + noise, noise]))
    y = (signal + 0.3 * rng.normal(size=120) > 0).astype(int)
    tuned = TunedLogisticRegression(Cs=(1e-6, 1.0)).fit(X, y)
    accuracy = tuned.choice()["cv_accuracy"]
    assert tuned.C_ == 1.0 and accuracy["1"] > 0.85 > 0.6 > accuracy["1e-06"]
    plain = logreg(1.0).fit(X, y)
    # liblinear's dual solver visits rows in a random order: equal up to its tolerance.
    assert np.allclose(tuned.predict_proba(X), plain.predict_proba(X), atol=1e-4)
    assert np.allclose(tuned.coef_, plain.coef_, atol=1e-3)
    # Too few rows of a class for any inner fold: the middle candidate, no cross-validation.
    assert TunedLogisticRegression(Cs=(1.0, 3.0, 9.0)).fit(X[:3], [0, 1, 1]).C_ == 3.0


def test_tune_c_reaches_the_classifier_and_the_version() -> None:
    """--tune-c (tune_C) builds the tuned classifier, binary and one-vs-rest, and train() records its C."""
    assert isinstance(build_pipeline(tune_C=True).named_steps["clf"], TunedLogisticRegression)
    one_vs_rest = build_pipeline(tune_C=True, multiclass=True).named_steps["clf"]
    assert isinstance(one_vs_rest.estimator, TunedLogisticRegression)
    assert not isinstance(build_pipeline().named_steps["clf"], TunedLogisticRegression)
    table = read_table(FIXTURES / "seed" / "deceptive.csv", label="deceptive")
    trained = train(table, folds=3, tune_C=True)
    assert trained.params["tune_C"] is True and trained.params["tuned_C"]["C"] in TUNE_CS
    assert "tuned_C" not in train(table, folds=3).params
