"""Shopify storefronts: ``/products.json`` paged until a page comes back empty."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import scrapy

from spiders.base import ShopSpider
from spiders.parsing.shopify import PAGE_SIZE


class ShopifySpider(ShopSpider):
    name = "shopify"

    async def start(self) -> AsyncIterator[Any]:
        p = urlparse(str(self.context.shop.url))
        url = f"{p.scheme}://{p.netloc}/products.json?limit={PAGE_SIZE}&page=1"
        yield scrapy.Request(url, callback=self.parse_shop, dont_filter=True)

    def listing_request(self, url: str, listing_id: str | None, review_count: int | None = None) -> None:
        return None  # products.json already holds everything Shopify publishes about a product
