"""Any shop whose product pages carry schema.org markup: the shop URL and listing_urls are
product pages; reviews come with the page (there is no separate review API to page through)."""

from __future__ import annotations

from spiders.base import ShopSpider


class SchemaorgSpider(ShopSpider):
    name = "schemaorg"
    start_kind = "item"
