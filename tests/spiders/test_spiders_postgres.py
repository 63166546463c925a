"""A real crawl stored in PostgreSQL (skipped when no local server answers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from models import Review, ReviewRevision
from monitor.config import load_settings
from monitor.crawl import crawl_shop
from monitor.db import get_engine, upgrade
from market_driver import serve_marketplace

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_crawl_into_postgresql(pg_url: str, tmp_path: Path) -> None:
    with serve_marketplace() as market:
        settings = load_settings(data_dir=tmp_path / "data", database_url=pg_url, shops=market.shops(),
                                 alerts={"recipients": {"serious_case": ["o@example.com"]}},
                                 crawl={"download_delay": 0, "autothrottle": False})
        upgrade(settings)
        shop = settings.shop("jd-demo")
        first = crawl_shop(settings, shop, timeout=120)
        assert (first.status, first.reviews_new) == ("ok", 37), first.error
        review_id = next(li for li in market.listings() if li["id"] == "100012345601")["reviews"][0]["id"]
        market.edit_review(review_id, text="改评：用了两周坏了", rating=1)
        again = crawl_shop(settings, shop, full=True, timeout=120)
        assert (again.status, again.reviews_new, again.reviews_updated) == ("ok", 0, 1)
    engine = get_engine(settings)
    assert engine.dialect.name == "postgresql"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Review)).one() == 37
        rev = s.exec(select(ReviewRevision)).one()
        assert rev.change == "edited" and rev.old_text != "改评：用了两周坏了"
        assert s.exec(select(Review.created_at)).first().tzinfo is not None
    engine.dispose()
