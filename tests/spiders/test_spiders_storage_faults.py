"""A disk that fills up mid-crawl (issue 12 item 4): one clear error, counts equal to what was
stored, no PendingRollbackError. SQLite's max_page_count gives a real "database or disk is full"."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from models import Review
from monitor.config import Settings
from monitor.db import get_engine
from monitor.errors import StorageError
from spiders import storage
from spiders.parsing.common import review_item
from spiders.item_rows import ensure_shop
from spiders.storage import ItemStore
from test_spiders_pipelines import run_now


def _limit_pages(dbapi_conn, _record) -> None:  # noqa: ANN001
    pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
    dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 60}")


def test_disk_full_mid_crawl_is_one_line_and_counts_match_the_database(db_settings: Settings, monkeypatch) -> None:
    monkeypatch.setattr(storage, "BATCH_SIZE", 20)
    engine = get_engine(db_settings)
    with Session(engine) as s:
        shop_id = ensure_shop(s, "jd", "jd-test").id
        s.commit()
    store = ItemStore(db_settings, shop_id=shop_id, platform="jd")
    event.listen(engine, "connect", _limit_pages)
    engine.dispose()
    try:
        with pytest.raises(StorageError) as err:
            for n in range(5000):
                store.store_review(review_item("jd", review_id=str(n), listing_id="100", reviewer_nick="j***y",
                                               text=f"评论 {n} " + "很好" * 200, rating=5,
                                               created_at="2026-11-01T10:00:00+08:00"))
        message = str(err.value)
        assert "database or disk is full" in message and "\n" not in message
        assert "PendingRollback" not in message
        store.close()  # no PendingRollbackError on the way out
        with Session(engine) as s:
            stored = s.exec(select(func.count()).select_from(Review)).one()
        assert 0 < stored < 5000
        assert store.counts.reviews_new == stored
        with pytest.raises(StorageError, match="storing failed, crawl stopped"):
            store.commit()  # stays stopped: no half batch later
    finally:
        event.remove(engine, "connect", _limit_pages)
        engine.dispose()


def test_store_pipeline_stops_the_crawl_once_on_a_database_error(db_settings: Settings, monkeypatch) -> None:
    from types import SimpleNamespace

    from scrapy.exceptions import DropItem
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler
    from sqlalchemy.exc import OperationalError

    from monitor.config import ShopConfig
    from spiders.context import CrawlContext
    from spiders.pipelines.store import StorePipeline

    closed: list[str] = []

    async def close(reason: str) -> None:
        closed.append(reason)

    monkeypatch.setattr("spiders.pipelines.store.deferred_from_coro", run_now)
    crawler = get_crawler()
    crawler.stats = MemoryStatsCollector(crawler)
    with Session(get_engine(db_settings)) as s:
        shop_row = ensure_shop(s, "jd", "jd-x")
        s.commit()
        shop_id = shop_row.id
    shop = ShopConfig(id="jd-x", platform="jd", url="https://mall.jd.com/index-1.html")
    crawler.spider = SimpleNamespace(context=CrawlContext(db_settings, shop, shop_id))
    crawler.engine = SimpleNamespace(close_spider_async=close)
    pipe = StorePipeline(crawler)
    store = crawler.spider.context.store

    def full(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    item = review_item("jd", review_id="1", listing_id="100", reviewer_nick="j***y", text="好", rating=5,
                       created_at="2026-11-01T10:00:00+08:00")
    monkeypatch.setattr(store.session, "execute", full)
    for _ in range(3):
        with pytest.raises(DropItem):
            pipe.process_item(dict(item))
    assert closed == ["storage"]
    assert crawler.spider.context.failure == "storage"
    assert "database or disk is full" in crawler.spider.context.failure_detail
    pipe.close_spider()  # no PendingRollbackError while closing
