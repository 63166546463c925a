"""Model registry: versions, live alias, rollback, safe loading."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sqlmodel import select

from models import ModelVersion
from monitor.registry import (
    PromotionRefused,
    Registry,
    RegistryError,
    fingerprint_rows,
    registry_for,
)

TEXTS = ["great product", "terrible fake", "love it", "scam refund now", "nice", "awful threat"]
LABELS = [0, 1, 0, 1, 0, 1]


def _model(c: float = 1.0):
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=c)).fit(TEXTS, LABELS)


def _save(reg: Registry, name: str = "malicious", c: float = 1.0) -> str:
    return reg.save(
        name,
        _model(c),
        metrics={"average_precision": 0.8, "n": np.int64(6)},
        params={"C": c},
        thresholds={"1": np.float64(0.5)},
        data_fingerprint=fingerprint_rows(zip(TEXTS, LABELS)),
    )


def test_first_version_goes_live_and_round_trips(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "models")
    v1 = _save(reg)
    assert reg.live_version("malicious") == v1
    est, meta = reg.load("malicious")
    assert meta.version == v1 and meta.live
    assert meta.params == {"C": 1.0} and meta.thresholds == {"1": 0.5}
    assert meta.metrics["n"] == 6
    assert "scikit-learn" in meta.libraries and meta.data_fingerprint.startswith("sha256:")
    np.testing.assert_allclose(est.predict_proba(TEXTS), _model().predict_proba(TEXTS))
    folder = Path(meta.path)
    assert {p.name for p in folder.iterdir()} == {"model.skops", "meta.json", "metrics.json", "MODEL_CARD.md",
                                                  "SIGNATURE"}
    assert "# Model card: malicious" in (folder / "MODEL_CARD.md").read_text()
    # The alias is a pointer file (the id and its signature), not a copy of the model.
    version, signature = (tmp_path / "models" / "malicious" / "LIVE").read_text().split()
    assert version == v1 and signature.startswith("hmac-sha256:")


def test_second_version_is_a_candidate_until_promoted_then_rollback(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1 = _save(reg)
    v2 = _save(reg, c=2.0)
    v3 = _save(reg, c=3.0)
    assert reg.live_version("malicious") == v1
    reg.promote("malicious", v2)
    reg.promote("malicious", v3)
    assert reg.live_version("malicious") == v3
    assert reg.rollback("malicious") == v2
    assert reg.rollback("malicious") == v1
    assert reg.live_version("malicious") == v1
    with pytest.raises(RegistryError, match="no earlier live version"):
        reg.rollback("malicious")
    assert [m.version for m in reg.versions("malicious")] == [v1, v2, v3]
    with pytest.raises(RegistryError, match="already the live version"):
        reg.promote("malicious", v1)


def test_tampered_model_file_is_refused(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1 = _save(reg)
    path = tmp_path / "malicious" / v1 / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RegistryError, match="does not match its recorded sha256"):
        reg.load("malicious")


def test_a_loaded_version_is_built_once_per_process_and_still_checked_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker runs the pipeline after every crawl: the same file's types are not listed nor its
    estimator built again, but it is hashed and its signature verified on every load, so a file
    changed since is still refused."""
    import skops.io

    reg = Registry(tmp_path)
    v1 = _save(reg)
    first, _ = reg.load("malicious")

    def no_second_build(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("unchanged bytes were read again")

    with monkeypatch.context() as m:
        m.setattr(skops.io, "load", no_second_build)
        m.setattr(skops.io, "get_untrusted_types", no_second_build)
        again, meta = reg.load("malicious")
    assert again is first and meta.version == v1
    v2 = _save(reg, c=2.0)  # other bytes: built on their own
    other, _ = reg.load("malicious", v2)
    assert other is not first and other.steps[-1][1].C == 2.0
    path = tmp_path / "malicious" / v1 / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RegistryError, match="does not match its recorded sha256"):
        reg.load("malicious", v1)


