"""The same review often shows on two pages of one crawl (inline and API): keep the first."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from spiders.component import CrawlerComponent


class DedupePipeline(CrawlerComponent):
    def __init__(self, crawler) -> None:  # noqa: ANN001
        super().__init__(crawler)
        self.seen: set[tuple[str, str, str]] = set()

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item["kind"] == "listing":
            return item  # listings merge field by field in the store (card + item page)
        key = (item["kind"], item["platform"], item["review_id"])
        if key in self.seen:
            self.crawler.stats.inc_value("shopmon/items_duplicate")
            raise DropItem(f"duplicate review {item['review_id']} in this crawl (already stored)")
        self.seen.add(key)
        return item
