"""The training recipe: which features and which classifier a review model is built from.

One scikit-learn Pipeline per model: a ColumnTransformer sends ``text`` to word n-grams + character
n-grams (characters carry Chinese, which has no spaces; words carry English phrasing) and the numeric
columns to impute + scale; a linear classifier on top gives probabilities and readable weights.
Measured against bigram linear SVM and single-vectorizer variants on op_spam (docs/detection.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from monitor.errors import DataError
from monitor.training.context import CONTEXT_COLUMNS, NOT_NUMBERS, ContextFeatures
from monitor.training.io import TEXT, Table, require_labels
from monitor.training.perplexity import CharPerplexity
from monitor.training.style import NBScale, StyleFeatures, TextEdges
from monitor.training.tuning import TunedLogisticRegression, logreg

# Words: letters/digits runs plus single punctuation marks ("!!!" and "$" are signals).
WORD_PATTERN = r"(?u)\b\w+\b|[^\w\s]"
DEFAULT_PARAMS: dict[str, Any] = {
    "word_ngrams": (1, 3),
    "char_ngrams": (1, 5),
    "char_min_df": 2,
    # A word n-gram seen once says nothing to the next file; on Chinese, where "words" are whole
    # clauses, dropping them cut the word vocabulary 28x (20,000 reviews: 523,815 -> 18,528 terms)
    # and raised held-out AP 0.959 -> 0.972; op_spam/Salminen moved -0.005..+0.003 (docs/detection.md).
    "word_min_df": 2,
    "lowercase": False,
    "clf": "logreg",
    "multiclass": False,
    "C": 30.0,
    # Pick C (logreg) from monitor.training.tuning.TUNE_CS by a 5-fold CV of the training rows (25 more
    # fits per model). With edges, op_spam positive 0.9137 -> 0.9175, negative 0.8912 -> 0.8888, Salminen
    # 0.9423 -> 0.9438: a few reviews either way (docs/detection.md); off by default, too slow for large files.
    "tune_C": False,
    "svm_C": 0.5,
    "sgd_alpha": 1e-6,
    "sgd_epochs": 10,
    "nb": False,
    "style": False,
    # Mark where each review starts and ends (monitor.training.style.TextEdges): Salminen dev 5-fold
    # 0.9327 -> 0.9423, op_spam unchanged (docs/detection.md); off by default, the seed and
    # Chinese models were not measured with it.
    "edges": False,
    # Add how surprising each text is to a character 5-gram model of the genuine training reviews
    # (monitor.training.perplexity.CharPerplexity); off by default (docs/detection.md).
    "perplexity": False,
    "hashing": False,
    "hash_bits": 20,
    # Hashed (large-file) models count character 1-3-grams: 1-5 would hold about 2x the nonzeros of
    # the whole matrix at 500k rows, and 1-3 scored the same held-out AP on Chinese (docs/analysts.md).
    "hash_char_ngrams": (1, 3),
}
CLASSIFIERS = ("logreg", "svm", "sgd")


def check_options(table: Table, *, holdout: float = 0.0, clf: str = "logreg", folds: int = 5) -> None:
    """Everything about the options that can be wrong, checked before any fitting starts."""
    require_labels(table)
    if clf not in CLASSIFIERS:
        raise DataError(f"--clf {clf!r}: use {', '.join(CLASSIFIERS[:-1])} or {CLASSIFIERS[-1]}")
    if holdout and not 0 < holdout < 0.9:
        raise DataError(f"--holdout must be between 0 and 0.9, got {holdout}")
    if folds < 1:
        raise DataError(f"--folds must be at least 1, got {folds}")
    if folds == 1 and not holdout:
        # One fit: its threshold comes from rows held back from it, so the version needs its own
        # held-out rows to be measured on.
        raise DataError("--folds 1 (one fit, threshold on held-back rows) needs --holdout above 0")
    if not table.binary and len(table.classes) == 2:
        a, b = table.classes
        raise DataError(f"{table.path}: label column {table.label_column!r} has two values ({a}, {b}): "
                        f"pass --positive with the one to detect (e.g. --positive {b})")


def _classifier(p: dict[str, Any]) -> Any:
    if p["clf"] == "svm":
        # A linear SVM separates better on long English reviews; sigmoid calibration gives it the
        # probabilities that thresholds and reports need.
        return CalibratedClassifierCV(LinearSVC(C=p["svm_C"], class_weight="balanced"), cv=3)
    if p["clf"] == "logreg":
        # Multi-class runs it one-vs-rest (liblinear is binary).
        clf: Any = TunedLogisticRegression() if p["tune_C"] else logreg(p["C"])
        return OneVsRestClassifier(clf) if p.get("multiclass") else clf
    if p["clf"] == "sgd":
        # Large files: a fixed number of passes over the rows bounds the time (liblinear's dual
        # solver at C=30 needs more iterations the more near-duplicate rows there are), and it
        # trains on float32 matrices as they are, where liblinear makes a float64 copy. Log loss
        # keeps probabilities; multi-class is one-vs-rest inside SGDClassifier. tol=None: exactly
        # sgd_epochs passes, no early stop and no convergence warning for stopping there.
        return SGDClassifier(loss="log_loss", alpha=p["sgd_alpha"], max_iter=p["sgd_epochs"], tol=None,
                             class_weight="balanced", random_state=0)
    raise DataError(f"unknown classifier {p['clf']!r}: use {', '.join(CLASSIFIERS)}")


def _ngrams(kind: str, p: dict[str, Any], dtype: Any) -> Any:
    """TF-IDF n-grams of one kind (word or char), from a vocabulary or hashed."""
    word = kind == "word"
    ngrams = p["word_ngrams"] if word else p["hash_char_ngrams" if p["hashing"] else "char_ngrams"]
    args: dict[str, Any] = {"ngram_range": tuple(ngrams), "lowercase": p["lowercase"], "dtype": dtype}
    args |= {"token_pattern": WORD_PATTERN} if word else {"analyzer": "char"}
    if p["hashing"]:
        # Large files: no vocabulary is built. On Chinese, where word "tokens" are whole clauses,
        # nearly every review adds new word n-grams, and counting them before min_df drops them
        # held most of a 500k-row fit's memory. Same sublinear TF-IDF, n-grams hashed into
        # 2**hash_bits columns per kind (reasons are read back from the text, see TextModel).
        return Pipeline([("hash", HashingVectorizer(n_features=2 ** p["hash_bits"], alternate_sign=False, norm=None,
                                                    **args)),
                         ("tfidf", TfidfTransformer(sublinear_tf=True))])
    return TfidfVectorizer(sublinear_tf=True, min_df=p["word_min_df" if word else "char_min_df"],
                           max_features=p.get("max_features"), **args)


def build_pipeline(numeric: list[str] | None = None, **overrides: Any) -> Pipeline:
    """Text-only models take a list of strings; with numeric/context columns they take a DataFrame."""
    p = {**DEFAULT_PARAMS, **overrides}
    # SGD reads float32 matrices without a copy (half the memory); liblinear would copy them to
    # float64, so the other classifiers keep float64.
    dtype = np.float32 if p["clf"] == "sgd" else np.float64
    text: Any = FeatureUnion([("word", _ngrams("word", p, dtype)), ("char", _ngrams("char", p, dtype))])
    if p["edges"]:
        text = Pipeline([("edges", TextEdges()), ("ngrams", text)])
    if p["nb"]:
        text = Pipeline([("ngrams", text), ("nb", NBScale())])
    if p["style"]:
        text = FeatureUnion([("ngrams", text),
                             ("style", Pipeline([("profile", StyleFeatures()), ("scale", StandardScaler())]))])
    if p["perplexity"]:
        # Raw texts (not TextEdges' marked ones): the language model pads each text itself.
        text = FeatureUnion([("ngrams", text),
                             ("perplexity", Pipeline([("lm", CharPerplexity()), ("scale", StandardScaler())]))])
    clf = _classifier(p)
    if not numeric:
        return Pipeline([("features", text), ("clf", clf)])
    # Numbers are log-scaled and the reviewer/listing context derived (monitor.training.context)
    # inside the Pipeline, so predicting on new rows computes what training did.
    derive = ContextFeatures([c for c in numeric if c not in NOT_NUMBERS], [c for c in numeric if c in CONTEXT_COLUMNS])
    parts: list[tuple[str, Any, Any]] = [
        ("text", text, TEXT),
        ("num", Pipeline([("derive", derive),
                          ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                          ("scale", StandardScaler())]), list(numeric)),
    ]
    return Pipeline([("features", ColumnTransformer(parts)), ("clf", clf)])
