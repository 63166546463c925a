"""The live text models: each name's live registry version, the configured thresholds applied.

On a fresh install a name without any version gets its default first, trained from the seed
corpus by ``monitor.default_models.ensure_default_models`` (the step `shopmon model bootstrap`
runs too), so a fresh install detects out of the box and analysts replace it by retraining and
promoting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.detection import CAUSES
from monitor.config import Settings
from monitor.default_models import TEXT_MODELS, ensure_default_models
from monitor.detection.text_model import TextModel
from monitor.registry import registry_for


@dataclass
class TextModels:
    models: dict[str, TextModel] = field(default_factory=dict)

    def __getitem__(self, name: str) -> TextModel:
        return self.models[name]

    def versions(self) -> dict[str, str]:
        return {n: m.version for n, m in self.models.items()}

    def columns(self) -> list[str]:
        """Every column besides the text that some model reads (empty for text-only models)."""
        return list(dict.fromkeys(c for m in self.models.values() for c in m.columns))


def load_models(settings: Settings, names: tuple[str, ...] = TEXT_MODELS, *, session: Any | None = None) -> TextModels:
    """Live versions of the text models; on a fresh registry the seed defaults are trained first.

    Only a name that never had a version is bootstrapped: a deleted or broken alias raises
    ``ModelTrustError`` (see ``Registry.needs_bootstrap``)."""
    ensure_default_models(settings, names, session=session)
    registry = registry_for(settings, session=session)
    out = TextModels()
    for name in names:
        estimator, meta = registry.load(name)
        thresholds = dict(meta.thresholds)
        override = settings.detection.thresholds.get(name)
        if override is not None:
            thresholds["positive"] = float(override)
        for cls in CAUSES:
            key = f"{name}.{cls}"
            if key in settings.detection.thresholds:
                thresholds[cls] = float(settings.detection.thresholds[key])
        out.models[name] = TextModel(name, meta.version, estimator, dict(meta.params), thresholds,
                                     configured=override is not None)
    return out
