"""The board's query on its own: keyset pages under each indexed filter, ties in opened_at, the bounded count."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from models import Case, Shop
from models.cases import severity_rank
from monitor.db import session_scope, upgrade
from monitor.web.board_query import COUNT_CAP, BoardFilter, BoardPage, board_page, bounded_count, parse_cursor
from web_testkit import web_settings

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path):  # noqa: ANN001, ANN201
    settings = web_settings(tmp_path)
    upgrade(settings)
    rng = random.Random(3)
    with session_scope(settings) as s:
        shops = [Shop(platform="taobao", external_id=f"s{i}") for i in range(2)]
        s.add_all(shops)
        s.flush()
        for i in range(60):
            # every third case shares its opened_at with the one before: the cursor must split ties by id
            at = T0 + timedelta(minutes=(i - i % 3 // 2) * 7 % 97)
            s.add(Case(severity=rng.choice(("low", "medium", "high", "critical")),
                       state=rng.choice(("open", "contacted", "closed")), owner=rng.choice((None, "amy", "bo")),
                       shop_id=shops[i % 2].id, opened_at=at, updated_at=at, last_progress_at=at))
    return settings


def _walk(settings, query: dict[str, str]) -> list[int]:  # noqa: ANN001
    seen: list[int] = []
    after = None
    with session_scope(settings) as s:
        for _ in range(100):
            f = BoardFilter.from_query({**query, **({"after": after} if after else {})})
            page = board_page(s, f, page_size=5, overdue_hours=48)
            seen += [r.id for r in page.rows]
            if page.next_cursor is None:
                return seen
            assert parse_cursor(page.next_cursor) is not None
            after = page.next_cursor
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("query", [{}, {"state": "open"}, {"owner": "amy"}, {"shop": "1"},
                                   {"state": "contacted", "severity": "high"}, {"owner": "bo", "state": "closed"}])
def test_keyset_pages_return_every_matching_case_once_worst_first_then_oldest(settings, query) -> None:  # noqa: ANN001
    with session_scope(settings) as s:
        cases = [c for c in s.exec(select(Case)).all()
                 if all(str(getattr(c, "shop_id" if k == "shop" else k)) == v for k, v in query.items())]
        expected = [c.id for c in sorted(cases, key=lambda c: (-severity_rank(c.severity), c.opened_at, c.id))]
    assert expected, "the seed should match every filter"
    assert _walk(settings, query) == expected


def test_the_count_stops_past_its_cap_and_says_so(settings) -> None:  # noqa: ANN001
    with session_scope(settings) as s:
        assert bounded_count(s, BoardFilter(), [], cap=10) == 11
        assert bounded_count(s, BoardFilter(), [], cap=100) == 60
        assert board_page(s, BoardFilter(), page_size=5, overdue_hours=48).total_text == "60"
    assert BoardPage([], {}, COUNT_CAP + 1, None).total_text == f"{COUNT_CAP:,}+"
    assert BoardPage([], {}, COUNT_CAP, None).total_text == f"{COUNT_CAP:,}"
