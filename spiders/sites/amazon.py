"""Amazon: product pages from the shop's listing_urls, then ``/product-reviews/`` sorted by date."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from spiders.base import ShopSpider


class AmazonSpider(ShopSpider):
    name = "amazon"
    start_kind = "item"

    def reviews_url(self, base_url: str, listing_id: str) -> str | None:
        p = urlparse(base_url)
        return f"{p.scheme}://{p.netloc}/product-reviews/{listing_id}/?sortBy=recent&pageNumber=1"

    def listing_id_from_url(self, url: str) -> str | None:
        m = re.search(r"/(?:dp|product-reviews|gp/product)/([A-Z0-9]{10})", url)
        return m.group(1) if m else None
