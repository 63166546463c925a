"""What a model file may contain, and signatures a writer of the model folder cannot forge.

Two independent checks guard every load:

- **Types.** Every type named anywhere in a skops file's schema must be on ``ALLOWED_TYPES``,
  the exact classes shopmon's own pipelines are built from. There are no prefixes: a
  library holds classes with side effects (``numpy.lib._datasource.DataSource`` deletes
  a directory when collected), and a list of exceptions can never be complete.
- **Signatures.** Each version's ``meta.json`` (which records the model file's sha256, its
  thresholds and held-out data fingerprint) and each ``LIVE`` alias are signed with
  HMAC-SHA256. The key comes from ``SHOPMON_REGISTRY_KEY``; without it, a key file created
  beside (not inside) the model folder, readable by its owner only. Someone who can rewrite
  files in the model folder can rewrite a hash, but not a signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import zipfile
from pathlib import Path
from typing import Any

from monitor.errors import ShopmonError

KEY_ENV = "SHOPMON_REGISTRY_KEY"
SIGNATURE_PREFIX = "hmac-sha256:"

# Found by saving every model shopmon trains (text models in both classifier settings, with and
# without numeric columns, the professional-reviewer and image models) and listing the types
# their schemas name. A new estimator in a pipeline must be added here, by exact name.
ALLOWED_TYPES = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.slice",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float64",
        "numpy.float32",
        "numpy.int64",
        "numpy.int32",
        "numpy.bool",
        "numpy.str_",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.feature_extraction.text.HashingVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._stochastic_gradient.SGDClassifier",
        # the SGD classifier's log loss (a stateless Cython object scikit-learn stores on the model)
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn.multiclass.OneVsRestClassifier",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._label.LabelBinarizer",
        "sklearn.svm._classes.LinearSVC",
        # shopmon's own Pipeline step: reviewer/listing context derived from ordinary columns
        "monitor.training.context.ContextFeatures",
        # NB-SVM log-count-ratio weights and the writing-style profile (monitor.training.style)
        "monitor.training.style.NBScale",
        "monitor.training.style.StyleFeatures",
        "monitor.training.style.TextEdges",
        # character n-gram perplexity under the genuine reviews (monitor.training.perplexity)
        "monitor.training.perplexity.CharPerplexity",
        # logistic regression with C chosen on its training rows (monitor.training.tuning)
        "monitor.training.tuning.TunedLogisticRegression",
    }
)
_EXTRA_ALLOWED: set[str] = set()


class RegistryError(ShopmonError):
    """A model version that cannot be saved, found, trusted or loaded."""

    exit_code = 1


class ModelTrustError(RegistryError):
    """A model that must not be used: unknown types, a bad signature, a missing or broken alias.

    Detection stops on it (and tells ops) instead of falling back or retraining silently.
    """

    exit_code = 1


def trust_type(qualified_name: str) -> None:
    """Allow one more type (e.g. a project transformer) in loaded models, by exact name."""
    _EXTRA_ALLOWED.add(qualified_name)


def is_trusted(qualified_name: str) -> bool:
    return qualified_name in ALLOWED_TYPES or qualified_name in _EXTRA_ALLOWED


def _walk(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        if "__loader__" in node or "__class__" in node:
            out.add(f"{node.get('__module__')}.{node.get('__class__')}")
        for value in node.values():
            _walk(value, out)
    elif isinstance(node, list):
        for value in node:
            _walk(value, out)


def schema_types(path: Path) -> set[str]:
    """Every type a skops file names, read from its JSON schema (nothing is imported or built)."""
    try:
        with zipfile.ZipFile(path) as zf:
            schema = json.loads(zf.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    out: set[str] = set()
    _walk(schema, out)
    return out


def refused_types(types: set[str]) -> list[str]:
    return sorted(t for t in types if not is_trusted(t))


# -- signatures ---------------------------------------------------------------------------------
def local_key_path(root: Path) -> Path:
    """Where the fallback key lives: beside the model folder, so the folder alone cannot forge."""
    root = Path(root).resolve()
    return root.parent / f".{root.name}.key"


def load_key(root: Path, configured: str | None = None) -> bytes:
    """The signing key: ``configured`` (from settings), else the environment, else the key file."""
    secret = configured or os.environ.get(KEY_ENV)
    if secret:
        return secret.encode("utf-8")
    path = local_key_path(root)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ModelTrustError(f"cannot read the registry key {path}: {exc.strerror}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def sign(key: bytes, *parts: bytes | str) -> str:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        # Length-prefixed so no two different part lists sign the same bytes.
        mac.update(len(data).to_bytes(8, "big"))
        mac.update(data)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(key: bytes, signature: str | None, *parts: bytes | str) -> bool:
    return bool(signature) and hmac.compare_digest(sign(key, *parts), signature.strip())
