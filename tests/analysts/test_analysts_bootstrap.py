"""One model bootstrap: `shopmon model bootstrap` and first use train the defaults through one step."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlmodel import select

from models import ModelVersion
from monitor.cli import main
from monitor.config import Settings
from monitor.db import session_scope
from monitor.default_models import DEFAULT_MODELS, IMAGE_MODELS, TEXT_MODELS, ensure_default_models
from monitor.detection.live_models import load_models
from monitor.listings.backend import load_backend
from monitor.model_trust import ModelTrustError
from monitor.registry import Registry, registry_for


def test_bootstrap_trains_each_default_once_and_first_use_loads_them(db_settings: Settings, monkeypatch, capsys):
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(db_settings.data_dir))

    assert main(["model", "bootstrap"]) == 0
    out = capsys.readouterr().out
    registry = registry_for(db_settings)
    live = {name: registry.live_version(name) for name in DEFAULT_MODELS}
    for name in DEFAULT_MODELS:
        assert live[name] is not None
        assert f"{name}: trained {live[name]} (live)" in out
    with session_scope(db_settings) as session:  # mirrored into the database like any version
        rows = session.exec(select(ModelVersion.name, ModelVersion.version, ModelVersion.live)).all()
    assert {(n, v) for n, v, is_live in rows if is_live} == set(live.items())

    assert main(["model", "bootstrap", "--json"]) == 0  # nothing left to train
    assert json.loads(capsys.readouterr().out) == {}
    assert main(["model", "bootstrap"]) == 0
    assert f"malicious: has versions (live {live['malicious']})" in capsys.readouterr().out

    # First use finds the bootstrapped versions instead of training its own.
    assert load_models(db_settings).versions() == {name: live[name] for name in TEXT_MODELS}
    assert load_backend(db_settings).version == f"{live['image_category']}+{live['image_colour']}"
    assert sorted(m.version for m in registry.versions()) == sorted(live.values())


def test_first_use_trains_only_what_it_needs_through_the_same_step(db_settings: Settings):
    load_models(db_settings, ("cause",))  # text scoring asks for one text model

    registry = registry_for(db_settings)
    assert [m.name for m in registry.versions()] == ["cause"]
    assert registry.meta("cause", registry.live_version("cause")).params["source"].startswith("seed corpus")
    # the rest is what bootstrap (or the image check) still trains; cause is not trained twice
    assert sorted(ensure_default_models(db_settings)) == sorted({*DEFAULT_MODELS} - {"cause"})
    assert len(registry.versions("cause")) == 1

    load_backend(db_settings)  # the image models exist now: loaded, not retrained
    assert all(len(registry.versions(name)) == 1 for name in IMAGE_MODELS)


def test_a_lost_live_alias_is_refused_not_replaced(db_settings: Settings):
    ensure_default_models(db_settings, ("malicious",))
    registry = registry_for(db_settings)
    version = registry.live_version("malicious")
    (registry.root / "malicious" / "LIVE").unlink()

    with pytest.raises(ModelTrustError, match="live alias"):
        ensure_default_models(db_settings)
    assert [m.version for m in registry.versions("malicious")] == [version]


def test_only_models_with_a_default_can_be_bootstrapped(db_settings: Settings):
    with pytest.raises(ValueError, match="professional"):
        ensure_default_models(db_settings, ("professional",))


def test_no_database_write_is_open_while_a_bootstrap_lock_is_taken(db_settings: Settings, monkeypatch):
    """Another process may hold SQLite's one write lock while it waits for a bootstrap lock, so the
    holder of a bootstrap lock must never wait for the database: at each lock, a second
    connection can still begin a write, and the versions reach the caller's transaction after."""
    take = Registry.bootstrap_lock
    writable: list[tuple[str, bool]] = []

    def probing(self, name):  # noqa: ANN001, ANN202
        other = sqlite3.connect(db_settings.data_dir / "shopmon.db", timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
            writable.append((name, True))
        except sqlite3.OperationalError:  # "database is locked": our own transaction holds it
            writable.append((name, False))
        finally:
            other.close()
        return take(self, name)

    monkeypatch.setattr(Registry, "bootstrap_lock", probing)
    with session_scope(db_settings) as session:
        trained = ensure_default_models(db_settings, TEXT_MODELS, session=session)
        mirrored = session.exec(select(ModelVersion.name, ModelVersion.version)).all()

    assert writable == [(name, True) for name in TEXT_MODELS]
    assert dict(mirrored) == trained
