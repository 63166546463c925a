"""The character n-gram perplexity feature (monitor.training.perplexity): what it computes, that it
is counted on genuine rows only, and that `--perplexity` models train, save, load and predict."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.training.perplexity import PERPLEXITY_NAMES, CharPerplexity
from monitor.training.recipe import build_pipeline

WORDS = ("the", "room", "was", "clean", "and", "staff", "were", "kind", "breakfast", "good", "bed", "small",
         "but", "quiet", "we", "stayed", "two", "nights", "near", "station")


def _reviews(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, rng.integers(8, 20))) + "." for _ in range(n)]


def test_text_from_the_genuine_distribution_is_less_perplexing_than_its_characters_shuffled() -> None:
    rng = np.random.default_rng(0)
    genuine = _reviews(rng, 200)
    # The other class: characters the genuine rows never show; counted, they would make the
    # shuffled texts below less surprising.
    fake = ["".join(rng.permutation(list(t))) for t in _reviews(rng, 200)]
    y = np.array([0] * 200 + [1] * 200)
    step = CharPerplexity().fit(genuine + fake, y)
    new = _reviews(rng, 20)
    shuffled = ["".join(rng.permutation(list(t))) for t in new]
    out = step.transform(new + shuffled)
    assert out.shape == (40, len(PERPLEXITY_NAMES)) and np.isfinite(out).all()
    mean, surprise = out[:, 0], out[:, 2]
    # Lower perplexity = higher mean log-probability per character, for every pair.
    assert (mean[:20] > mean[20:]).all()
    assert (surprise[:20] < surprise[20:]).all()
    # Only the genuine rows were counted: the same as a model fitted on them alone.
    alone = CharPerplexity().fit(genuine, np.zeros(200, dtype=int)).transform(new + shuffled)
    assert np.allclose(out, alone)
    # A perplexity, not a probability of the whole text: a review twice as long scores the same.
    twice = step.transform([new[0] + " " + new[0]])[0, 0]
    assert twice == pytest.approx(mean[0], abs=0.3)


def test_probabilities_of_the_model_sum_to_one() -> None:
    """Interpolated absolute discounting is a distribution: over every next character (each seen one,
    the end of text, and one unseen), the probabilities after any history sum to 1."""
    texts = ["abca abcb", "cab bac", "aabbcc", "abc."]
    step = CharPerplexity(order=3).fit(texts)
    alphabet = sorted(set("".join(texts)))
    for history in ("ab", "ca", "x", "", "c."):
        probe = [history + ch for ch in alphabet]
        model = {n: getattr(step, f"{n}_") for n in ("gram_keys", "gram_counts", "ctx_keys", "ctx_totals",
                                                      "ctx_distinct")}
        total = 0.0
        for text in probe:
            logp, _ = step.log_probabilities(model, [text])
            total += float(np.exp(logp[len(text) - 1]))  # the character after the history
        logp, _ = step.log_probabilities(model, [history])
        total += float(np.exp(logp[len(history)]))  # the end of the text
        unseen = step.log_probabilities(model, [history + "\u4e00"])[0][len(history)]
        total += float(np.exp(unseen))
        assert total == pytest.approx(1.0, abs=1e-9), history


def test_training_rows_are_scored_by_models_without_their_fold() -> None:
    rng = np.random.default_rng(1)
    texts = _reviews(rng, 30) + ["".join(rng.permutation(list(t))) for t in _reviews(rng, 10)]
    y = np.array([0] * 30 + [1] * 10)
    step = CharPerplexity(folds=5)
    in_fit = step.fit_transform(texts, y)
    part = np.arange(40) % 5
    for f in (0, 3):
        others = CharPerplexity().fit([t for t, g, p in zip(texts, y, part) if g == 0 and p != f])
        held = np.flatnonzero(part == f)
        assert np.allclose(in_fit[held], others.transform([texts[i] for i in held]))
    # New texts: the model of every genuine row.
    assert np.allclose(step.transform(texts), CharPerplexity().fit(texts[:30]).transform(texts))


def test_perplexity_option_adds_the_scaled_features() -> None:
    model = build_pipeline(perplexity=True, char_min_df=1, word_min_df=1)
    rng = np.random.default_rng(2)
    texts = _reviews(rng, 20) + ["".join(rng.permutation(list(t))) for t in _reviews(rng, 20)]
    model.fit(texts, np.array([0] * 20 + [1] * 20))
    names = set(model.named_steps["features"].get_feature_names_out())
    assert {f"perplexity__{n}" for n in PERPLEXITY_NAMES} <= names
    assert not any(n.startswith("perplexity") for n in build_pipeline().fit(texts, [0] * 20 + [1] * 20)
                   .named_steps["features"].get_feature_names_out())
