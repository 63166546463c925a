"""Model registry: one folder per version, a ``LIVE`` alias per model name, rollback history.

Layout under the registry root::

    <name>/<version>/model.skops     estimator, skops format (never pickle)
    <name>/<version>/meta.json       fingerprint, library versions, params, thresholds, sha256
    <name>/<version>/metrics.json
    <name>/<version>/MODEL_CARD.md
    <name>/<version>/holdout.jsonl   optional held-out rows the promotion gate re-scores
    <name>/<version>/SIGNATURE       HMAC of meta.json (see monitor.model_trust)
    <name>/LIVE                      the live version id (an alias, never a copy) and its HMAC
    <name>/HISTORY.jsonl             every change of the alias, so rollback can walk back

Loading checks the file's sha256 against meta.json, refuses any type that is not on the
exact allow-list, and checks the signatures of meta.json and of the alias, so a model folder
from elsewhere can be inspected without running its code and a rewritten hash is not enough.
A missing ``LIVE`` of a model that had versions, or a broken one, is a ``ModelTrustError``:
callers never replace it with a freshly trained model on their own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlmodel import select

from models import ModelVersion
from monitor.db import insert_missing
from monitor.model_trust import (
    ModelTrustError,
    RegistryError,
    is_trusted,
    load_key,
    refused_types,
    schema_types,
    sign,
    trust_type,
    verify,
)

__all__ = ["ModelTrustError", "PromotionRefused", "Registry", "RegistryError", "is_trusted", "trust_type"]

log = logging.getLogger(__name__)

MODEL_FILE = "model.skops"
META_FILE = "meta.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
HOLDOUT_FILE = "holdout.jsonl"
SIGNATURE_FILE = "SIGNATURE"
LIVE_FILE = "LIVE"
HISTORY_FILE = "HISTORY.jsonl"

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
VERSION_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}-\d{14}-[0-9a-f]{6}$")

LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops", "pandas")


class PromotionRefused(RegistryError):
    """The candidate is worse than the live version on the same held-out data."""

    exit_code = 3


def check_name(name: str) -> None:
    """Refuse a model name the registry cannot store (callers check before hours of training)."""
    if not NAME_PATTERN.match(name):
        raise RegistryError(f"invalid model name {name!r}: use lowercase letters, digits and underscores")


@dataclass
class VersionMeta:
    name: str
    version: str
    created_at: str
    data_fingerprint: str
    sha256: str
    params: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    holdout_fingerprint: str | None = None
    path: str = ""
    live: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint_rows(rows: Iterable[Any]) -> str:
    """A stable sha256 of training data (texts and labels), so a version names what it saw."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\n")
    return "sha256:" + h.hexdigest()


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            continue
    return out


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays end up in metrics; store them as plain numbers/lists.
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(obj: Any) -> Any:
    """NaN/inf -> None, recursively: strict JSON (and PostgreSQL's json type) has no NaN."""
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return _finite(obj.tolist())
    return obj


def _dumps(obj: Any) -> str:
    return json.dumps(_finite(obj), indent=2, ensure_ascii=False, sort_keys=True, default=_json_default) + "\n"


