"""Write items through the models (upsert, revisions, batch commits) and count the outcomes."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import task

from monitor.errors import StorageError
from spiders.component import CrawlerComponent
from spiders.storage import COMMIT_SECONDS


class StorePipeline(CrawlerComponent):
    def __init__(self, crawler) -> None:  # noqa: ANN001
        super().__init__(crawler)
        self._flusher: task.LoopingCall | None = None
        self._stopping = False

    def open_spider(self) -> None:
        # While the crawl waits on a slow page nothing else would commit: flush on a timer so a
        # crawl killed at its time limit keeps everything it had already stored.
        self._flusher = task.LoopingCall(self._flush)
        self._flusher.start(COMMIT_SECONDS, now=False)

    def _flush(self) -> None:
        store = self.crawler.spider.context.store
        store.commit_pending()
        if store.error is not None:
            self._stop(store.error)

    def _stop(self, error: str) -> None:
        """The database refused a write: stop the crawl, report it once, keep what was stored."""
        if self._stopping:
            return
        self._stopping = True
        self.crawler.spider.context.fail("storage", error)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage"))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        store = self.crawler.spider.context.store
        if store.error is not None:
            raise DropItem("not stored: the crawl is stopping after a storage error")
        try:
            return self._store(store, item)
        except SQLAlchemyError as exc:
            try:
                store.failed(exc)
            except StorageError:
                pass
        except StorageError:
            pass
        self._stop(store.error or "storing failed")
        raise DropItem(f"not stored: {store.error}")

    def _store(self, store, item: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
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
        try:
            context.store.close()
        except StorageError:
            context.fail("storage", context.store.error or "storing failed")
        for key, value in context.store.counts.as_dict().items():
            self.crawler.stats.set_value(f"shopmon/store/{key}", value)
