"""What a registry folder holds and the small helpers that write it.

Layout under the registry root::

    <name>/<version>/model.skops     estimator, skops format (never pickle)
    <name>/<version>/meta.json       fingerprint, library versions, params, thresholds, sha256
    <name>/<version>/metrics.json
    <name>/<version>/MODEL_CARD.md
    <name>/<version>/holdout.jsonl   optional held-out rows the promotion gate re-scores
    <name>/<version>/SIGNATURE       HMAC of meta.json (see monitor.model_trust)
    <name>/LIVE                      the live version id (an alias, never a copy) and its HMAC
    <name>/HISTORY.jsonl             every change of the alias, so rollback can walk back
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from monitor.model_trust import RegistryError

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
    return dict(_installed_versions())


@cache
def _installed_versions() -> dict[str, str]:
    # Once per process: each metadata look-up scans the environment's package folders (about
    # 0.02 CPU s), and every model loaded asks again; what this process imported does not change.
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            continue
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def json_default(value: Any) -> Any:
    # numpy scalars and arrays end up in metrics; store them as plain numbers/lists.
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def finite(obj: Any) -> Any:
    """NaN/inf -> None, recursively: strict JSON (and PostgreSQL's json type) has no NaN."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return finite(obj.tolist())
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(finite(obj), indent=2, ensure_ascii=False, sort_keys=True, default=json_default) + "\n"


def write_holdout(path: Path, frame: Any) -> str:
    if "label" not in getattr(frame, "columns", ()):
        raise RegistryError("held-out data must be a DataFrame with a 'label' column")
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return "sha256:" + sha256_file(path)
