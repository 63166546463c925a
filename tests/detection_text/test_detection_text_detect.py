"""`detect()` on a database: flags with versions and reasons, idempotent re-runs, behaviour hand-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models import Flag, Listing, Review, Shop
from monitor.config import Settings
from monitor.detection import DetectSummary, detect

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
TEXTS = [
    ("不给我返现100元我就一直给差评，你们看着办。", 1),  # extortion
    ("Pay me $80 or I will leave one-star reviews on all your products.", 1),  # extortion
    ("键盘用了一周就坏了，做工很差。", 2),  # genuine: quality
    ("The box was crushed and the lamp arrived cracked.", 1),  # genuine: transport damage
    ("质量很好，物流也快，很满意！", 5),  # praise: no cause
    ("", 1),  # empty text: scored, nothing to flag
]


def _seed(session: Session) -> list[int]:
    shop = Shop(platform="taobao", external_id="s1", name="shop")
    session.add(shop)
    session.flush()
    listing = Listing(platform="taobao", external_id="l1", shop_id=shop.id, title="item")
    session.add(listing)
    session.flush()
    ids = []
    for i, (text, rating) in enumerate(TEXTS):
        r = Review(platform="taobao", external_id=f"r{i}", text=text, rating=rating, shop_id=shop.id,
                   listing_id=listing.id, created_at=NOW - timedelta(days=1))
        session.add(r)
        session.flush()
        ids.append(r.id)
    session.commit()
    return ids


@pytest.fixture
def no_behaviour(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace reviewer/attack detection with a recorder (it has its own tests)."""
    import monitor.detection.runner as runner

    calls: list[dict] = []

    def fake(session, settings, *, now, review_ids):  # noqa: ANN001, ANN202
        calls.append({"now": now, "review_ids": None if review_ids is None else list(review_ids)})
        return {"professional": 0, "attack": 0}

    monkeypatch.setattr(runner, "_behaviour_run", fake)
    return calls


def _flags(session: Session) -> list[Flag]:
    return list(session.exec(select(Flag).order_by(Flag.id)))


def test_detect_writes_flags_with_versions_and_reasons(
    session: Session, seeded_settings: Settings, no_behaviour: list[dict]
) -> None:
    ids = _seed(session)
    summary = detect(session, seeded_settings, now=NOW)
    session.commit()
    assert isinstance(summary, DetectSummary)
    counts = summary.as_dict()
    assert counts["reviews_scored"] == 6
    assert counts["malicious"] == 2
    assert counts["professional"] == 0  # behaviour counts are merged in
    flags = _flags(session)
    malicious = {f.target_id for f in flags if f.kind == "malicious"}
    assert malicious == {ids[0], ids[1]}
    causes = {f.target_id: f.label for f in flags if f.kind == "cause"}
    # Extortion gets no cause; praise (5 stars) and empty text get none either.
    assert causes == {ids[2]: "quality", ids[3]: "transport_damage"}
    for f in flags:
        assert f.target_type == "review" and f.review_id == f.target_id
        assert f.model_version == summary.model_versions[f.kind]
        assert f.reasons and f.model_version in f.reasons[0]
        assert f.shop_id is not None and f.listing_id is not None
    mal_reasons = next(f.reasons for f in flags if f.target_id == ids[0] and f.kind == "malicious")
    assert any("一直给差评" in r for r in mal_reasons), mal_reasons
    assert all(r.scored_at == NOW for r in session.exec(select(Review)))
    assert no_behaviour == [{"now": NOW, "review_ids": ids}]


def test_second_run_scores_only_new_reviews_and_rescore_updates(
    session: Session, seeded_settings: Settings, no_behaviour: list[dict]
) -> None:
    ids = _seed(session)
    detect(session, seeded_settings, now=NOW)
    session.commit()
    before = len(_flags(session))
    again = detect(session, seeded_settings, now=NOW)
    session.commit()
    assert again.scored == 0 and len(_flags(session)) == before
    assert no_behaviour[-1]["review_ids"] == ids  # the empty second run did not call behaviour

    rescored = detect(session, seeded_settings, rescore=True, now=NOW + timedelta(hours=1))
    session.commit()
    assert rescored.scored == 6
    assert rescored.as_dict()["flags_updated"] == before
    assert sum(rescored.created.values()) == 0
    assert len(_flags(session)) == before  # the unique (kind, target, version) row was updated
    assert no_behaviour[-1]["review_ids"] is None  # rescore: behaviour looks at everything


def test_edited_review_keeps_its_flag_and_new_text_is_scored(
    session: Session, seeded_settings: Settings, no_behaviour: list[dict]
) -> None:
    ids = _seed(session)
    detect(session, seeded_settings, now=NOW)
    session.commit()
    review = session.get(Review, ids[2])
    review.text = "颜色和图片完全不一样，色差太大了。"
    review.scored_at = None  # what the spiders' pipeline does on an edit
    extortion = session.get(Review, ids[0])
    extortion.text, extortion.rating, extortion.scored_at = "很好，五星！", 5, None
    session.commit()
    second = detect(session, seeded_settings, now=NOW + timedelta(hours=2))
    session.commit()
    assert second.scored == 2
    cause = session.exec(select(Flag).where(Flag.kind == "cause", Flag.target_id == ids[2])).one()
    assert cause.label == "not_as_pictured"
    # Evidence stays: the extortion flag survives the edit to five stars.
    assert session.exec(select(Flag).where(Flag.kind == "malicious", Flag.target_id == ids[0])).one()


def test_threshold_override_from_settings(session: Session, seeded_settings: Settings, no_behaviour: list[dict]) -> None:
    _seed(session)
    strict = seeded_settings.model_copy(
        update={"detection": seeded_settings.detection.model_copy(update={"thresholds": {"malicious": 0.9999}})}
    )
    summary = detect(session, strict, now=NOW)
    assert summary.created["malicious"] == 0


def test_behaviour_detection_runs_after_the_text_models(session: Session, seeded_settings: Settings) -> None:
    pytest.importorskip("monitor.detection.behaviour", reason="reviewer/attack detection not in this tree")
    _seed(session)
    summary = detect(session, seeded_settings, now=NOW)
    session.commit()
    assert summary.scored == 6
    assert all(isinstance(v, int) for v in summary.as_dict().values())


def test_first_use_trains_and_registers_the_seed_models(session: Session, db_settings: Settings,
                                                        no_behaviour: list[dict]) -> None:
    from monitor.registry import registry_for

    registry = registry_for(db_settings)
    assert registry.live_version("malicious") is None
    # Nothing to score: the models are neither loaded nor trained.
    assert detect(session, db_settings, now=NOW).as_dict()["reviews_scored"] == 0
    assert registry.live_version("malicious") is None
    _seed(session)
    summary = detect(session, db_settings, now=NOW)
    assert summary.scored == len(TEXTS)
    for name in ("malicious", "deceptive", "cause"):
        live = registry.live_version(name)
        assert live == summary.model_versions[name]
        meta = registry.meta(name, live)
        assert meta.thresholds and meta.data_fingerprint.startswith("sha256:")
        assert "seed corpus" in meta.params["source"]
