"""The scoring-time TF-IDF transform must give scikit-learn's matrix exactly, for every
vectorizer setting models are trained with, and defer to scikit-learn for the rest."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from monitor.detection import vectorize
from monitor.training.recipe import WORD_PATTERN, build_pipeline

TRAIN = [
    "质量太差了，不退款就一直差评", "物流很快 包装完好", "Great quality, fast shipping!!",
    "refund me or the bad review stays", "颜色和图片不一样，有色差", "box arrived crushed, missing parts",
    "客服态度很好，会回购", "Runs small. Would not buy again.", "质量很好 质量很好 质量很好",
]
DOCS = [
    *TRAIN,
    "", " ", "  a  b\t\tc\n\n d ", "😀😀😀", "Mixed 中文 and English!! 质量", "x" * 40,
    "unseen words only", "ÉCOLE école Straße", "质量太差了，不退款就一直差评。 REFUND ME",
]


def _same(a, b) -> None:  # noqa: ANN001
    a, b = a.tocsr(), b.tocsr()
    assert a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)  # same operations in the same order: bit-identical


@pytest.mark.parametrize("params", [
    {"analyzer": "char", "ngram_range": (1, 5), "min_df": 2, "sublinear_tf": True, "lowercase": False},
    {"analyzer": "char", "ngram_range": (2, 4), "lowercase": True},
    {"analyzer": "word", "ngram_range": (1, 3), "token_pattern": WORD_PATTERN, "sublinear_tf": True,
     "lowercase": False},
    {"analyzer": "word", "ngram_range": (2, 2), "binary": True, "norm": None, "use_idf": False},
    {"analyzer": "word", "ngram_range": (1, 1), "strip_accents": "unicode"},
])
def test_tfidf_transform_equals_sklearn(params) -> None:  # noqa: ANN001
    vec = TfidfVectorizer(**params).fit(TRAIN)
    _same(vec.transform(DOCS), vectorize.tfidf_transform(vec, DOCS))


def test_default_featurizer_union_equals_sklearn() -> None:
    features = build_pipeline().named_steps["features"].fit(TRAIN)
    _same(features.transform(DOCS), vectorize.transform(features, DOCS))


def test_unsupported_settings_go_through_sklearn(monkeypatch) -> None:  # noqa: ANN001
    calls = []
    original = TfidfVectorizer.transform

    def spy(self, docs):  # noqa: ANN001, ANN202
        calls.append(self.analyzer)
        return original(self, docs)

    monkeypatch.setattr(TfidfVectorizer, "transform", spy)
    for vec in (TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)), TfidfVectorizer(stop_words="english"),
                TfidfVectorizer(analyzer=str.split)):
        vec.fit(TRAIN)
        expected = original(vec, DOCS)
        _same(expected, vectorize.tfidf_transform(vec, DOCS))
    assert len(calls) == 3
    weighted = FeatureUnion([("w", TfidfVectorizer())], transformer_weights={"w": 2.0}).fit(TRAIN)
    _same(weighted.transform(DOCS), vectorize.transform(weighted, DOCS))


def test_bad_input_fails_as_sklearn_does() -> None:
    vec = TfidfVectorizer().fit(TRAIN)
    for bad in ([], "one string, not a list"):
        with pytest.raises(ValueError) as ours:
            vectorize.tfidf_transform(vec, bad)
        with pytest.raises(ValueError) as theirs:
            vec.transform(bad)
        assert str(ours.value) == str(theirs.value)
