"""Names, their folders and their ``LIVE`` alias: reading, signing and moving it, with history.

The alias names the live version (never a copy) and carries an HMAC; every change is appended to
``HISTORY.jsonl`` first, so rollback can walk back and a crash between the two writes leaves the
old alias in place. A missing ``LIVE`` of a model that had versions, or a broken one, is a
``ModelTrustError``: callers never replace it with a freshly trained model on their own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from models import ModelVersion
from monitor.atomic_files import write_atomic
from monitor.model_trust import ModelTrustError, RegistryError, load_key, sign, verify
from monitor.registry.layout import (
    HISTORY_FILE,
    LIVE_FILE,
    META_FILE,
    NAME_PATTERN,
    VERSION_PATTERN,
    check_name,
    json_default,
)


class AliasStore:
    """A registry folder's names and aliases; ``Registry`` adds the versions themselves.

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
            fh.write(json.dumps(entry, ensure_ascii=False, default=json_default) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        write_atomic(folder / LIVE_FILE, f"{version}\n{self._alias_signature(name, version)}\n")

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