class Registry:
    """A directory of model versions. Pass ``session`` to mirror versions into ``ModelVersion``.

    ``key`` signs and verifies versions and aliases (default: ``SHOPMON_REGISTRY_KEY``, else a
    key file beside the folder; see ``monitor.model_trust``).
    """

    def __init__(self, root: Path, *, session: Any | None = None, key: str | None = None) -> None:
        self.root = Path(root)
        self.session = session
        self._configured_key = key
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = load_key(self.root, self._configured_key)
        return self._key

    # -- paths ---------------------------------------------------------------------------
    def _name_dir(self, name: str) -> Path:
        check_name(name)
        return self.root / name

    def _version_dir(self, name: str, version: str) -> Path:
        if not VERSION_PATTERN.match(version) or not version.startswith(name + "-"):
            raise RegistryError(f"{version!r} is not a version id of model {name!r}")
        return self._name_dir(name) / version

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name))

    def resolve(self, version: str) -> str:
        """The model name a version id belongs to (ids start with the name)."""
        if not VERSION_PATTERN.match(version):
            raise RegistryError(
                f"{version!r} is not a version id (expected NAME-YYYYMMDDHHMMSS-xxxxxx; see `shopmon model list`)"
            )
        name = version.rsplit("-", 2)[0]
        if not (self._name_dir(name) / version / META_FILE).is_file():
            raise RegistryError(f"no model version {version!r} in {self.root}")
        return name

    def bootstrap_lock(self, name: str):  # noqa: ANN201
        """Held while a fresh name's default model is trained: other processes (sharing the
        registry directory) wait, then find the version instead of training a second one."""
        return self._locked(name, ".bootstrap.lock")

    @contextmanager
    def _locked(self, name: str, lock_file: str = ".lock") -> Iterator[None]:
        folder = self._name_dir(name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"cannot create registry folder {folder}: {exc.strerror}") from None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: single writer assumed
            yield
            return
        with (folder / lock_file).open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- writing -------------------------------------------------------------------------
    def save(
        self,
        name: str,
        estimator: Any,
        *,
        metrics: dict[str, Any],
        params: dict[str, Any],
        thresholds: dict[str, float],
        data_fingerprint: str,
        card: str | None = None,
        holdout: Any | None = None,
    ) -> str:
        """Store a new version and return its id; the first version of a name goes live.

        ``holdout`` (a pandas DataFrame with a ``label`` column) is kept beside the model so
        the promotion gate can later score the live version on exactly the same rows.
        """
        import skops.io as sio

        with self._locked(name):
            folder = self._name_dir(name)
            # Only the very first version of a name goes live by itself; after a deleted alias
            # a new version stays a candidate and the missing alias remains an error.
            first = not self.ever_had_versions(name)
            now = datetime.now(UTC)
            version = f"{name}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
            tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{version}."))
            try:
                try:
                    with _packed_vocabularies(estimator):
                        sio.dump(estimator, tmp / MODEL_FILE)
                except Exception as exc:  # skops raises many types for unsupported objects
                    raise RegistryError(f"cannot save model {name!r} with skops: {exc}") from None
                # Refuse now what load() would refuse later, while the trainer can still fix it.
                refused = _refused(tmp / MODEL_FILE)
                if refused:
                    raise RegistryError(
                        f"cannot save model {name!r}: it contains types that would not be trusted on load: "
                        f"{', '.join(refused)} (add them to monitor.model_trust.ALLOWED_TYPES by exact name)"
                    )
                holdout_fp = None
                if holdout is not None:
                    holdout_fp = _write_holdout(tmp / HOLDOUT_FILE, holdout)
                meta = VersionMeta(
                    name=name,
                    version=version,
                    created_at=now.isoformat(),
                    data_fingerprint=data_fingerprint,
                    sha256=_sha256_file(tmp / MODEL_FILE),
                    params=_finite(params),
                    thresholds={str(k): float(v) for k, v in thresholds.items()},
                    metrics=_finite(metrics),
                    libraries=library_versions(),
                    holdout_fingerprint=holdout_fp,
                )
                stored = meta.as_dict()
                stored.pop("path")
                stored.pop("live")
                meta_text = _dumps(stored)
                (tmp / META_FILE).write_text(meta_text, encoding="utf-8")
                (tmp / SIGNATURE_FILE).write_text(
                    self._version_signature(name, version, meta_text.encode("utf-8")) + "\n", encoding="utf-8"
                )
                (tmp / METRICS_FILE).write_text(_dumps(meta.metrics), encoding="utf-8")
                (tmp / CARD_FILE).write_text(card or default_card(meta), encoding="utf-8")
                # The folder appears complete or not at all.
                os.replace(tmp, folder / version)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            if first:
                self._set_live(name, version, action="initial", previous=None)
        self._mirror(name)
        log.info("saved model %s (%s)", version, "live" if first else "candidate")
        return version

    def promote(
        self, name: str, version: str, *, force: bool = False, comparison: Any | None = None
    ) -> None:
        """Point the ``LIVE`` alias at ``version``.

        ``comparison`` is the promotion gate's verdict (``monitor.training.gate.Comparison``);
        a candidate it finds worse is refused unless ``force``.
        """
        self.verified_meta(name, version)  # exists, is readable and was signed with our key
        if comparison is not None and not comparison.passed and not force:
            raise PromotionRefused(
                f"{version} is worse than live {comparison.live_version}: {comparison.reason} "
                "(use --force to promote anyway)"
            )
        with self._locked(name):
            previous = self.alias_or_none(name)
            if previous == version:
                raise RegistryError(f"{version} is already the live version of {name!r}")
            self._set_live(
                name,
                version,
                action="promote",
                previous=previous,
                forced=bool(force and comparison is not None and not comparison.passed),
                comparison=comparison.as_dict() if comparison is not None else None,
            )
        self._mirror(name)

    def rollback(self, name: str) -> str:
        """Make the version that was live before the current one live again; returns it."""
        with self._locked(name):
            stack = self._live_stack(name)
            current = self.alias_or_none(name)
            if len(stack) < 2:
                raise RegistryError(f"model {name!r} has no earlier live version to roll back to")
            target = stack[-2]
            if not (self._name_dir(name) / target / META_FILE).is_file():
                raise RegistryError(f"cannot roll back {name!r}: earlier version {target} was deleted")
            self.verified_meta(name, target)
            self._set_live(name, target, action="rollback", previous=current)
        self._mirror(name)
        return target

    def _set_live(self, name: str, version: str, *, action: str, previous: str | None, **extra: Any) -> None:
        folder = self._name_dir(name)
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "action": action,
            "version": version,
            "previous": previous,
            **extra,
        }
        # History first: if we die between the two writes, the alias still names the old
        # version and the history merely records an attempt.
        with (folder / HISTORY_FILE).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False, default=_json_default) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        _write_atomic(folder / LIVE_FILE, f"{version}\n{self._alias_signature(name, version)}\n")

    def history(self, name: str) -> list[dict[str, Any]]:
        path = self._name_dir(name) / HISTORY_FILE
        if not path.is_file():
            return []
        out = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                raise RegistryError(f"{path} line {n} is not valid JSON") from None
        return out

    def _live_stack(self, name: str) -> list[str]:
        stack: list[str] = []
        for entry in self.history(name):
            if entry.get("action") in ("initial", "promote"):
                stack.append(entry["version"])
            elif entry.get("action") == "rollback" and stack:
                stack.pop()
        return stack

    # -- reading -------------------------------------------------------------------------
    def live_version(self, name: str) -> str | None:
        """The live version id; None when the alias was never set.

        Raises ``ModelTrustError`` when the alias is unreadable or its signature is wrong.
        """
        path = self._name_dir(name) / LIVE_FILE
        if not path.is_file():
            return None
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelTrustError(f"live alias {path} of model {name!r} is unreadable ({exc}); refusing to guess") from None
        version = lines[0].strip()
        signature = lines[1].strip() if len(lines) > 1 else ""
        if not version or not verify(self.key, signature, "live", name, version):
            raise ModelTrustError(
                f"live alias {path} of model {name!r} is broken (not signed with this registry's key); "
                f"choose the live version again with `shopmon model promote VERSION --force`"
            )
        return version

    def alias_target(self, name: str) -> str | None:
        """What the alias file names, signed or not (for re-signing by a person)."""
        path = self._name_dir(name) / LIVE_FILE
        try:
            return path.read_text(encoding="utf-8").split("\n")[0].strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    def alias_or_none(self, name: str) -> str | None:
        """The alias for display and history: a broken alias reads as none (load() still refuses)."""
        try:
            return self.live_version(name)
        except ModelTrustError:
            return None

    def ever_had_versions(self, name: str) -> bool:
        """True once a name had a version here or in the database mirror (then it must have a live alias)."""
        folder = self._name_dir(name)
        if (folder / HISTORY_FILE).exists() or (folder / LIVE_FILE).exists():
            return True
        if folder.is_dir() and any(c.is_dir() and VERSION_PATTERN.match(c.name) for c in folder.iterdir()):
            return True
        if self.session is not None:
            return self.session.exec(select(ModelVersion.id).where(ModelVersion.name == name).limit(1)).first() is not None
        return False

    def needs_bootstrap(self, name: str) -> bool:
        """True only on a fresh install: the name never had a version. A deleted alias is an error."""
        if self.live_version(name) is not None:
            return False
        if self.ever_had_versions(name):
            raise ModelTrustError(
                f"model {name!r} has versions but its live alias {self._name_dir(name) / LIVE_FILE} is missing; "
                "refusing to train a replacement. Choose one with `shopmon model promote VERSION --force`"
            )
        return True

    def _version_signature(self, name: str, version: str, meta_bytes: bytes) -> str:
        return sign(self.key, "version", name, version, meta_bytes)

    def _alias_signature(self, name: str, version: str) -> str:
        return sign(self.key, "live", name, version)

    def verified_meta(self, name: str, version: str) -> VersionMeta:
        """``meta()`` after checking the version's signature."""
        meta = self.meta(name, version)
        folder = Path(meta.path)
        try:
            signature = (folder / SIGNATURE_FILE).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            signature = ""
        if not verify(self.key, signature, "version", name, version, (folder / META_FILE).read_bytes()):
            raise ModelTrustError(
                f"model version {version} is not signed with this registry's key (meta.json or SIGNATURE "
                "rewritten, or saved with another key); refusing to load"
            )
        return meta

    def sign_version(self, name: str, version: str) -> None:
        """Sign an existing version after checking its hash and types (``shopmon model sign``).

        For versions saved before signing existed, or after changing SHOPMON_REGISTRY_KEY; a
        person runs it after deciding the folder is theirs. It never makes untrusted types loadable.
        """
        meta = self.meta(name, version)
        path = Path(meta.path) / MODEL_FILE
        self._check_file(path, meta)
        folder = Path(meta.path)
        _write_atomic(
            folder / SIGNATURE_FILE,
            self._version_signature(name, version, (folder / META_FILE).read_bytes()) + "\n",
        )

    def sign_alias(self, name: str, version: str) -> None:
        with self._locked(name):
            self.verified_meta(name, version)
            _write_atomic(self._name_dir(name) / LIVE_FILE, f"{version}\n{self._alias_signature(name, version)}\n")

    def meta(self, name: str, version: str) -> VersionMeta:
        folder = self._version_dir(name, version)
        path = folder / META_FILE
        if not path.is_file():
            raise RegistryError(f"no model version {version!r} of {name!r} in {self.root}")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            meta = VersionMeta(**raw)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
            raise RegistryError(f"{path} is corrupt (not the metadata this registry writes)") from None
        meta.path = str(folder)
        meta.live = self.alias_or_none(name) == version
        return meta

    def versions(self, name: str | None = None) -> list[VersionMeta]:
        names = [name] if name is not None else self.names()
        out: list[VersionMeta] = []
        for n in names:
            folder = self._name_dir(n)
            if not folder.is_dir():
                continue
            for child in folder.iterdir():
                if child.is_dir() and VERSION_PATTERN.match(child.name) and (child / META_FILE).is_file():
                    out.append(self.meta(n, child.name))
        return sorted(out, key=lambda m: (m.name, m.created_at, m.version))

    def load(self, name: str, version: str | None = None) -> tuple[Any, VersionMeta]:
        """Load a version (default: the live one) after checking its hash and its types."""
        import skops.io as sio

        if version is None:
            version = self.live_version(name)
            if version is None:
                self.needs_bootstrap(name)  # raises when the alias was deleted
                raise RegistryError(f"model {name!r} has no live version in {self.root} (train one first)")
        meta = self.meta(name, version)
        path = Path(meta.path) / MODEL_FILE
        untrusted = self._check_file(path, meta)
        self.verified_meta(name, version)
        try:
            estimator = sio.load(path, trusted=list(untrusted))
        except Exception as exc:
            raise RegistryError(f"cannot load model file {path}: {exc}") from None
        _unpack_vocabularies(estimator)
        _warn_library_drift(meta)
        return estimator, meta

    def _check_file(self, path: Path, meta: VersionMeta) -> list[str]:
        """Hash, then types (read from the schema, nothing built); returns skops' untrusted list."""
        import skops.io as sio

        if not path.is_file():
            raise RegistryError(f"model file missing: {path}")
        if _sha256_file(path) != meta.sha256:
            raise ModelTrustError(
                f"model file {path} does not match its recorded sha256 (tampered or corrupted); refusing to load"
            )
        try:
            untrusted = sio.get_untrusted_types(file=path)
            refused = _refused(path)
        except Exception as exc:
            raise RegistryError(f"model file {path} is not a readable skops file: {exc}") from None
        if refused:
            raise ModelTrustError(
                f"model file {path} contains types that are not trusted: {', '.join(refused)}; refusing to load"
            )
        return list(untrusted)

    def holdout(self, name: str, version: str) -> Any | None:
        """The held-out rows saved with a version (pandas DataFrame), or None."""
        import pandas as pd

        path = self._version_dir(name, version) / HOLDOUT_FILE
        if not path.is_file():
            return None
        meta = self.verified_meta(name, version)
        if meta.holdout_fingerprint and "sha256:" + _sha256_file(path) != meta.holdout_fingerprint:
            raise ModelTrustError(f"held-out data {path} does not match its signed fingerprint; refusing to use it")
        try:
            return pd.read_json(path, lines=True, dtype=False)
        except ValueError as exc:
            raise RegistryError(f"held-out data {path} is unreadable: {exc}") from None

    def card(self, name: str, version: str) -> str:
        path = self._version_dir(name, version) / CARD_FILE
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    # -- database mirror -----------------------------------------------------------------
    def _mirror(self, name: str) -> None:
        if self.session is not None:
            sync_to_db(self, self.session, name=name)


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


