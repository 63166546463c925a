"""Migration 0004 on a database from the release before it: 旺旺 replaces "messaged", cases learn the review's time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from monitor.config import load_settings
from monitor.db import get_engine, upgrade
from models import Case, CaseEvent

ROWS = [
    "INSERT INTO shop (id, platform, external_id, dsr, created_at) VALUES (1, 'taobao', 's1', '{}', '2026-01-01 00:00:00')",
    "INSERT INTO reviewer (id, platform, external_id, nick, extra, watchlisted, first_seen) "
    "VALUES (1, 'taobao', 'tb_8812', 'a***9', '{}', false, '2026-01-01 00:00:00')",
    "INSERT INTO review (id, platform, external_id, reviewer_id, shop_id, text, created_at, photos, raw, "
    "decode_errors, first_seen, last_seen, revision_count) VALUES (1, 'taobao', 'r1', 1, 1, 'bad', "
    "'2026-01-02 08:30:00', '[]', '{}', 0, '2026-01-03 00:00:00', '2026-01-03 00:00:00', 0)",
    "INSERT INTO \"case\" (id, review_id, shop_id, severity, state, contact_status, kinds, opened_at, updated_at, "
    "last_progress_at) VALUES (1, 1, 1, 'high', 'contacted', 'messaged', '[]', '2026-01-03 00:00:00', "
    "'2026-01-03 00:00:00', '2026-01-03 00:00:00')",
    "INSERT INTO caseevent (case_id, at, actor, action, data) VALUES (1, '2026-01-03 01:00:00', 'amy', 'contact', "
    "'{\"channel\": \"messaged\"}')",
    "INSERT INTO caseevent (case_id, at, actor, action, data) VALUES (1, '2026-01-03 02:00:00', 'amy', 'note', '{}')",
]


def _check(settings) -> None:  # noqa: ANN001
    upgrade(settings, "0003")
    with get_engine(settings).begin() as conn:
        for row in ROWS:
            conn.execute(text(row))
    upgrade(settings)
    with Session(get_engine(settings)) as session:
        case = session.exec(select(Case)).one()
        assert case.contact_status == "wangwang"
        assert case.buyer_platform_id == "tb_8812"
        assert case.review_posted_at.isoformat() == "2026-01-02T08:30:00+00:00"
        events = session.exec(select(CaseEvent).order_by(CaseEvent.id)).all()
        assert [e.data for e in events] == [{"channel": "wangwang"}, {}]


def test_messaged_becomes_wangwang_on_sqlite(tmp_path: Path) -> None:
    _check(load_settings(data_dir=tmp_path))


@pytest.mark.postgres
def test_messaged_becomes_wangwang_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    _check(load_settings(database_url=pg_url, data_dir=tmp_path))
