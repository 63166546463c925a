"""The default models, trained from data shipped in the package, and the one step that trains them.

A fresh install detects out of the box: each model that never had a version gets a default,
registered as its first (live) version, which analysts later replace by training and promoting.

- ``malicious``, ``deceptive``, ``cause``: review-text models from the seed corpus
  (``fixtures/seed``), a few seconds each;
- ``image_category``, ``image_colour``: listing image models from the packaged catalogue
  (``fixtures/listings/catalogue.csv``).

``ensure_default_models`` is that step, whoever asks first: ``shopmon model bootstrap``, text
scoring (``monitor.detection.live_models.load_models``) or the image check
(``monitor.listings.backend.load_backend``). The professional-reviewer model has no default:
until analysts label reviewers its rules score (``monitor.detection.professional``).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.listings.classifier import CATEGORY_MODEL, COLOUR_MODEL
from monitor.listings.train import train_from_catalogue
from monitor.paths import FIXTURES
from monitor.registry import Registry, registry_for, sync_to_db
from monitor.training.fit import save_trained, train
from monitor.training.io import Table, read_table
from monitor.training.recipe import build_pipeline

log = logging.getLogger(__name__)

SEED_DIR = FIXTURES / "seed"
DEFAULT_CATALOGUE = FIXTURES / "listings" / "catalogue.csv"
TEXT_MODELS = ("malicious", "deceptive", "cause")
IMAGE_MODELS = (CATEGORY_MODEL, COLOUR_MODEL)
DEFAULT_MODELS = TEXT_MODELS + IMAGE_MODELS
#: Recorded as the version's source; scoring treats a seed-trained model as provisional by it.
SEED_SOURCE = "seed corpus fixtures/seed (default model, trained on first use)"
SEED_PARAMS: dict[str, Any] = {"char_ngrams": (1, 3), "char_min_df": 1, "word_min_df": 1, "C": 30.0}


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


def seed_features() -> Any:
    """One featurizer fitted on every seed text (no labels), shared by the three default models so
    scoring vectorizes each review once instead of three times."""
    texts = read_table(SEED_DIR / "reviews.csv").frame["text"].tolist()
    texts += read_table(SEED_DIR / "deceptive.csv").frame["text"].tolist()
    return build_pipeline([], **SEED_PARAMS).named_steps["features"].fit(texts)


def _train_text(name: str, settings: Settings, registry: Registry, features: Any) -> str:
    table = seed_table(name)
    trained = train(table, precision_target=settings.detection.precision_target, folds=4, features=features,
                    **SEED_PARAMS)
    trained.params["source"] = SEED_SOURCE
    version = save_trained(registry, name, trained, data_fingerprint=seed_fingerprint(name))
    log.info("trained default %s model %s on %d seed rows", name, version, len(table.ids))
    return version


def _train_images(settings: Settings, registry: Registry) -> dict[str, str]:
    """Both image models come from one fit of the catalogue."""
    if not DEFAULT_CATALOGUE.is_file():
        raise ConfigError(f"no image models and no default catalogue at {DEFAULT_CATALOGUE}; "
                          "run `shopmon listings train --data CATALOGUE.csv`")
    log.info("no live image models in %s: training the defaults from %s", registry.root, DEFAULT_CATALOGUE)
    return train_from_catalogue(settings, DEFAULT_CATALOGUE).versions


def ensure_default_models(
    settings: Settings, names: tuple[str, ...] = DEFAULT_MODELS, *, session: Any | None = None
) -> dict[str, str]:
    """Train and register the default of each of ``names`` that never had a version; returns the
    new versions by name (empty when every model already had one).

    A model that has versions but lost its live alias raises ``ModelTrustError``
    (``Registry.needs_bootstrap``): it is repaired by a person, never replaced. Processes sharing
    the registry train each default once: the others wait on its lock, then find the version.

    ``session``: the caller's transaction, which gets the new versions' ``ModelVersion`` rows.
    They are written after every bootstrap lock is released: a process holding a lock never
    waits for the database, so one holding a database write while it waits for a lock (SQLite
    has one writer) cannot deadlock with the lock's holder."""
    unknown = sorted(set(names) - set(DEFAULT_MODELS))
    if unknown:
        raise ValueError(f"no default for model(s) {', '.join(unknown)}")
    registry = registry_for(settings, session=session)  # reads the mirror too: needs_bootstrap
    files_only = registry_for(settings)  # saves without writing to the database
    trained: dict[str, str] = {}
    text = [n for n in TEXT_MODELS if n in names and registry.needs_bootstrap(n)]
    features = seed_features() if text else None
    for name in text:
        with registry.bootstrap_lock(name):
            if registry.needs_bootstrap(name):  # not trained meanwhile by another process
                trained[name] = _train_text(name, settings, files_only, features)
    if any(n in names for n in IMAGE_MODELS) and any(registry.needs_bootstrap(n) for n in IMAGE_MODELS):
        with registry.bootstrap_lock(CATEGORY_MODEL):
            if any(registry.needs_bootstrap(n) for n in IMAGE_MODELS):
                trained.update(_train_images(settings, files_only))
    if session is not None:
        for name in trained:
            sync_to_db(registry, session, name=name)
    return trained