def test_corrupt_file_with_matching_hash_is_refused_clearly(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1 = _save(reg)
    folder = tmp_path / "malicious" / v1
    (folder / "model.skops").write_bytes(b"not a zip at all")
    meta = json.loads((folder / "meta.json").read_text())
    import hashlib

    meta["sha256"] = hashlib.sha256(b"not a zip at all").hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(RegistryError, match="not a readable skops file"):
        reg.load("malicious", v1)


def test_untrusted_type_is_refused_even_with_matching_hash(tmp_path: Path) -> None:
    """Someone rewrites both the model and its hash: the allow-list still stops it."""
    reg = Registry(tmp_path)
    v1 = _save(reg)
    folder = tmp_path / "malicious" / v1
    path = folder / "model.skops"
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    schema = json.loads(members["schema.json"])
    # Swap the top-level pipeline for os.system: what a malicious file would try.
    schema["__module__"] = "os"
    schema["__class__"] = "system"
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    import hashlib

    meta = json.loads((folder / "meta.json").read_text())
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(RegistryError, match="not trusted: os.system"):
        reg.load("malicious", v1)


def test_corrupt_meta_and_bad_ids_give_clear_errors(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1 = _save(reg)
    with pytest.raises(RegistryError, match="is not a version id"):
        reg.resolve("nope")
    with pytest.raises(RegistryError, match="no model version"):
        reg.resolve("malicious-20000101000000-abcdef")
    assert reg.resolve(v1) == "malicious"
    with pytest.raises(RegistryError, match="invalid model name"):
        reg.live_version("../etc")
    (tmp_path / "malicious" / v1 / "meta.json").write_text("{broken")
    with pytest.raises(RegistryError, match="is corrupt"):
        reg.load("malicious")
    with pytest.raises(RegistryError, match="no live version"):
        Registry(tmp_path / "empty").load("cause")


def test_unsaveable_estimator_leaves_nothing_behind(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    with pytest.raises(RegistryError, match="cannot save model"):
        reg.save("cause", lambda x: x, metrics={}, params={}, thresholds={}, data_fingerprint="x")
    assert reg.versions("cause") == [] and reg.live_version("cause") is None
    assert [p.name for p in (tmp_path / "cause").iterdir() if not p.name.startswith(".lock")] == []


def test_refused_comparison_blocks_promotion_unless_forced(tmp_path: Path) -> None:
    class Verdict:
        passed = False
        live_version = "x"
        reason = "average_precision 0.50 < 0.80"

        def as_dict(self) -> dict:
            return {"passed": False}

    reg = Registry(tmp_path)
    v1 = _save(reg)
    v2 = _save(reg, c=0.1)
    with pytest.raises(PromotionRefused, match="use --force"):
        reg.promote("malicious", v2, comparison=Verdict())
    assert reg.live_version("malicious") == v1
    reg.promote("malicious", v2, comparison=Verdict(), force=True)
    assert reg.live_version("malicious") == v2
    assert reg.history("malicious")[-1]["forced"] is True


def test_versions_are_mirrored_into_the_database(db_settings, session) -> None:
    reg = registry_for(db_settings, session=session)
    v1 = _save(reg)
    v2 = _save(reg, c=2.0)
    reg.promote("malicious", v2)
    session.commit()
    rows = {r.version: r for r in session.exec(select(ModelVersion))}
    assert set(rows) == {v1, v2}
    assert rows[v2].live and not rows[v1].live
    assert rows[v1].metrics["n"] == 6


def test_vectorizer_vocabularies_survive_packing_in_nested_pipelines(tmp_path: Path) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    import pandas as pd

    union = FeatureUnion([("w", TfidfVectorizer()), ("c", TfidfVectorizer(analyzer="char", ngram_range=(1, 2)))])
    texts = TEXTS + ["退款！！", "质量很好"]
    labels = LABELS + [1, 0]
    model = Pipeline([("f", ColumnTransformer([("t", union, "text")])), ("clf", LogisticRegression())])
    frame = pd.DataFrame({"text": texts})
    model.fit(frame, labels)
    before = {k: dict(v) for k, v in (("w", model[0].transformers_[0][1].transformer_list[0][1].vocabulary_),
                                      ("c", model[0].transformers_[0][1].transformer_list[1][1].vocabulary_))}
    reg = Registry(tmp_path)
    reg.save("deceptive", model, metrics={}, params={}, thresholds={}, data_fingerprint="x")
    # The caller's model is untouched by the packing used while saving.
    assert model[0].transformers_[0][1].transformer_list[1][1].vocabulary_ == before["c"]
    loaded, _ = reg.load("deceptive")
    fitted = loaded[0].transformers_[0][1].transformer_list
    assert fitted[0][1].vocabulary_ == before["w"] and fitted[1][1].vocabulary_ == before["c"]
    np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame))


def test_library_functions_that_touch_files_are_not_trusted(tmp_path: Path) -> None:
    from sklearn.preprocessing import FunctionTransformer

    from monitor.registry import is_trusted

    assert is_trusted("sklearn.linear_model._logistic.LogisticRegression")  # what our pipelines use
    # Exact names only: a class of an allowed library is not enough.
    assert not is_trusted("scipy.sparse._csr.csr_matrix") and not is_trusted("numpy.lib._datasource.DataSource")
    assert not is_trusted("numpy.save") and not is_trusted("numpy.loadtxt")  # functions: refused
    assert not is_trusted("os.system") and not is_trusted("sklearn.datasets.fetch_openml")
    reg = Registry(tmp_path)
    with pytest.raises(RegistryError, match="would not be trusted on load: numpy.save"):
        reg.save("cause", FunctionTransformer(func=np.save), metrics={}, params={}, thresholds={},
                 data_fingerprint="x")
    assert reg.versions("cause") == []


def test_packed_vocabulary_formats_round_trip() -> None:
    from monitor.registry.skops_io import VOCAB_MARKER, _pack, _unpack

    vocab = {"退款": 2, "a b": 0, "é": 1, "": 3}
    assert _unpack(_pack(vocab)) == vocab
    # Format 1 (byte offsets) was written by the first registry release; it still loads.
    terms = [t.encode("utf-8") for t in sorted(vocab, key=vocab.__getitem__)]
    offsets = np.cumsum([0] + [len(t) for t in terms])
    old = {VOCAB_MARKER: 1, "utf8": np.frombuffer(b"".join(terms), dtype=np.uint8), "offsets": offsets}
    assert _unpack(old) == vocab
