"""Slow down a domain that says "too many requests": double its download delay on 429/503.

Runs before RetryMiddleware sees the response, so the retry itself is already slower.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response

from spiders.component import CrawlerComponent

MAX_DELAY = 60.0


class BackoffMiddleware(CrawlerComponent):
    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in (429, 503):
            slots = getattr(self.crawler.engine.downloader, "slots", {})
            key = request.meta.get("download_slot")
            slot = slots.get(key) if key else None
            if slot is None and slots:
                from urllib.parse import urlparse

                slot = slots.get(urlparse(request.url).hostname or "")
            if slot is not None:
                slot.delay = min(MAX_DELAY, max(slot.delay * 2, 0.5))
                self.crawler.stats.set_value("shopmon/backoff_delay", slot.delay)
            retry_after = response.headers.get(b"Retry-After")
            self.crawler.stats.inc_value("shopmon/backoff")
            if retry_after and retry_after.isdigit() and slot is not None:
                slot.delay = min(MAX_DELAY, max(slot.delay, float(retry_after)))
        return response
