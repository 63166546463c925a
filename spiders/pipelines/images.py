"""Fetch listing and buyer photos once (Scrapy's FilesPipeline: dedup, stats), size-capped, into the
image store (monitor.image_store: a directory or an S3 bucket), and record the key on the ListingImage row."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from scrapy import Request
from scrapy.pipelines.files import FilesPipeline

from monitor.image_store import STORE_FAILURE, ImageStoreError, open_store


class ImageStoreFiles:
    """Scrapy's file-store interface over the one image store the rest of shopmon reads."""

    def __init__(self, uri: str) -> None:
        self.store = open_store(uri)

    def persist_file(self, path: str, buf: BytesIO, info: Any, meta: Any = None, headers: Any = None) -> None:
        try:
            self.store.put(path, buf.getvalue())
        except ImageStoreError as exc:  # marked, so the next crawl fetches this image again
            raise ImageStoreError(STORE_FAILURE + str(exc)) from None

    def stat_file(self, path: str, info: Any) -> dict[str, Any]:
        return {}  # only images the database does not hold yet are requested: always download


class ListingImagesPipeline(FilesPipeline):
    # Scrapy configures its own store classes by scheme at start-up (so all keys stay); the ones
    # shopmon configures (a directory, an S3 bucket) go through the image store.
    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "": ImageStoreFiles, "file": ImageStoreFiles, "s3": ImageStoreFiles}

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206
        pipe = super().from_crawler(crawler)
        # listings.max_image_bytes, the one image-size setting (spiders.settings puts it here), so the
        # crawl and the image check refuse the same files.
        pipe.max_bytes = crawler.settings.getint("SHOPMON_IMAGE_MAX_BYTES")
        if pipe.max_bytes <= 0:
            raise ValueError("SHOPMON_IMAGE_MAX_BYTES is not set: build crawl settings with spiders.settings.scrapy_settings")
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
                # The key, relative to the store: every worker resolves it against its own mount or bucket.
                store.set_image_result(item["_listing_row_id"], url, local_path=value["path"],
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
