"""Write items through the models (upsert, revisions, batch commits) and count the outcomes."""

from __future__ import annotations

from typing import Any


class StorePipeline:
    def __init__(self, crawler) -> None:  # noqa: ANN001
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206
        return cls(crawler)

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
        context = self.crawler.spider.context
        if context.full:
            for listing in sorted(context.complete_listings):
                context.store.mark_deleted(context.shop.platform, listing)
        context.store.close()
        for key, value in context.store.counts.as_dict().items():
            self.crawler.stats.set_value(f"shopmon/store/{key}", value)
