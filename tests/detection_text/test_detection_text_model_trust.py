"""A model folder rewritten by someone else never runs code, and a lost live alias stops detection.

Issue 12 item 1: a model file naming ``numpy.lib._datasource.DataSource`` (with its hash in
meta.json rewritten alongside) deleted a directory during ``shopmon detect``; deleting ``LIVE``
silently trained and promoted a fresh seed model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from models.alerts import Alert
from monitor.cli import main
from monitor.config import Settings, load_settings
from monitor.model_trust import local_key_path
from monitor.registry import ModelTrustError, Registry


def _datasource_node(victim: Path, scratch: Path) -> dict:
    """The schema node skops itself writes for a DataSource whose cleanup removes ``victim``."""
    import skops.io as sio
    from numpy.lib._datasource import DataSource

    source = DataSource(str(scratch))
    source._destpath, source._istmpdest = str(victim), True
    try:
        sio.dump({"x": source}, scratch / "ds.skops")
    finally:
        source._istmpdest = False  # our own copy must not clean up anything
    with zipfile.ZipFile(scratch / "ds.skops") as zf:
        node = json.loads(zf.read("schema.json"))["content"]["x"]
    # Named by its defining module, as in the report: numpy.lib.npyio was on the old deny list.
    node["__module__"] = "numpy.lib._datasource"
    return node


def _plant_datasource(model_file: Path, victim: Path, scratch: Path) -> None:
    """Add a DataSource whose cleanup removes ``victim`` to the model, and rewrite the recorded hash."""
    with zipfile.ZipFile(model_file) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    schema = json.loads(members["schema.json"])
    state = schema["content"]
    state["content"]["x_cleanup"] = _datasource_node(victim, scratch)
    state["key_types"]["content"].append(state["key_types"]["content"][0])
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(model_file, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    meta_path = model_file.parent / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(model_file.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta))


@pytest.fixture
def own_registry(seed_model_dir: Path, tmp_path: Path) -> Settings:
    """A private, writable copy of the seed registry (and its key), with ops recipients configured.

    Written as ./shopmon.toml (tests run in tmp_path), so the CLI reads the same settings."""
    from monitor.db import upgrade

    root = tmp_path / "registry" / "models"
    shutil.copytree(seed_model_dir, root)
    shutil.copy(local_key_path(seed_model_dir), local_key_path(root))
    (tmp_path / "shopmon.toml").write_text(
        f'data_dir = "{tmp_path / "data"}"\nmodel_dir = "{root}"\n'
        '[alerts.recipients]\nserious_case = ["ops@example.com"]\n', encoding="utf-8")
    settings = load_settings()
    upgrade(settings)
    return settings


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "keep.txt").write_text("still here")
    return victim


def test_planted_datasource_is_refused_and_deletes_nothing(own_registry: Settings, tmp_path: Path, capsys) -> None:
    reg = Registry(own_registry.models_path)
    version = reg.live_version("malicious")
    victim = _victim(tmp_path)
    _plant_datasource(own_registry.models_path / "malicious" / version / "model.skops", victim, tmp_path)
    with pytest.raises(ModelTrustError, match="not trusted: numpy.lib._datasource.DataSource"):
        reg.load("malicious")
    assert (victim / "keep.txt").read_text() == "still here"

    # --rescore: with no review waiting, a plain detect loads no model at all (f8bda67).
    code, output = _cli(capsys, "detect", "--rescore")
    assert code == 1, output
    assert "numpy.lib._datasource.DataSource" in output and "Traceback" not in output
    assert (victim / "keep.txt").read_text() == "still here"


def test_a_rewritten_meta_with_allowed_types_is_refused_by_its_signature(own_registry: Settings) -> None:
    """Only allowed types, hash rewritten to match: the signature is what an editor cannot redo."""
    reg = Registry(own_registry.models_path)
    version = reg.live_version("malicious")
    meta_path = own_registry.models_path / "malicious" / version / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["thresholds"] = {k: 0.99 for k in meta["thresholds"]}  # quietly stop flagging anything
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelTrustError, match="not signed with this registry's key"):
        reg.load("malicious")
    # Another key (e.g. SHOPMON_REGISTRY_KEY set differently) does not vouch for these versions either.
    with pytest.raises(ModelTrustError, match="live alias .* is broken"):
        Registry(own_registry.models_path, key="another key").load("cause")


def test_deleted_live_alias_stops_detection_with_an_ops_alert(own_registry: Settings, capsys) -> None:
    root = own_registry.models_path
    (root / "cause" / "LIVE").unlink()
    before = sorted(p.name for p in (root / "cause").iterdir())
    # --rescore: with no review waiting, a plain detect loads no model at all (f8bda67).
    code, output = _cli(capsys, "detect", "--rescore")
    assert code == 1, output
    assert "live alias" in output and "missing" in output
    assert len([line for line in output.splitlines() if line.strip()]) == 1
    # Nothing was trained or promoted in its place.
    assert sorted(p.name for p in (root / "cause").iterdir()) == before

    from monitor.db import session_scope

    with session_scope(own_registry) as session:
        alerts = list(session.exec(select(Alert).where(Alert.kind == "crawl_health")))
    assert len(alerts) == 1 and alerts[0].payload["failure_kind"] == "model"
    assert "live alias" in alerts[0].payload["error"]
    # A second attempt the same day does not mail ops again.
    assert _cli(capsys, "detect", "--rescore")[0] == 1
    with session_scope(own_registry) as session:
        assert len(list(session.exec(select(Alert).where(Alert.kind == "crawl_health")))) == 1


def test_broken_alias_is_an_error_and_promote_force_repairs_it(own_registry: Settings, capsys) -> None:
    root = own_registry.models_path
    reg = Registry(root)
    version = reg.live_version("deceptive")
    (root / "deceptive" / "LIVE").write_text(version + "\n")  # signature stripped
    with pytest.raises(ModelTrustError, match="broken"):
        reg.load("deceptive")
    code, output = _cli(capsys, "model", "promote", version, "--force")
    assert code == 0, output
    assert reg.live_version("deceptive") == version


def test_fresh_registry_is_bootstrapped_once(db_settings: Settings) -> None:
    from monitor.detection.live_models import load_models

    models = load_models(db_settings, ("cause",))
    reg = Registry(db_settings.models_path)
    assert reg.live_version("cause") == models["cause"].version
    assert not reg.needs_bootstrap("cause")
