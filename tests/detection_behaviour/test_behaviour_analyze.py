"""A detection run that signs many bad reviews analyses the band tables before it walks them.

On PostgreSQL the walk looks bands up by key in the transaction that wrote them; planned from
statistics taken while the tables were empty, each look-up was a sequential scan of every band
(the first run over a 1M-review history did thousands). ``monitor.db.analyze_written``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import event, text
from sqlmodel import Session, select

import monitor.db
from models import Review, ReviewSignature
from monitor.config import load_settings
from monitor.db import get_engine, upgrade
from monitor.detection import neighbours, review_rows
from monitor.detection.reviewer_features import TEMPLATE_SIMILARITY
from spiders.item_rows import ensure_shop
from spiders.storage import ItemStore

NOW = datetime(2026, 3, 1, tzinfo=UTC)
_LINKING = {"bad_max": 2, "threshold": TEMPLATE_SIMILARITY}
WORDS = ["质量太差", "客服不理人", "发货太慢", "线头很多", "和描述不符", "味道很大", "快递压坏了", "尺码偏小"]


def _settings(url: str, tmp_path):  # noqa: ANN001, ANN202
    settings = load_settings(data_dir=tmp_path / "data", database_url=url)
    upgrade(settings)
    with Session(get_engine(settings)) as session:
        shop_id = ensure_shop(session, "taobao", "s", name="s").id
        session.commit()
    store = ItemStore(settings, shop_id=shop_id, platform="taobao", now=NOW)
    for i in range(40):
        store.store_review({"platform": "taobao", "review_id": f"r{i}", "listing_id": f"L{i % 3}", "rating": 1,
                            "text": "，".join(WORDS[(i + k) % len(WORDS)] for k in range(4)) + f"，第{i}单",
                            "created_at": (NOW - timedelta(hours=i)).isoformat(), "raw": {"userMark": f"u{i}"}})
    store.close()
    return settings


def _band_estimate_after_signing(settings) -> float:  # noqa: ANN001
    with Session(get_engine(settings)) as session:
        ids = np.array(session.exec(select(Review.id).order_by(Review.id)).all(), dtype=np.int64)
        neighbours.sign(session, ids, np.ones(len(ids), dtype=bool), **_LINKING)
        # Read in the same transaction, as the planner of the links' look-ups would.
        estimate = session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'reviewband'::regclass")).scalar()
        session.rollback()
        return estimate


def test_signing_many_reviews_analyses_the_bands_in_the_same_transaction(pg_url, tmp_path, monkeypatch):
    settings = _settings(pg_url, tmp_path)
    monkeypatch.setattr(monitor.db, "ANALYZE_AFTER_ROWS", 100)  # 40 reviews x 16 bands
    assert _band_estimate_after_signing(settings) > 100


def test_a_few_new_reviews_leave_the_statistics_to_autovacuum(pg_url, tmp_path):
    settings = _settings(pg_url, tmp_path)
    assert _band_estimate_after_signing(settings) <= 0  # -1: never analysed; 40 x 16 is under the threshold


def test_signing_deletes_old_bands_before_writing_any(database_url, tmp_path, monkeypatch):
    """A DELETE between this transaction's band inserts is planned on the statistics of the table
    as it was before them: at 1M PostgreSQL scanned every band written so far, for each DELETE."""
    monkeypatch.setattr(review_rows, "CHUNK", 5)  # texts signed in several chunks, as at scale
    settings = _settings(database_url, tmp_path)
    writes: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, ARG001
        words = statement.split()
        if words[0] in ("INSERT", "DELETE") and "reviewband" in words[:4]:
            writes.append(words[0])

    engine = get_engine(settings)
    with Session(engine) as session:
        ids = np.array(session.exec(select(Review.id).order_by(Review.id)).all(), dtype=np.int64)
        bad = ids % 2 == 0
        neighbours.sign(session, ids, bad, **_LINKING)  # a first signing, then the same reviews scored again
        session.flush()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            neighbours.sign(session, ids, ~bad, **_LINKING)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        signed = set(session.exec(select(ReviewSignature.review_id)).all())
        session.rollback()
    assert "DELETE" in writes and "INSERT" in writes
    assert writes.index("INSERT") > max(i for i, w in enumerate(writes) if w == "DELETE")
    assert signed == set(ids[~bad].tolist())
