"""Tmall shops: the same shop/review formats as Taobao, item pages with ``TShop.Setup``."""

from __future__ import annotations

from spiders.sites.taobao import TaobaoSpider


class TmallSpider(TaobaoSpider):
    name = "tmall"
