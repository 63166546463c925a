"""The live text models: each name's live registry version, or on a fresh install a default
trained from the project's seed corpus (fixtures/seed) in a few seconds and registered, so a fresh
install detects out of the box and analysts replace it by retraining and promoting.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from models.detection import CAUSES
from monitor.config import Settings
from monitor.detection.text_model import TextModel
from monitor.paths import FIXTURES
from monitor.training.io import Table, read_table

log = logging.getLogger(__name__)

SEED_DIR = FIXTURES / "seed"
TEXT_MODELS = ("malicious", "deceptive", "cause")


def seed_table(name: str) -> Table:
    """The labeled seed rows for one text model (text only: seed ratings must not leak in)."""
    if name == "malicious":
        table = read_table(SEED_DIR / "reviews.csv", label="malicious", positive="1")
    elif name == "deceptive":
        table = read_table(SEED_DIR / "deceptive.csv", label="deceptive", positive="1")
    elif name == "cause":
        table = read_table(SEED_DIR / "reviews.csv")
        keep = (table.frame["cause"] != "").to_numpy()
        frame = table.frame.loc[keep].reset_index(drop=True)
        table = Table(path=table.path, frame=frame, ids=[i for i, k in zip(table.ids, keep, strict=True) if k],
                      label_column="cause", y=frame["cause"].to_numpy().astype(str), classes=sorted(set(frame["cause"])))
    else:
        raise ValueError(f"no seed data for model {name!r}")
    table.frame = table.frame[["text"]]
    return table


def seed_fingerprint(name: str) -> str:
    h = hashlib.sha256(name.encode())
    for f in sorted(SEED_DIR.glob("*.csv")):
        h.update(f.read_bytes())
    return "sha256:" + h.hexdigest()


SEED_PARAMS: dict[str, Any] = {"char_ngrams": (1, 3), "char_min_df": 1, "word_min_df": 1, "C": 30.0}


def seed_features() -> Any:
    """One featurizer fitted on every seed text (no labels), shared by the three default models so
    scoring vectorizes each review once instead of three times."""
    from monitor.training.recipe import build_pipeline

    texts = read_table(SEED_DIR / "reviews.csv").frame["text"].tolist()
    texts += read_table(SEED_DIR / "deceptive.csv").frame["text"].tolist()
    return build_pipeline([], **SEED_PARAMS).named_steps["features"].fit(texts)


def train_default(name: str, settings: Settings, registry: Any, features: Any | None = None) -> str:
    """Train ``name`` on the seed corpus and register it; returns the version id."""
    from monitor.training.fit import train

    table = seed_table(name)
    trained = train(table, precision_target=settings.detection.precision_target, folds=4,
                    features=features if features is not None else seed_features(), **SEED_PARAMS)
    trained.params["source"] = "seed corpus fixtures/seed (default model, trained on first use)"
    version = registry.save(
        name,
        trained.estimator,
        metrics=trained.metrics,
        params=trained.params,
        thresholds=trained.thresholds,
        data_fingerprint=seed_fingerprint(name),
    )
    log.info("trained default %s model %s on %d seed rows", name, version, len(table.ids))
    return version


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
    from monitor.registry import registry_for

    registry = registry_for(settings, session=session)
    out = TextModels()
    missing = [n for n in names if registry.needs_bootstrap(n)]
    features = seed_features() if missing else None
    for name in names:
        if name in missing:
            with registry.bootstrap_lock(name):
                if registry.needs_bootstrap(name):  # not trained meanwhile by another worker
                    train_default(name, settings, registry, features)
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
