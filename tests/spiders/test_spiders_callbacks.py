"""Spider callbacks offline (city-scrapers style): a saved page as a Response with its real URL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from monitor.config import Settings, ShopConfig
from monitor.demo_site.server import Marketplace
from spiders.context import CrawlContext
from spiders.parsing.common import review_item
from spiders.run import spider_class


def make_spider(settings: Settings, platform: str, url: str, *, full: bool = False, listing_urls=()):  # noqa: ANN001, ANN201
    shop = ShopConfig(id=f"{platform}-t", platform=platform, url=url, listing_urls=list(listing_urls))
    context = CrawlContext(settings, shop, None, full=full)
    cls = spider_class(platform)
    crawler = get_crawler(cls)
    crawler.stats = MemoryStatsCollector(crawler)
    spider = cls.from_crawler(crawler, context=context)
    crawler.spider = spider
    return spider


def split(results) -> tuple[list[dict], list[Request]]:  # noqa: ANN001
    results = list(results)
    return [r for r in results if isinstance(r, dict)], [r for r in results if isinstance(r, Request)]


@pytest.fixture
def market() -> Marketplace:
    m = Marketplace()
    m.base_url = "http://127.0.0.1:8000"
    return m


def response(market: Marketplace, path: str) -> TextResponse:
    status, ctype, body = market.respond(path)
    cls = TextResponse if "json" in ctype or path.startswith("/comment") else HtmlResponse
    return cls(market.base_url + path, status=status, body=body, headers={"Content-Type": ctype},
               request=Request(market.base_url + path))


def test_new_shop_requests_every_item_page(db_settings: Settings, market: Marketplace) -> None:
    spider = make_spider(db_settings, "taobao", market.base_url + "/taobao/search?shop_id=57300001")
    items, requests = split(spider.parse_shop(response(market, "/taobao/search?shop_id=57300001")))
    assert [i["listing_id"] for i in items] == ["600000000001", "600000000002", "600000000003", "600000000004"]
    assert [r.url for r in requests] == [f"{market.base_url}/taobao/item.htm?id=60000000000{n}" for n in range(1, 5)]
    assert all(r.callback == spider.parse_item for r in requests)


def test_item_page_then_reviews_pages(db_settings: Settings, market: Marketplace) -> None:
    spider = make_spider(db_settings, "jd", market.base_url + "/jd/list?shop_id=1000099")
    items, requests = split(spider.parse_item(response(market, "/jd/100012345602.html")))
    assert items[0]["title"] == "电热水壶 1.5L 316不锈钢 银色"  # served as GBK
    assert requests[0].url.endswith("productId=100012345602&score=0&sortType=6&page=0&pageSize=10")
    path = requests[0].url.removeprefix(market.base_url)
    reviews, more = split(spider.parse_reviews(response(market, path), listing_id="100012345602"))
    assert len(reviews) == 9 and more == []  # 9 reviews: one page
    read = spider.context.review_reads["100012345602"]
    assert (read.pages, read.complete, read.to_end) == (1, True, True)
    assert read.newer_than() == (True, None)  # every stored review of the listing had to be shown


def test_review_paging_stops_at_stored_reviews(db_settings: Settings, market: Marketplace) -> None:
    spider = make_spider(db_settings, "taobao", market.base_url + "/taobao/search?shop_id=57300001")
    path = "/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=600000000003&pageNo=1"
    first, follow = split(spider.parse_reviews(response(market, path)))
    assert len(first) == 10 and len(follow) == 1  # nothing stored yet: go on to page 2
    spider.context.store.store_review(first[-1])  # the oldest review of page 1 is already known
    again, follow = split(spider.parse_reviews(response(market, path)))
    assert len(again) == 10 and follow == []
    assert spider.crawler.stats.get_value("shopmon/review_paging_stopped") == 1
    full = make_spider(db_settings, "taobao", market.base_url + "/taobao/search?shop_id=57300001", full=True)
    _, follow = split(full.parse_reviews(response(market, path)))
    assert len(follow) == 1  # a full crawl never stops early
    spider.context.store.close()


def test_known_listing_costs_its_newest_review_page(db_settings: Settings, market: Marketplace) -> None:
    spider = make_spider(db_settings, "amazon", market.base_url + "/dp/B0DEMO0001")
    store = spider.context.store
    store.store_review(review_item("amazon", review_id="R1", listing_id="B0DEMO0001", text="ok", rating=5))
    request = spider.listing_request(market.base_url + "/dp/B0DEMO0001", "B0DEMO0001")
    assert request.url == market.base_url + "/product-reviews/B0DEMO0001/?sortBy=recent&pageNumber=1"
    # an unchanged review count is re-read all the same: edits of recent reviews show there
    again = spider.listing_request(market.base_url + "/dp/B0DEMO0001", "B0DEMO0001", review_count=1)
    assert again.url == request.url and again.cb_kwargs == {"listing_id": "B0DEMO0001", "depth": 1}
    assert spider.listing_request(market.base_url + "/dp/B0DEMO0009", "B0DEMO0009").callback == spider.parse_item
    store.close()
    no_window = db_settings.model_copy(update={"crawl": db_settings.crawl.model_copy(update={"recent_review_pages": 0})})
    spider = make_spider(no_window, "amazon", market.base_url + "/dp/B0DEMO0001")
    assert spider.listing_request(market.base_url + "/dp/B0DEMO0001", "B0DEMO0001", review_count=1) is None
    spider.context.store.close()


def test_review_window_reads_past_stored_reviews(db_settings: Settings, market: Marketplace) -> None:
    wide = db_settings.model_copy(update={"crawl": db_settings.crawl.model_copy(update={"recent_review_pages": 2})})
    spider = make_spider(wide, "taobao", market.base_url + "/taobao/search?shop_id=57300001")
    path = "/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=600000000003&pageNo=1"
    first, _ = split(spider.parse_reviews(response(market, path)))
    spider.context.store.store_review(first[0])
    _, follow = split(spider.parse_reviews(response(market, path), depth=1))
    assert len(follow) == 1 and follow[0].cb_kwargs["depth"] == 2  # inside the window: page 2 too
    _, follow = split(spider.parse_reviews(response(market, path), depth=2))
    assert follow == []
    read = spider.context.review_reads["600000000003"]
    assert (read.complete, read.to_end) == (True, False) and read.newer_than()[0] is True
    spider.context.store.close()


def test_shopify_starts_at_products_json(db_settings: Settings, fixtures_dir: Path) -> None:
    spider = make_spider(db_settings, "shopify", "https://farm.example/collections/all")

    async def first_request() -> Request:
        async for r in spider.start():
            return r

    req = asyncio.run(first_request())
    assert req.url == "https://farm.example/products.json?limit=30&page=1"
    body = (fixtures_dir / "pages" / "shopify" / "products_page1.json").read_bytes()
    items, requests = split(spider.parse_shop(TextResponse(req.url, body=body, request=req)))
    assert [i["listing_id"] for i in items] == ["8800000001", "8800000002"]
    assert [r.url for r in requests] == ["https://farm.example/products.json?limit=30&page=2"]


def test_schemaorg_spider_reads_product_pages(db_settings: Settings, fixtures_dir: Path) -> None:
    url = "https://shop.example.com/oak-table"
    spider = make_spider(db_settings, "schemaorg", url)
    body = (fixtures_dir / "pages" / "schemaorg" / "product_jsonld_reviews.html").read_bytes()
    items, requests = split(spider.parse_item(HtmlResponse(url, body=body, request=Request(url))))
    assert [i["kind"] for i in items] == ["listing", "review", "review"] and requests == []


def test_unparseable_page_is_saved_and_counted(db_settings: Settings, market: Marketplace) -> None:
    spider = make_spider(db_settings, "jd", market.base_url + "/jd/list?shop_id=1000099")
    url = market.base_url + "/comment/productPageComments.action?productId=1&page=0"
    bad = TextResponse(url, body=b"fetchJSON_comment98({", request=Request(url))
    assert split(spider.parse_reviews(bad)) == ([], [])
    assert spider.crawler.stats.get_value("shopmon/parse_errors/reviews") == 1
    saved = list((db_settings.data_dir / "crawl-rejects" / "pages").glob("jd-*.bin"))
    assert [p.read_bytes() for p in saved] == [b"fetchJSON_comment98({"]


def test_amazon_storefront_url_starts_as_a_shop_page(db_settings: Settings) -> None:
    search = make_spider(db_settings, "amazon", "https://www.amazon.com/s?me=A1EXAMPLE&marketplaceID=ATVPDKIKX0DER")
    product = make_spider(db_settings, "amazon", "https://www.amazon.com/dp/B0DEMO0001")
    assert (search.start_kind, product.start_kind) == ("shop", "item")
