"""JD shops: listing cards → item pages (GBK) → ``fetchJSON_comment98`` JSONP, newest first."""

from __future__ import annotations

import re

from spiders.base import ShopSpider
from spiders.parsing.jd import comments_url


class JdSpider(ShopSpider):
    name = "jd"

    def reviews_url(self, base_url: str, listing_id: str) -> str | None:
        return comments_url(base_url, listing_id)

    def listing_id_from_url(self, url: str) -> str | None:
        m = re.search(r"/(\d+)\.html", url)
        return m.group(1) if m else None
