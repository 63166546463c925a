"""Recognise pages that are not the content we asked for, even when served with HTTP 200.

A captcha or login wall means every further request will fail the same way, so the crawl
stops and records why (CrawlRun.failure_kind) instead of storing the wall as "zero reviews".
"""

from __future__ import annotations

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from spiders.component import CrawlerComponent
from spiders.parsing.walls import classify_wall as classify_page


def classify_wall(response: Response, request: Request | None = None) -> str | None:
    """'captcha', 'login' or None for a response that looks like real content."""
    if request is not None and request.meta.get("shopmon_image"):
        return None
    return classify_page(response.body, response.url)


class WallDetectionMiddleware(CrawlerComponent):
    """Sits after RetryMiddleware (lower priority number): sees responses once retries gave up."""

    BLOCK_STATUSES = (403, 429)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in self.BLOCK_STATUSES and not request.meta.get("shopmon_image"):
            self._stop("blocked", f"HTTP {response.status} on {request.url} after retries")
            raise IgnoreRequest(f"blocked: HTTP {response.status}")
        wall = classify_wall(response, request) if response.status == 200 else None
        if wall:
            self._stop(wall, f"{wall} page served for {request.url}")
            raise IgnoreRequest(f"{wall} page")
        return response

    def _stop(self, kind: str, detail: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(f"shopmon/wall/{kind}")
        spider = self.crawler.spider
        context = getattr(spider, "context", None)
        if context is not None:
            context.fail(kind, detail)
        if not stats.get_value("shopmon/closing"):
            stats.set_value("shopmon/closing", kind)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=kind))
