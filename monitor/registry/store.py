"""The model registry: one folder per version, a ``LIVE`` alias per model name, rollback history.

Loading checks the file's sha256 against meta.json, refuses any type that is not on the exact
allow-list (``skops_io``), and checks the signatures of meta.json and of the alias (``aliases``), so a
model folder from elsewhere can be inspected without running its code and a rewritten hash is not enough.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.atomic_files import write_atomic
from monitor.model_trust import ModelTrustError, RegistryError, verify
from monitor.registry.aliases import AliasStore
from monitor.registry.cards import default_card
from monitor.registry.layout import (
    CARD_FILE,
    HOLDOUT_FILE,
    LIVE_FILE,
    META_FILE,
    METRICS_FILE,
    MODEL_FILE,
    SIGNATURE_FILE,
    VERSION_PATTERN,
    PromotionRefused,
    VersionMeta,
    dumps,
    finite,
    library_versions,
    sha256_file,
    write_holdout,
)
from monitor.registry.mirror import sync_to_db
from monitor.registry.skops_io import check_file, dump_estimator, load_estimator

log = logging.getLogger(__name__)


class Registry(AliasStore):
    """A directory of model versions. Pass ``session`` to mirror versions into ``ModelVersion``."""

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
        with self._locked(name):
            folder = self._name_dir(name)
            # Only the very first version of a name goes live by itself; after a deleted alias
            # a new version stays a candidate and the missing alias remains an error.
            first = not self.ever_had_versions(name)
            now = datetime.now(UTC)
            version = f"{name}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
            tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{version}."))
            try:
                dump_estimator(estimator, tmp / MODEL_FILE, name)
                holdout_fp = None
                if holdout is not None:
                    holdout_fp = write_holdout(tmp / HOLDOUT_FILE, holdout)
                meta = VersionMeta(
                    name=name,
                    version=version,
                    created_at=now.isoformat(),
                    data_fingerprint=data_fingerprint,
                    sha256=sha256_file(tmp / MODEL_FILE),
                    params=finite(params),
                    thresholds={str(k): float(v) for k, v in thresholds.items()},
                    metrics=finite(metrics),
                    libraries=library_versions(),
                    holdout_fingerprint=holdout_fp,
                )
                stored = meta.as_dict()
                stored.pop("path")
                stored.pop("live")
                meta_text = dumps(stored)
                (tmp / META_FILE).write_text(meta_text, encoding="utf-8")
                (tmp / SIGNATURE_FILE).write_text(
                    self._version_signature(name, version, meta_text.encode("utf-8")) + "\n", encoding="utf-8"
                )
                (tmp / METRICS_FILE).write_text(dumps(meta.metrics), encoding="utf-8")
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
        check_file(path, meta)
        folder = Path(meta.path)
        write_atomic(
            folder / SIGNATURE_FILE,
            self._version_signature(name, version, (folder / META_FILE).read_bytes()) + "\n",
        )

    def sign_alias(self, name: str, version: str) -> None:
        with self._locked(name):
            self.verified_meta(name, version)
            write_atomic(self._name_dir(name) / LIVE_FILE, f"{version}\n{self._alias_signature(name, version)}\n")

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
        """Load a version (default: the live one) after checking its hash, its types and its signature."""
        if version is None:
            version = self.live_version(name)
            if version is None:
                self.needs_bootstrap(name)  # raises when the alias was deleted
                raise RegistryError(f"model {name!r} has no live version in {self.root} (train one first)")
        meta = self.meta(name, version)
        path = Path(meta.path) / MODEL_FILE
        untrusted = check_file(path, meta)
        self.verified_meta(name, version)
        return load_estimator(path, meta, untrusted), meta

    def holdout(self, name: str, version: str) -> Any | None:
        """The held-out rows saved with a version (pandas DataFrame), or None."""
        import pandas as pd

        path = self._version_dir(name, version) / HOLDOUT_FILE
        if not path.is_file():
            return None
        meta = self.verified_meta(name, version)
        if meta.holdout_fingerprint and "sha256:" + sha256_file(path) != meta.holdout_fingerprint:
            raise ModelTrustError(f"held-out data {path} does not match its signed fingerprint; refusing to use it")
        try:
            return pd.read_json(path, lines=True, dtype=False)
        except ValueError as exc:
            raise RegistryError(f"held-out data {path} is unreadable: {exc}") from None

    def card(self, name: str, version: str) -> str:
        path = self._version_dir(name, version) / CARD_FILE
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def _mirror(self, name: str) -> None:
        if self.session is not None:
            sync_to_db(self, self.session, name=name)


def registry_for(settings: Any, *, session: Any | None = None) -> Registry:
    """The registry configured in settings (``model_dir`` or ``<data_dir>/models``)."""
    key = settings.registry_key.get_secret_value() if settings.registry_key is not None else None
    return Registry(settings.models_path, session=session, key=key)
