"""Labels and the registry's database mirror on PostgreSQL (skipped when it is not running)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sqlmodel import Session, select

from models import Flag, Label, ModelVersion, Review
from monitor.config import load_settings
from monitor.db import get_engine, upgrade
from monitor.errors import DataError
from monitor.labels import import_labels, training_frame
from monitor.registry import registry_for


@pytest.fixture
def pg_settings(tmp_path: Path, pg_url: str):
    settings = load_settings(data_dir=tmp_path / "data", database_url=pg_url)
    upgrade(settings)
    return settings


@pytest.mark.postgres
def test_import_is_all_or_nothing_and_mirror_stores_strict_json(pg_settings, tmp_path: Path) -> None:
    with Session(get_engine(pg_settings), expire_on_commit=False) as session:
        reviews = [Review(platform="jd", external_id=f"p{i}", text=t) for i, t in enumerate(["给钱", "很好"])]
        session.add_all(reviews)
        session.flush()
        flag = Flag(kind="malicious", target_type="review", target_id=reviews[0].id, score=0.9,
                    model_version="malicious-20261101000000-aaaaaa")
        session.add(flag)
        session.commit()
        path = tmp_path / "l.csv"
        path.write_text("task,target_type,target_id,flag_id,label\n"
                        f"malicious,review,{reviews[0].id},{flag.id},yes\n"
                        "malicious,review,987654,,no\n", encoding="utf-8")
        with pytest.raises(DataError, match="unknown review id 987654"):
            import_labels(session, path, labeler="ana")
        session.rollback()
        assert session.exec(select(Label)).all() == []
        path.write_text("task,target_type,target_id,flag_id,label\n"
                        f"malicious,review,{reviews[0].id},{flag.id},yes\n"
                        f"malicious,review,{reviews[1].id},,no\n", encoding="utf-8")
        assert import_labels(session, path, labeler="ana").imported == 2
        session.commit()
        assert training_frame(session, "malicious")["label"].tolist() == [1, 0]

        reg = registry_for(pg_settings, session=session)
        model = make_pipeline(TfidfVectorizer(analyzer="char"), LogisticRegression()).fit(["给钱", "很好"], [1, 0])
        version = reg.save("malicious", model, metrics={"roc_auc": float("nan"), "f1": np.float64(0.5)},
                           params={}, thresholds={"positive": 0.5}, data_fingerprint="sha256:x")
        session.commit()
        row = session.exec(select(ModelVersion)).one()
        assert row.version == version and row.live and row.metrics == {"roc_auc": None, "f1": 0.5}
        assert reg.meta("malicious", version).metrics["roc_auc"] is None
