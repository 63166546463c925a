"""Active-learning queue: uncertain, disputed and novel reviews come first."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sqlmodel import Session, select

from models import Flag, Label, Review
from monitor.errors import DataError
from monitor.labels import build_queue
from monitor.labels.queue import uncertainty
from monitor.registry import Registry

BAD = ["pay me now or else", "pay or i post threats", "send money or bad reviews", "pay me money threat"]
GOOD = ["lovely shoes fit well", "fast delivery great shoes", "shoes fit great lovely", "great fit fast"]


def _model(flip: bool = False):
    y = [1] * 4 + [0] * 4
    if flip:
        y = [1 - v for v in y]
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=20)).fit(BAD + GOOD, y)


def _reviews(session: Session, texts: list[str]) -> list[int]:
    start = len(session.exec(select(Review)).all())
    rows = [Review(platform="amazon", external_id=f"q{start + i}", text=t) for i, t in enumerate(texts)]
    session.add_all(rows)
    session.commit()
    return [r.id for r in rows]


def _save(reg: Registry, model) -> str:
    return reg.save("malicious", model, metrics={}, params={"input_columns": ["text"]},
                    thresholds={"1": 0.5}, data_fingerprint="sha256:t")


def test_uncertainty_peaks_at_the_threshold() -> None:
    import numpy as np

    u = uncertainty(np.array([0.3, 0.29, 0.99, 0.0]), 0.3)
    assert u[0] == 1.0 and u[0] > u[1] > u[2] and u[3] == pytest.approx(0.0)


def test_queue_prefers_uncertain_reviews_over_confident_ones(session: Session, tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    _save(reg, _model())
    confident = ["pay me now or else money threat", "lovely shoes fit great fast delivery",
                 "send money or bad reviews threats", "great shoes lovely fit"]
    # Words the model has never seen: its score sits at its prior, right at the threshold.
    uncertain = ["the parcel was okay", "colour slightly different", "box arrived on tuesday"]
    ids = _reviews(session, confident + uncertain)
    queue = build_queue(session, reg, task="malicious", n=3)
    assert {item.review_id for item in queue} == set(ids[4:])
    assert all(0.3 < item.score < 0.7 for item in queue)
    assert "near threshold 0.50" in queue[0].reasons[0]
    full = build_queue(session, reg, n=10)
    assert len(full) == 7
    assert min(i.uncertainty for i in full[:3]) > max(i.uncertainty for i in full[3:])
    assert [i.priority for i in full] == sorted((i.priority for i in full), reverse=True)


def test_labeled_reviews_leave_the_queue(session: Session, tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    _save(reg, _model())
    ids = _reviews(session, ["the parcel was okay", "pay me now"])
    session.add(Label(target_type="review", target_id=ids[0], task="malicious", value="no", labeler="a"))
    session.commit()
    assert [i.review_id for i in build_queue(session, reg, n=5)] == [ids[1]]
    # Labeled for another task only: still in this task's queue.
    assert len(build_queue(session, reg, task="deceptive", n=5)) == 2


def test_models_that_disagree_raise_priority(session: Session, tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    _save(reg, _model())
    candidate = _save(reg, _model(flip=True))
    ids = _reviews(session, ["pay me now or else", "the parcel was okay"])
    queue = {i.review_id: i for i in build_queue(session, reg, n=5)}
    assert queue[ids[0]].disagreement > 0.5
    assert any(candidate in r for r in queue[ids[0]].reasons)


def test_without_a_model_the_stored_flag_scores_are_used(session: Session, tmp_path: Path) -> None:
    ids = _reviews(session, ["a", "b", "c"])
    for rid, score in zip(ids, [0.99, 0.52, 0.05]):
        session.add(Flag(kind="malicious", target_type="review", target_id=rid, score=score,
                         model_version="malicious-20261101000000-aaaaaa"))
    session.commit()
    queue = build_queue(session, Registry(tmp_path), n=3)
    assert queue[0].review_id == ids[1]
    assert queue[0].model_version == "malicious-20261101000000-aaaaaa"


def test_new_patterns_rank_above_familiar_ones_when_equally_uncertain(session: Session, tmp_path: Path) -> None:
    labeled = _reviews(session, ["delivery was slow and box crushed"])
    session.add(Label(target_type="review", target_id=labeled[0], task="malicious", value="no", labeler="a"))
    ids = _reviews(session, ["delivery was slow and box crushed!", "刷单返现 加微信"])
    session.commit()
    queue = build_queue(session, Registry(tmp_path), n=2)
    assert [i.review_id for i in queue] == [ids[1], ids[0]]
    assert queue[0].novelty > 0.9 > queue[1].novelty
    assert any("unlike any labeled review" in r for r in queue[0].reasons)


def test_queue_rejects_tasks_it_cannot_rank(session: Session, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="review tasks"):
        build_queue(session, Registry(tmp_path), task="professional")


def test_near_identical_reviews_are_labeled_once(session: Session, tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    _save(reg, _model())
    copies = [f"the parcel was okay {i}" for i in range(5)]  # an attack's copy-paste, all uncertain
    ids = _reviews(session, copies + ["box arrived on tuesday", "pay me now or else money threat"])
    queue = build_queue(session, reg, n=3)
    picked = [i.review_id for i in queue]
    assert sum(rid in ids[:5] for rid in picked) == 1
    assert ids[5] in picked and ids[6] in picked
    rep = next(i for i in queue if i.review_id in ids[:5])
    assert any("stands for 4 near-identical" in r for r in rep.reasons)
