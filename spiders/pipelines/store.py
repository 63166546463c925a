"""Write items through the models (upsert, revisions, batch commits) and count the outcomes."""

from __future__ import annotations

from typing import Any

from twisted.internet import task

from spiders.component import CrawlerComponent
from spiders.storage import COMMIT_SECONDS


class StorePipeline(CrawlerComponent):
    def __init__(self, crawler) -> None:  # noqa: ANN001
        super().__init__(crawler)
        self._flusher: task.LoopingCall | None = None

    def open_spider(self) -> None:
        # While the crawl waits on a slow page nothing else would commit: flush on a timer so a
        # crawl killed at its time limit keeps everything it had already stored.
        self._flusher = task.LoopingCall(self.crawler.spider.context.store.commit_pending)
        self._flusher.start(COMMIT_SECONDS, now=False)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        store = self.crawler.spider.context.store
        stats = self.crawler.stats
        if item["kind"] == "listing":
            row_id, new_images = store.store_listing(item)
            stats.inc_value("shopmon/listings_seen")
        else:
            outcome, new_images = store.store_review(item)
            row_id = store.listing_id_for(item["platform"], item.get("listing_id"))
            stats.inc_value(f"shopmon/reviews_{outcome}")
        item["_listing_row_id"] = row_id
        item["_new_images"] = new_images
        return item

    def close_spider(self) -> None:
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        context = self.crawler.spider.context
        # A failed crawl (blocked, captcha, wall) is no evidence that anything was removed.
        if context.failure is None:
            for listing, read in sorted(context.review_reads.items()):
                usable, boundary = read.newer_than()
                if usable:
                    context.store.record_misses(context.shop.platform, listing, newer_than=boundary)
        context.store.close()
        for key, value in context.store.counts.as_dict().items():
            self.crawler.stats.set_value(f"shopmon/store/{key}", value)