def _refused(path: Path) -> list[str]:
    """Types not on the allow-list, from our schema walk and from skops' own audit."""
    import skops.io as sio

    return sorted(set(refused_types(schema_types(path))) | set(refused_types(set(sio.get_untrusted_types(file=path)))))


def _write_holdout(path: Path, frame: Any) -> str:
    if "label" not in getattr(frame, "columns", ()):
        raise RegistryError("held-out data must be a DataFrame with a 'label' column")
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return "sha256:" + _sha256_file(path)


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


def default_card(meta: VersionMeta) -> str:
    lines = [
        f"# Model card: {meta.name} ({meta.version})",
        "",
        *([f"**WARNING:** {meta.params['threshold_warning']}", ""] if meta.params.get("threshold_warning") else []),
        f"- Created: {meta.created_at}",
        f"- Training data: `{meta.data_fingerprint}`",
        f"- Held-out data: `{meta.holdout_fingerprint or 'not stored'}`",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in sorted(meta.libraries.items())),
        "",
        "## Parameters",
        "",
    ]
    lines += [f"- `{k}`: {v}" for k, v in sorted(meta.params.items())] or ["- (none recorded)"]
    lines += ["", "## Thresholds", ""]
    lines += [f"- `{k}`: {v:.4f}" for k, v in sorted(meta.thresholds.items())] or ["- (none recorded)"]
    lines += ["", "## Metrics (held-out)", ""]
    flat = {k: v for k, v in sorted(meta.metrics.items()) if isinstance(v, int | float)}
    lines += [f"- `{k}`: {v:.4f}" for k, v in flat.items()] or ["- (none recorded)"]
    lines += [
        "",
        "## Intended use",
        "",
        "Ranks reviews for an analyst to check; it does not decide on its own. Scores near the",
        "threshold are uncertain and are what `shopmon labels queue` asks people to label first.",
        "",
    ]
    return "\n".join(lines)


