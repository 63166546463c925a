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


def run_now(coro) -> None:  # noqa: ANN001  (no reactor in a unit test)
    """Drive a coroutine that awaits nothing pending to its end, as the reactor would."""
    try:
        coro.send(None)
    except StopIteration:
        pass


def test_wall_middleware_stops_on_captcha_and_blocks(crawler, monkeypatch) -> None:
    closed: list[str] = []

    async def close(reason: str) -> None:
        closed.append(reason)

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
    s = scrapy_settings(redis, run_key="shopmon:taobao:tb-1:run7")
    assert s["SCHEDULER"] == "scrapy_redis.scheduler.Scheduler"
    assert (s["SCHEDULER_QUEUE_KEY"], s["SCHEDULER_DUPEFILTER_KEY"]) == (
        "shopmon:taobao:tb-1:run7:requests", "shopmon:taobao:tb-1:run7:dupefilter")
    assert "spiders.middlewares.cookies.CookiesFileMiddleware" in s["DOWNLOADER_MIDDLEWARES"]


def test_backoff_doubles_the_domain_delay_on_429(crawler) -> None:
    from spiders.middlewares.backoff import BackoffMiddleware

    slot = SimpleNamespace(delay=0.0)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"shop.example": slot}))
    mw = BackoffMiddleware.from_crawler(crawler)
    req = Request("https://shop.example/item/1")
    for expected in (0.5, 1.0, 2.0):
        mw.process_response(req, HtmlResponse(req.url, status=429, body=b"", request=req))
        assert slot.delay == expected
    mw.process_response(req, HtmlResponse(req.url, status=503, body=b"", request=req,
                                          headers={"Retry-After": "30"}))
    assert slot.delay == 30.0  # the server's own wish wins when it is longer
    mw.process_response(req, HtmlResponse(req.url, status=200, body=b"ok", request=req))
    assert slot.delay == 30.0 and crawler.stats.get_value("shopmon/backoff") == 4


def test_images_pipeline_records_paths_and_failures(crawler, db_settings: Settings, tmp_path) -> None:
    from twisted.python.failure import Failure

    from spiders.pipelines.images import ListingImagesPipeline
    from spiders.storage import ItemStore

    store = crawler.spider.context.store
    listing_id, new = store.store_listing(listing_item("jd", listing_id="7", images=["http://x/a.png", "http://x/b.png"]))
    pipe = ListingImagesPipeline.__new__(ListingImagesPipeline)
    pipe.crawler, pipe.max_bytes, pipe.images_root = crawler, 1234, tmp_path
    item = {"_listing_row_id": listing_id, "_new_images": new}
    requests = pipe.get_media_requests(item, None)
    assert [(r.url, r.meta["download_maxsize"]) for r in requests] == [("http://x/a.png", 1234), ("http://x/b.png", 1234)]
    results = [(True, {"url": "http://x/a.png", "path": "full/a.png", "checksum": "c0ffee"}),
               (False, Failure(ValueError("Cancelling download: size 9999 larger than 1234")))]
    assert pipe.item_completed(results, item, None) == {}
    store.close()
    check = ItemStore(db_settings, shop_id=None, platform="jd")
    from models import ListingImage
    from sqlmodel import select

    rows = {r.url: r for r in check.session.exec(select(ListingImage)).all()}
    assert rows["http://x/a.png"].local_path == "full/a.png"  # the key in the image store, not a machine's path
    assert rows["http://x/b.png"].local_path is None and "larger than 1234" in rows["http://x/b.png"].fetch_error
    check.close()


def test_an_image_the_store_refused_is_fetched_again_by_the_next_crawl(crawler, db_settings: Settings, tmp_path) -> None:
    import io

    from scrapy.pipelines.media import FileException
    from sqlmodel import select
    from twisted.python.failure import Failure

    from models import ListingImage
    from monitor.image_store import STORE_FAILURE, ImageStoreError
    from spiders.pipelines.images import ImageStoreFiles, ListingImagesPipeline
    from spiders.storage import ItemStore

    blocked = tmp_path / "images"
    blocked.write_text("not a directory: the shared volume is not mounted")
    with pytest.raises(ImageStoreError) as refused:
        ImageStoreFiles(str(blocked)).persist_file("full/a.png", io.BytesIO(b"png"), None)
    assert str(refused.value).startswith(STORE_FAILURE)

    store = crawler.spider.context.store
    item = listing_item("jd", listing_id="8", images=["http://x/a.png", "http://x/b.png"])
    listing_id, new = store.store_listing(item)
    pipe = ListingImagesPipeline.__new__(ListingImagesPipeline)
    pipe.crawler, pipe.max_bytes = crawler, 1234
    results = [(False, Failure(FileException(str(refused.value)))),
               (True, {"url": "http://x/b.png", "path": "full/b.png", "checksum": "c0ffee"})]
    pipe.item_completed(results, {"_listing_row_id": listing_id, "_new_images": new}, None)
    store.close()
    again = ItemStore(db_settings, shop_id=None, platform="jd")
    row = again.session.exec(select(ListingImage).where(ListingImage.url == "http://x/a.png")).one()
    assert row.local_path is None and row.fetch_error.startswith(STORE_FAILURE)
    # The next crawl asks for the refused image again (and not for the stored one).
    assert again.store_listing(item)[1] == ["http://x/a.png"]
    again.close()


def test_the_crawl_writes_to_the_configured_store(db_settings: Settings, tmp_path) -> None:
    shared = tmp_path / "shared-volume"
    settings = db_settings.model_copy(update={"listings": db_settings.listings.model_copy(
        update={"image_store": str(shared)})})
    assert scrapy_settings(settings)["FILES_STORE"] == str(shared.resolve())
    assert scrapy_settings(db_settings)["FILES_STORE"] == str(db_settings.images_path.resolve())  # the default


def test_the_crawl_caps_images_by_the_one_image_size_setting(db_settings: Settings) -> None:
    settings = db_settings.model_copy(update={"listings": db_settings.listings.model_copy(update={"max_image_bytes": 4321})})
    assert scrapy_settings(settings)["SHOPMON_IMAGE_MAX_BYTES"] == 4321
