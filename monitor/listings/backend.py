"""The image backend interface, the offline default, and how a configured backend is found.

A backend reads product photos and says which catalogue category and which colour family
each one shows, as probabilities. The default ("features") uses the two scikit-learn models
in the registry. A user with a local CLIP-style model adds one without touching shopmon::

    # in their package's pyproject.toml
    [project.entry-points."shopmon.image_backends"]
    clip = "my_pkg.clip_backend:make_backend"   # make_backend(settings) -> ImageBackend

and sets ``[listings] backend = "clip"``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from monitor.config import Settings
from monitor.default_models import IMAGE_MODELS, ensure_default_models
from monitor.errors import ConfigError
from monitor.listings.classifier import CATEGORY_MODEL, COLOUR_MODEL
from monitor.listings.features import FEATURE_VERSION, colour_shares, image_vectors, prepare
from monitor.listings.loading import LOOPBACK_HOSTS
from monitor.listings.vocab import COLOUR_FAMILIES
from monitor.registry import RegistryError, registry_for

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "shopmon.image_backends"
DEFAULT_BACKEND = "features"


@dataclass
class ImageReading:
    """What a backend sees in one photo. Probabilities need not cover every label."""

    category_probs: dict[str, float]
    colour_probs: dict[str, float]
    # Share of the product's pixels per colour family, when the backend measures it;
    # reasons quote it ("mostly red") because a share is easier to check than a probability.
    colour_shares: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class ImageBackend(Protocol):
    name: str
    version: str  # written on every flag as model_version
    # Optional: raw mismatch per check ("category", "colour") that should reach the flag
    # line; missing keys mean 0.5.
    thresholds: dict[str, float]

    @property
    def categories(self) -> Sequence[str]:
        """The category labels this backend can recognise (a shop's catalogue labels)."""
        ...

    def read(self, images: Sequence[Image.Image]) -> list[ImageReading]: ...


class FeatureBackend:
    """Offline default: hand-built image features + the registry's scikit-learn models."""

    name = DEFAULT_BACKEND

    def __init__(
        self,
        category_model: Any,
        colour_model: Any,
        *,
        version: str,
        thresholds: dict[str, float] | None = None,
    ) -> None:
        self.category_model = category_model
        self.colour_model = colour_model
        self.version = version
        self.thresholds = thresholds or {}

    @property
    def categories(self) -> Sequence[str]:
        return [str(c) for c in self.category_model.classes_]

    def read(self, images: Sequence[Image.Image]) -> list[ImageReading]:
        if not images:
            return []
        preps = [prepare(img) for img in images]
        vecs = [image_vectors(p) for p in preps]
        with threadpool_limits(1):  # a few rows: threads cost more than they save
            pc = self.category_model.predict_proba(np.stack([v[0] for v in vecs]))
            po = self.colour_model.predict_proba(np.stack([v[1] for v in vecs]))
        cat_labels = [str(c) for c in self.category_model.classes_]
        col_labels = [str(c) for c in self.colour_model.classes_]
        out = []
        for i, prep in enumerate(preps):
            shares = colour_shares(prep)
            out.append(
                ImageReading(
                    category_probs=dict(zip(cat_labels, map(float, pc[i]), strict=True)),
                    colour_probs=dict(zip(col_labels, map(float, po[i]), strict=True)),
                    colour_shares={f: float(s) for f, s in zip(COLOUR_FAMILIES, shares, strict=True) if s > 0},
                )
            )
        return out


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    hosts = settings.listings.fetch_hosts
    if "*" in hosts:
        return None
    return LOOPBACK_HOSTS | frozenset(h.lower() for h in hosts)


def load_backend(settings: Settings, name: str | None = None, *, session: Any | None = None) -> ImageBackend:
    """The configured backend; the default's models are trained from the packaged catalogue on
    first use (``ensure_default_models``)."""
    name = name or settings.listings.backend
    if name == DEFAULT_BACKEND:
        return load_feature_backend(settings, session=session)
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in found:
        known = ", ".join(sorted({DEFAULT_BACKEND, *found}))
        raise ConfigError(f"unknown listings.backend {name!r} (installed: {known})")
    try:
        factory = found[name].load()
        backend = factory(settings)
    except Exception as exc:  # a third-party plug-in may fail in any way; say which one
        raise ConfigError(f"image backend {name!r} failed to start: {exc}") from None
    if not isinstance(backend, ImageBackend):
        raise ConfigError(f"image backend {name!r} does not provide name, version, categories and read()")
    return backend


def load_feature_backend(settings: Settings, *, session: Any | None = None) -> FeatureBackend:
    """The live image models; with none yet, the defaults are trained first."""
    ensure_default_models(settings, IMAGE_MODELS, session=session)
    registry = registry_for(settings, session=session)
    models = {}
    for name in IMAGE_MODELS:
        est, meta = registry.load(name)
        got = meta.params.get("feature_version")
        if got != FEATURE_VERSION:
            raise RegistryError(
                f"live {name} version {meta.version} was trained on image features {got!r}, this shopmon "
                f"computes {FEATURE_VERSION!r}: run `shopmon listings train --data CATALOGUE.csv`"
            )
        models[name] = (est, meta.version, meta.thresholds.get("mismatch", 0.5))
    version = f"{models[CATEGORY_MODEL][1]}+{models[COLOUR_MODEL][1]}"
    return FeatureBackend(
        models[CATEGORY_MODEL][0],
        models[COLOUR_MODEL][0],
        version=version,
        thresholds={"category": models[CATEGORY_MODEL][2], "colour": models[COLOUR_MODEL][2]},
    )