def registry_for(settings: Any, *, session: Any | None = None) -> Registry:
    """The registry configured in settings (``model_dir`` or ``<data_dir>/models``)."""
    key = settings.registry_key.get_secret_value() if settings.registry_key is not None else None
    return Registry(settings.models_path, session=session, key=key)


def sync_to_db(registry: Registry, session: Any, *, name: str | None = None) -> int:
    """Mirror registry versions into ``ModelVersion`` rows (insert new, refresh ``live``)."""
    metas = registry.versions(name)
    stmt = select(ModelVersion)
    if name is not None:
        stmt = stmt.where(ModelVersion.name == name)
    existing = {(r.name, r.version): r for r in session.exec(stmt)}
    changed = 0
    for m in metas:
        row = existing.get((m.name, m.version))
        if row is None:
            # ON CONFLICT: two processes mirroring the same new version write one row.
            changed += insert_missing(session, ModelVersion(
                name=m.name,
                version=m.version,
                path=m.path,
                live=m.live,
                data_fingerprint=m.data_fingerprint,
                metrics=json.loads(json.dumps(_finite(m.metrics), default=_json_default)),
                created_at=datetime.fromisoformat(m.created_at),
            ), ("name", "version")) is not None
        elif row.live != m.live:
            row.live = m.live
            session.add(row)
            changed += 1
    session.flush()
    return changed
