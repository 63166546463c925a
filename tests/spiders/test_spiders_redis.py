"""Crawls with their queue and dupefilter in the local Redis (scrapy-redis); skipped when no
Redis answers on 127.0.0.1:6379."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from models import CrawlRun, Review
from monitor.config import load_settings
from monitor.crawl import crawl_shop
from monitor.db import get_engine, upgrade
from market_driver import serve_marketplace

pytestmark = pytest.mark.slow


@pytest.fixture
def scrapy_redis_client(redis_client):  # noqa: ANN001, ANN201
    pytest.importorskip("scrapy_redis", reason="scrapy-redis not installed (pip install '.[distributed]')")
    return redis_client


def test_two_crawls_of_the_same_shop_keep_their_own_queues(scrapy_redis_client, redis_url: str, tmp_path: Path) -> None:
    """Two machines (here: two databases) crawling the same shop at once through one Redis each
    get every review. scrapy-redis' default keys are per spider name: the second crawl's
    dupefilter would drop the pages the first had already asked for."""
    with serve_marketplace() as market:
        total = sum(len(li["reviews"]) for li in market.listings() if li["id"].startswith("6000"))
        runs: dict[str, CrawlRun] = {}
        settings = {}
        for name in ("a", "b"):
            settings[name] = load_settings(data_dir=tmp_path / name, shops=market.shops(),
                                           alerts={"recipients": {"serious_case": ["o@example.com"]}},
                                           crawl={"download_delay": 0, "autothrottle": False, "redis_url": redis_url})
            upgrade(settings[name])

        # One listing's review API answers slowly, so the two crawls are surely running at once.
        market.inject("auctionNumId=600000000004", body=None, delay=2.0, times=2)

        def crawl(name: str) -> None:
            runs[name] = crawl_shop(settings[name], settings[name].shop("tb-demo"), timeout=120)

        threads = [threading.Thread(target=crawl, args=(n,)) for n in settings]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    for name, run in runs.items():
        assert (run.status, run.reviews_new, run.listings_seen) == ("ok", total, 4), (name, run.error)
        assert run.stats["scheduler/enqueued/redis"] == run.stats["scheduler/dequeued/redis"] > 0
        with Session(get_engine(settings[name])) as s:
            assert s.exec(select(func.count()).select_from(Review)).one() == total
    # SCHEDULER_PERSIST is off: a finished crawl leaves nothing behind in Redis
    assert not list(scrapy_redis_client.scan_iter("shopmon:taobao:tb-demo:*"))
