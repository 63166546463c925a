"""Model registry: one folder per version, a ``LIVE`` alias per model name, rollback history.

Layout under the registry root::

    <name>/<version>/model.skops     estimator, skops format (never pickle)
    <name>/<version>/meta.json       fingerprint, library versions, params, thresholds, sha256
    <name>/<version>/metrics.json
    <name>/<version>/MODEL_CARD.md
    <name>/<version>/holdout.jsonl   optional held-out rows the promotion gate re-scores
    <name>/LIVE                      the live version id (an alias, never a copy)
    <name>/HISTORY.jsonl             every change of the alias, so rollback can walk back

Loading checks the file's sha256 against meta.json and refuses any type that is not on the
allow-list, so a model folder from elsewhere can be inspected without running its code.
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

from monitor.errors import ShopmonError

log = logging.getLogger(__name__)

MODEL_FILE = "model.skops"
META_FILE = "meta.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
HOLDOUT_FILE = "holdout.jsonl"
LIVE_FILE = "LIVE"
HISTORY_FILE = "HISTORY.jsonl"

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
VERSION_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}-\d{14}-[0-9a-f]{6}$")

# Types a model may contain beyond what skops itself trusts (most of scikit-learn, numpy's
# ufuncs and dtypes): *classes* from these libraries, minus modules that can run code or touch
# files. Functions are never accepted by prefix: a FunctionTransformer holding numpy.save or
# numpy.loadtxt would write or read files when the model runs. Project code can allow one
# more name exactly with trust_type().
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.")
DENIED_PREFIXES = (
    "numpy.f2py",
    "numpy.distutils",
    "numpy.testing",
    "numpy.lib.npyio",
    "numpy.ctypeslib",
    "numpy.lib.format",
    "scipy._lib._testutils",
    "scipy.io",
    "sklearn.utils._testing",
    "sklearn.externals",
    "sklearn.datasets",
)
_EXTRA_TRUSTED: set[str] = set()

LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops", "pandas")


class RegistryError(ShopmonError):
    """A model version that cannot be saved, found, trusted or loaded."""

    exit_code = 1


class PromotionRefused(RegistryError):
    """The candidate is worse than the live version on the same held-out data."""

    exit_code = 3


def check_name(name: str) -> None:
    """Refuse a model name the registry cannot store (callers check before hours of training)."""
    if not NAME_PATTERN.match(name):
        raise RegistryError(f"invalid model name {name!r}: use lowercase letters, digits and underscores")


def trust_type(qualified_name: str) -> None:
    """Allow one project type (e.g. a custom transformer) in loaded models, by exact name."""
    _EXTRA_TRUSTED.add(qualified_name)


def is_trusted(qualified_name: str) -> bool:
    if qualified_name in _EXTRA_TRUSTED:
        return True
    if any(qualified_name == d or qualified_name.startswith(d + ".") for d in DENIED_PREFIXES):
        return False
    if not qualified_name.startswith(TRUSTED_PREFIXES):
        return False
    return isinstance(_resolve(qualified_name), type)


def _resolve(qualified_name: str) -> Any:
    """The object a dotted name refers to in an installed library, or None."""
    import importlib

    parts = qualified_name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


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
    """A directory of model versions. Pass ``session`` to mirror versions into ``ModelVersion``."""

    def __init__(self, root: Path, *, session: Any | None = None) -> None:
        self.root = Path(root)
        self.session = session

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

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
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
        with (folder / ".lock").open("a") as fh:
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
                refused = sorted(
                    t for t in sio.get_untrusted_types(file=tmp / MODEL_FILE) if not is_trusted(t)
                )
                if refused:
                    raise RegistryError(
                        f"cannot save model {name!r}: it contains types that would not be trusted on load: "
                        f"{', '.join(refused)} (use scikit-learn/numpy/scipy parts, or trust_type() them)"
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
                (tmp / META_FILE).write_text(_dumps(stored), encoding="utf-8")
                (tmp / METRICS_FILE).write_text(_dumps(meta.metrics), encoding="utf-8")
                (tmp / CARD_FILE).write_text(card or default_card(meta), encoding="utf-8")
                # The folder appears complete or not at all.
                os.replace(tmp, folder / version)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            first = self.live_version(name) is None
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
        self.meta(name, version)  # exists and is readable
        if comparison is not None and not comparison.passed and not force:
            raise PromotionRefused(
                f"{version} is worse than live {comparison.live_version}: {comparison.reason} "
                "(use --force to promote anyway)"
            )
        with self._locked(name):
            previous = self.live_version(name)
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
            current = self.live_version(name)
            if len(stack) < 2:
                raise RegistryError(f"model {name!r} has no earlier live version to roll back to")
            target = stack[-2]
            if not (self._name_dir(name) / target / META_FILE).is_file():
                raise RegistryError(f"cannot roll back {name!r}: earlier version {target} was deleted")
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
        _write_atomic(folder / LIVE_FILE, version + "\n")

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
        path = self._name_dir(name) / LIVE_FILE
        if not path.is_file():
            return None
        version = path.read_text(encoding="utf-8").strip()
        return version or None

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
        meta.live = self.live_version(name) == version
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
                raise RegistryError(f"model {name!r} has no live version in {self.root} (train one first)")
        meta = self.meta(name, version)
        path = Path(meta.path) / MODEL_FILE
        if not path.is_file():
            raise RegistryError(f"model file missing: {path}")
        actual = _sha256_file(path)
        if actual != meta.sha256:
            raise RegistryError(
                f"model file {path} does not match its recorded sha256 (tampered or corrupted); refusing to load"
            )
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:
            raise RegistryError(f"model file {path} is not a readable skops file: {exc}") from None
        refused = sorted(t for t in untrusted if not is_trusted(t))
        if refused:
            raise RegistryError(
                f"model file {path} contains types that are not trusted: {', '.join(refused)}; refusing to load"
            )
        try:
            estimator = sio.load(path, trusted=list(untrusted))
        except Exception as exc:
            raise RegistryError(f"cannot load model file {path}: {exc}") from None
        _unpack_vocabularies(estimator)
        _warn_library_drift(meta)
        return estimator, meta

    def holdout(self, name: str, version: str) -> Any | None:
        """The held-out rows saved with a version (pandas DataFrame), or None."""
        import pandas as pd

        path = self._version_dir(name, version) / HOLDOUT_FILE
        if not path.is_file():
            return None
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
    return Registry(settings.models_path, session=session)


def sync_to_db(registry: Registry, session: Any, *, name: str | None = None) -> int:
    """Mirror registry versions into ``ModelVersion`` rows (insert new, refresh ``live``)."""
    from sqlmodel import select

    from models import ModelVersion

    metas = registry.versions(name)
    stmt = select(ModelVersion)
    if name is not None:
        stmt = stmt.where(ModelVersion.name == name)
    existing = {(r.name, r.version): r for r in session.exec(stmt)}
    changed = 0
    for m in metas:
        row = existing.get((m.name, m.version))
        if row is None:
            session.add(
                ModelVersion(
                    name=m.name,
                    version=m.version,
                    path=m.path,
                    live=m.live,
                    data_fingerprint=m.data_fingerprint,
                    metrics=json.loads(json.dumps(_finite(m.metrics), default=_json_default)),
                    created_at=datetime.fromisoformat(m.created_at),
                )
            )
            changed += 1
        elif row.live != m.live:
            row.live = m.live
            session.add(row)
            changed += 1
    session.flush()
    return changed
