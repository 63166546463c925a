"""Item pipelines and middlewares in isolation (no network)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem, IgnoreRequest
from scrapy.http import HtmlResponse, Request
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from monitor.config import Settings, ShopConfig
from spiders.context import CrawlContext
from spiders.middlewares.blocks import WallDetectionMiddleware
from spiders.middlewares.cookies import load_cookies
from spiders.parsing.common import listing_item, review_item
from spiders.pipelines.dedupe import DedupePipeline
from spiders.pipelines.normalise import NormalisePipeline
from spiders.pipelines.validate import ValidatePipeline, problems
from spiders.settings import scrapy_settings


@pytest.fixture
def crawler(db_settings: Settings):
    c = get_crawler()
    c.stats = MemoryStatsCollector(c)
    shop = ShopConfig(id="jd-x", platform="jd", url="https://mall.jd.com/index-1.html")
    c.spider = SimpleNamespace(context=CrawlContext(db_settings, shop, None))
    return c


def test_validate_counts_and_keeps_bad_items(crawler) -> None:
    pipe = ValidatePipeline.from_crawler(crawler)
    good = review_item("jd", review_id="1", text="好", rating=5, created_at="2026-11-01T10:00:00+08:00")
    assert pipe.process_item(good) is good
    bad = [
        review_item("jd", review_id="", text="no id", rating=5),
        review_item("jd", review_id="2", text="x", rating=9),
        review_item("jd", review_id="3", text="", rating=None),
        review_item("jd", review_id="4", text="x", created_at="2026-11-01 10:00"),
        listing_item("jd", listing_id=None),
    ]
    for item in bad:
        with pytest.raises(DropItem, match="kept in the rejects file"):
            pipe.process_item(item)
    assert crawler.stats.get_value("shopmon/items_invalid") == 5
    lines = crawler.spider.context.rejects_path.read_text(encoding="utf-8").splitlines()
    reasons = [json.loads(line)["reason"] for line in lines]
    assert reasons == ["review without review_id", "rating 9 outside 1-5", "review with no text, rating or photos",
                       "created_at without time zone", "listing without listing_id"]


def test_problems_accepts_photo_only_reviews() -> None:
    assert problems(review_item("taobao", review_id="9", text="", photos=["https://img/x.jpg"])) == []


def test_normalise_and_dedupe(crawler) -> None:
    norm = NormalisePipeline.from_crawler(crawler)
    item = norm.process_item(review_item("jd", review_id=5, text="  很好\u3000用 ", rating=5,
                                         photos=["https://a", "https://a", ""]))
    assert (item["text"], item["review_id"], item["photos"]) == ("很好 用", "5", ["https://a"])
    dedupe = DedupePipeline.from_crawler(crawler)
    dedupe.process_item(item)
    with pytest.raises(DropItem, match="duplicate review 5"):
        dedupe.process_item(dict(item))
    assert crawler.stats.get_value("shopmon/items_duplicate") == 1


def test_wall_middleware_stops_on_captcha_and_blocks(crawler, monkeypatch) -> None:
    closed: list[str] = []

    async def close(reason: str) -> None:
        closed.append(reason)

    def run_now(coro):  # noqa: ANN001, ANN202  (no reactor in a unit test)
        try:
            coro.send(None)
        except StopIteration:
            pass

    monkeypatch.setattr("spiders.middlewares.blocks.deferred_from_coro", run_now)
    crawler.engine = SimpleNamespace(close_spider_async=close)
    mw = WallDetectionMiddleware.from_crawler(crawler)
    req = Request("https://item.taobao.com/item.htm?id=1")
    ok = HtmlResponse(req.url, body=b"<html><body>g_config</body></html>", request=req)
    assert mw.process_response(req, ok) is ok
    captcha = HtmlResponse(req.url, body=b"<html><div id='nc_1_wrapper'></div></html>", request=req)
    with pytest.raises(IgnoreRequest):
        mw.process_response(req, captcha)
    assert crawler.spider.context.failure == "captcha"
    blocked = HtmlResponse(req.url, status=429, body=b"", request=req)
    with pytest.raises(IgnoreRequest):
        mw.process_response(req, blocked)
    assert crawler.stats.get_value("shopmon/wall/blocked") == 1
    assert crawler.spider.context.failure == "captcha"  # the first cause is the one reported
    assert closed == ["captcha"]  # the spider is closed once


def test_cookies_file_formats(tmp_path) -> None:
    j = tmp_path / "c.json"
    j.write_text('{"cna": "abc", "t": "123"}')
    assert load_cookies(j) == {"cna": "abc", "t": "123"}
    n = tmp_path / "cookies.txt"
    n.write_text("# Netscape HTTP Cookie File\n.taobao.com\tTRUE\t/\tFALSE\t0\tcna\tabc\n")
    assert load_cookies(n) == {"cna": "abc"}


def test_scrapy_settings_follow_config(settings: Settings, tmp_path) -> None:
    s = scrapy_settings(settings)
    assert s["ROBOTSTXT_OBEY"] is True and s["AUTOTHROTTLE_ENABLED"] is True
    assert s["USER_AGENT"].startswith("shopmon/")
    assert 429 in s["RETRY_HTTP_CODES"] and s["RETRY_TIMES"] == 3
    assert "SCHEDULER" not in s and "SHOPMON_COOKIES_FILE" not in s
    cookie_file = tmp_path / "c.json"
    cookie_file.write_text("{}")
    redis = settings.model_copy(update={"crawl": settings.crawl.model_copy(
        update={"redis_url": "redis://127.0.0.1:6379/0", "cookies_file": cookie_file})})
    s = scrapy_settings(redis)
    assert s["SCHEDULER"] == "scrapy_redis.scheduler.Scheduler"
    assert "spiders.middlewares.cookies.CookiesFileMiddleware" in s["DOWNLOADER_MIDDLEWARES"]
