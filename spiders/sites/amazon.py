"""Amazon: product pages from the shop's listing_urls, then ``/product-reviews/`` sorted by date."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from spiders.base import ShopSpider


class AmazonSpider(ShopSpider):
    name = "amazon"
    start_kind = "item"

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        # a storefront or search URL lists the shop's products; anything else is a product page
        path = urlparse(str(self.context.shop.url)).path
        if path.startswith(("/s", "/stores/")) and not path.startswith("/sspa"):
            self.start_kind = "shop"

    def reviews_url(self, base_url: str, listing_id: str) -> str | None:
        p = urlparse(base_url)
        return f"{p.scheme}://{p.netloc}/product-reviews/{listing_id}/?sortBy=recent&pageNumber=1"

    def listing_id_from_url(self, url: str) -> str | None:
        m = re.search(r"/(?:dp|product-reviews|gp/product)/([A-Z0-9]{10})", url)
        return m.group(1) if m else None
