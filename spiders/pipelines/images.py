"""Fetch listing and buyer photos once (Scrapy's FilesPipeline: dedup, storage, stats), size-capped,
into settings.images_path, and record the local path on the ListingImage row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.pipelines.files import FilesPipeline


class ListingImagesPipeline(FilesPipeline):
    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206
        pipe = super().from_crawler(crawler)
        # listings.max_image_bytes, the one image-size setting (spiders.settings puts it here), so the
        # crawl and the image check refuse the same files.
        pipe.max_bytes = crawler.settings.getint("SHOPMON_IMAGE_MAX_BYTES")
        if pipe.max_bytes <= 0:
            raise ValueError("SHOPMON_IMAGE_MAX_BYTES is not set: build crawl settings with spiders.settings.scrapy_settings")
        pipe.images_root = Path(crawler.settings.get("FILES_STORE"))
        return pipe

    def get_media_requests(self, item: dict[str, Any], info) -> list[Request]:  # noqa: ANN001
        if not item.get("_listing_row_id"):
            return []
        # download_maxsize per request: a page may be 20 MB, an image never needs to be.
        return [Request(u, meta={"download_maxsize": self.max_bytes, "shopmon_image": True})
                for u in item.get("_new_images") or []]

    def item_completed(self, results, item: dict[str, Any], info):  # noqa: ANN001, ANN201
        urls = item.get("_new_images") or []
        if not urls or not item.get("_listing_row_id"):
            return self._clean(item)
        store = self.crawler.spider.context.store
        stats = self.crawler.stats
        for url, (ok, value) in zip(urls, results, strict=False):
            if ok:
                store.set_image_result(item["_listing_row_id"], url, local_path=str(self.images_root / value["path"]),
                                       checksum=value["checksum"], error=None)
                stats.inc_value("shopmon/images_stored")
            else:
                reason = str(getattr(value, "value", value)) or type(getattr(value, "value", value)).__name__
                store.set_image_result(item["_listing_row_id"], url, local_path=None, checksum=None,
                                       error=reason[:300] or "download failed")
                stats.inc_value("shopmon/images_failed")
        return self._clean(item)

    @staticmethod
    def _clean(item: dict[str, Any]) -> dict[str, Any]:
        item.pop("_new_images", None)
        item.pop("_listing_row_id", None)
        return item
