"""Model files in skops format: saving, checking what they contain, loading.

Loading checks the file's sha256 against meta.json and refuses any type that is not on the exact
allow-list (read from the file's schema, nothing built), so a model folder from elsewhere can be
inspected without running its code. Text vectorizers' vocabularies are packed while saving (below).
skops, scikit-learn and numpy are imported where used: a command that never touches a model starts
without them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from monitor.model_trust import ModelTrustError, RegistryError, refused_types, schema_types
from monitor.registry.layout import VersionMeta, library_versions, sha256_file

log = logging.getLogger(__name__)


def dump_estimator(estimator: Any, path: Path, name: str) -> None:
    """Write ``estimator`` to ``path``; refuse now what loading would refuse later, while the
    trainer can still fix it."""
    import skops.io as sio

    try:
        with _packed_vocabularies(estimator):
            sio.dump(estimator, path)
    except Exception as exc:  # skops raises many types for unsupported objects
        raise RegistryError(f"cannot save model {name!r} with skops: {exc}") from None
    refused = refused_in(path)
    if refused:
        raise RegistryError(
            f"cannot save model {name!r}: it contains types that would not be trusted on load: "
            f"{', '.join(refused)} (add them to monitor.model_trust.ALLOWED_TYPES by exact name)"
        )


def check_file(path: Path, meta: VersionMeta) -> list[str]:
    """Hash, then types (read from the schema, nothing built); returns skops' untrusted list."""
    if not path.is_file():
        raise RegistryError(f"model file missing: {path}")
    if sha256_file(path) != meta.sha256:
        raise ModelTrustError(
            f"model file {path} does not match its recorded sha256 (tampered or corrupted); refusing to load"
        )
    return list(_checked_types(meta.sha256, path))


# What this process learnt from a model file is kept by the sha256 its bytes were just verified to
# have (and its path): skops' list of the types in it (a walk of its schema) and the estimator built
# from it. A worker or scheduler runs the pipeline after every crawl with the same live versions;
# walking and building five models again each time cost more than scoring a crawl's reviews.
# Callers only predict with the estimators, never fit or change them, so one object per file
# serves every caller. The hash and the signature are still checked on every load; a refusal
# raises, so it is never kept. 16 each: retrained versions replace live ones.
@lru_cache(maxsize=16)
def _checked_types(sha256: str, path: Path) -> tuple[str, ...]:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
        refused = refused_in(path, untrusted)
    except Exception as exc:
        raise RegistryError(f"model file {path} is not a readable skops file: {exc}") from None
    if refused:
        raise ModelTrustError(
            f"model file {path} contains types that are not trusted: {', '.join(refused)}; refusing to load"
        )
    return tuple(untrusted)


def load_estimator(path: Path, meta: VersionMeta, untrusted: list[str]) -> Any:
    """Build the estimator of a checked file (``check_file``'s list is what skops may build);
    the same bytes, built earlier in this process, are not built again."""
    estimator = _built(meta.sha256, path, tuple(untrusted))
    _warn_library_drift(meta)
    return estimator


@lru_cache(maxsize=16)
def _built(sha256: str, path: Path, trusted: tuple[str, ...]) -> Any:
    import skops.io as sio

    try:
        estimator = sio.load(path, trusted=list(trusted))
    except Exception as exc:
        raise RegistryError(f"cannot load model file {path}: {exc}") from None
    _unpack_vocabularies(estimator)
    return estimator


def refused_in(path: Path, untrusted: Iterable[str] | None = None) -> list[str]:
    """Types not on the allow-list, from our schema walk and from skops' own audit (``untrusted``:
    its list for this file when the caller already has it; reading it again costs a schema walk)."""
    import skops.io as sio

    if untrusted is None:
        untrusted = sio.get_untrusted_types(file=path)
    return sorted(set(refused_types(schema_types(path))) | set(refused_types(set(untrusted))))


def _warn_library_drift(meta: VersionMeta) -> None:
    saved = meta.libraries.get("scikit-learn")
    now = library_versions().get("scikit-learn")
    if saved and now and saved.split(".")[:2] != now.split(".")[:2]:
        log.warning(
            "model %s was trained with scikit-learn %s, running %s: retrain if predictions look off",
            meta.version,
            saved,
            now,
        )


VOCAB_MARKER = "__shopmon_packed_vocabulary__"


def _estimators(obj: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every estimator object reachable from ``obj`` (pipelines, unions, column transformers...)."""
    from sklearn.base import BaseEstimator

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, BaseEstimator):
        yield obj
        # Vocabularies hold hundreds of thousands of terms and never an estimator.
        children: Iterable[Any] = (v for k, v in vars(obj).items() if k not in ("vocabulary_", "stop_words_"))
    elif isinstance(obj, list | tuple):
        children = obj
    elif isinstance(obj, dict):
        children = obj.values()
    else:
        return
    for child in children:
        if isinstance(child, BaseEstimator | list | tuple | dict):
            yield from _estimators(child, seen)


def _pack(vocabulary: dict[str, int]) -> dict[str, Any]:
    """Format 2: all terms as one UTF-8 string and their *character* offsets (fast to unpack)."""
    import numpy as np

    terms: list[str] = [""] * len(vocabulary)
    for term, index in vocabulary.items():  # indices are 0..n-1: placing beats sorting
        terms[index] = term
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, terms), dtype=np.int64, count=len(terms)), out=offsets[1:])
    utf8 = np.frombuffer("".join(terms).encode("utf-8"), dtype=np.uint8).copy()
    return {VOCAB_MARKER: 2, "utf8": utf8, "offsets": offsets}


def _unpack(packed: dict[str, Any]) -> dict[str, int]:
    off = packed["offsets"].tolist()
    if packed[VOCAB_MARKER] == 1:  # byte offsets (first format)
        data = packed["utf8"].tobytes()
        return {data[a:b].decode("utf-8"): i for i, (a, b) in enumerate(zip(off, off[1:]))}
    text = packed["utf8"].tobytes().decode("utf-8")
    return dict(zip(map(text.__getitem__, map(slice, off[:-1], off[1:])), range(len(off) - 1)))


@contextmanager
def _packed_vocabularies(estimator: Any) -> Iterator[None]:
    """Store text vectorizers' vocabularies as two arrays while dumping.

    skops writes a dict node per vocabulary entry: 330 000 character n-grams took 30 s and
    140 MiB to save and 38 s to load. Packed, they are two numpy arrays (UTF-8 bytes and
    offsets); ``_unpack_vocabularies`` restores the dict after loading. The caller's object
    is restored as soon as the dump is done.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    swapped = []
    try:
        for est in _estimators(estimator):
            vocab = getattr(est, "vocabulary_", None)
            if isinstance(est, CountVectorizer) and isinstance(vocab, dict):
                est.vocabulary_ = _pack(vocab)
                swapped.append((est, vocab))
        yield
    finally:
        for est, vocab in swapped:
            est.vocabulary_ = vocab


def _unpack_vocabularies(estimator: Any) -> None:
    for est in _estimators(estimator):
        vocab = getattr(est, "vocabulary_", None)
        if isinstance(vocab, dict) and VOCAB_MARKER in vocab:
            est.vocabulary_ = _unpack(vocab)
