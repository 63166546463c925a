"""The shared spider: shop page → listings → item pages → review pages, incrementally.

Site spiders only name their parsers and how to build a review-API URL (hooks); the crawl
logic lives here once. Parsers are the pure functions in spiders.parsing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.context import CrawlContext
from spiders.parsing.common import PageResult, ParseError
from spiders.parsing.detect import PAGE_PARSERS
from spiders.parsing.responses import as_text

log = logging.getLogger(__name__)


class ShopSpider(scrapy.Spider):
    name = "base"
    start_kind = "shop"
    """How to parse the configured shop URL: "shop" (a page of item cards) or "item"."""

    def __init__(self, context: CrawlContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.full = context.full

    # Hooks ------------------------------------------------------------------------------------
    def reviews_url(self, base_url: str, listing_id: str) -> str | None:
        """First (newest) page of a listing's reviews, or None when the site has no review API."""
        return None

    def listing_id_from_url(self, url: str) -> str | None:
        return None

    # Crawl ------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        shop = self.context.shop
        urls = [str(u) for u in shop.listing_urls]
        if self.start_kind == "shop":
            yield scrapy.Request(str(shop.url), callback=self.parse_shop, dont_filter=True)
        else:  # the shop URL is itself a product page
            urls.insert(0, str(shop.url))
        for url in urls:
            request = self.listing_request(url, self.listing_id_from_url(url))
            if request is not None:
                yield request

    def listing_request(self, url: str, listing_id: str | None, review_count: int | None = None) -> scrapy.Request | None:
        """Incremental rule: a known listing costs its newest ``crawl.recent_review_pages`` review
        pages, where edits and deletions of recent reviews show; with 0 pages, nothing when the
        shop page shows the same review count as we have stored, else its newest page."""
        store = self.context.store
        state = store.listing_state(self.name, listing_id) if listing_id else None
        if state is None or self.full:
            return scrapy.Request(url, callback=self.parse_item)
        recheck = self.context.settings.crawl.recent_review_pages
        if not recheck and review_count is not None and review_count == state[1]:
            self.crawler.stats.inc_value("shopmon/listings_unchanged")
            return None
        reviews = self.reviews_url(url, listing_id)
        if reviews is None:
            return scrapy.Request(url, callback=self.parse_item)
        return scrapy.Request(reviews, callback=self.parse_reviews, cb_kwargs={"listing_id": listing_id, "depth": 1})

    def parse_shop(self, response: Response) -> Iterator[Any]:
        result = self._parse("shop", response)
        if result.info.get("dsr"):
            self.context.store.set_shop_dsr(result.info["dsr"])
        for listing in result.listings:
            request = self.listing_request(listing.get("url") or response.url, listing["listing_id"],
                                           listing.get("review_count"))
            yield listing
            if request is not None:
                yield request
        yield from self._follow(result)

    def parse_item(self, response: Response) -> Iterator[Any]:
        result = self._parse("item", response)
        yield from result.items
        yield from self._follow(result)

    def parse_reviews(self, response: Response, listing_id: str | None = None, depth: int = 1) -> Iterator[Any]:
        """One page of a listing's reviews, newest first; ``depth`` counts the pages read so far."""
        result = self._parse("reviews", response)
        listing_id = result.info.get("listing_id") or listing_id
        reviews = result.reviews
        known = self.context.store.known_reviews(self.name, [r["review_id"] for r in reviews])
        yield from result.items
        more = any(f.kind == "reviews" for f in result.follow)
        if listing_id:
            # only a page the parser judged whole (spiders.parsing.completeness) is evidence of deletions
            self.context.read_reviews(str(listing_id), complete=result.complete,
                                      created=[r.get("created_at") for r in reviews], last=not more)
        if known and not self.full and depth >= self.context.settings.crawl.recent_review_pages:
            # newest first: past the re-read window, once a page reaches stored reviews every
            # older page is stored too
            self.crawler.stats.inc_value("shopmon/review_paging_stopped")
            return
        yield from self._follow(result, depth)

    # Helpers ----------------------------------------------------------------------------------
    def _follow(self, result: PageResult, depth: int = 0) -> Iterator[scrapy.Request]:
        callbacks = {"shop": self.parse_shop, "item": self.parse_item, "reviews": self.parse_reviews}
        for f in result.follow:
            kwargs = {"listing_id": f.meta["listing_id"], "depth": depth + 1} if f.kind == "reviews" else {}
            yield scrapy.Request(f.url, callback=callbacks[f.kind], cb_kwargs=kwargs)

    def _parse(self, kind: str, response: Response) -> PageResult:
        parser = PAGE_PARSERS[(self.name, kind)]
        stats = self.crawler.stats
        stats.inc_value(f"shopmon/pages/{kind}")
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            result = parser(as_text(response))
        except ParseError as exc:
            # Keep the page: an analyst can replay it with `shopmon parse` once the parser is fixed.
            stats.inc_value("shopmon/parse_errors")
            stats.inc_value(f"shopmon/parse_errors/{kind}")
            path = self._keep_page(response)
            log.warning("cannot parse %s page %s: %s (saved as %s)", kind, response.url, exc, path)
            result = PageResult(page_kind=kind)
            result.count("parse_error")
            return result
        finally:
            # the reactor waits while a page is parsed: benchmarks/parse.py sets this against the
            # crawl's wall time
            stats.inc_value("shopmon/parse_seconds", time.perf_counter() - started, start=0.0)
            stats.inc_value("shopmon/parse_cpu_seconds", time.process_time() - cpu_started, start=0.0)
        for key, value in result.stats.items():
            if value:
                stats.inc_value(f"shopmon/{key}", value)
        if not result.complete:
            stats.inc_value("shopmon/pages_incomplete")
            log.info("incomplete %s page %s: %s", kind, response.url, result.incomplete)
        return result

    def _keep_page(self, response: Response) -> str:
        folder = self.context.settings.data_dir / "crawl-rejects" / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(response.url.encode()).hexdigest()[:16]
        path = folder / f"{self.name}-{name}.bin"
        path.write_bytes(response.body)
        (folder / f"{self.name}-{name}.url").write_text(response.url + "\n", encoding="utf-8")
        return str(path)
