"""Taobao shops: shop search page (item cards) → item pages → mtop rate API, newest first."""

from __future__ import annotations

import re

from spiders.base import ShopSpider
from spiders.parsing.taobao import rates_url


class TaobaoSpider(ShopSpider):
    name = "taobao"

    def reviews_url(self, base_url: str, listing_id: str) -> str | None:
        return rates_url(base_url, listing_id)

    def listing_id_from_url(self, url: str) -> str | None:
        m = re.search(r"[?&]id=(\d+)", url)
        return m.group(1) if m else None
