"""Tmall item pages: ``TShop.Setup({...})`` carries the item and SKU data as JSON.
Reviews come from the same rate API as Taobao (see taobao.parse_rates)."""

from __future__ import annotations

import re
from typing import Any

from scrapy.http import TextResponse

from spiders.parsing.common import Follow, PageResult, ParseError, listing_item
from spiders.parsing.completeness import html_problem
from spiders.parsing.responses import js_object, start
from spiders.parsing.taobao import rates_url
from spiders.parsing.values import machine_number, text_of

PLATFORM = "tmall"
_THUMB_SUFFIX = re.compile(r"_\d+x\d+q?\d*\.(?:jpg|png)(?:_\.webp)?$")


def parse_item_page(response: TextResponse) -> PageResult:
    setup = js_object(response.text, "TShop.Setup(")
    item = setup.get("itemDO") or {}
    item_id = str(item.get("itemId") or "")
    if not item_id:
        raise ParseError("TShop.Setup has no itemDO.itemId")
    result = start("item", response)
    info = setup.get("valItemInfo") or {}
    prices = {k.strip(";"): v.get("price") for k, v in (info.get("skuMap") or {}).items() if isinstance(v, dict)}
    skus = [{"sku_id": s.get("skuId"), "pvs": s.get("pvs"), "names": (s.get("names") or "").strip() or None,
             "price": prices.get(s.get("pvs"))} for s in info.get("skuList") or []]
    title = item.get("title") or response.xpath("//meta[@name='keywords']/@content").get() or text_of(response.css("title"))
    thumbs = response.xpath("//ul[@id='J_UlThumb']//img/@src").getall()
    images = list(dict.fromkeys(_THUMB_SUFFIX.sub("", response.urljoin(src.strip())) for src in thumbs if src.strip()))
    amount = machine_number(item.get("reservePrice"))
    shop_id = str(setup.get("rstShopId") or item.get("shopId") or "") or None
    attributes: dict[str, Any] = {"seller_id": str(item.get("userId") or "") or None, "brand": item.get("brand"),
                                  "spu_id": str(item.get("spuId") or "") or None}
    result.items.append(listing_item(
        PLATFORM,
        listing_id=item_id,
        shop_id=shop_id,
        title=title,
        price=amount,
        currency="CNY" if amount is not None else None,
        images=images,
        attributes=attributes,
        url=response.url,
        skus=skus,
        raw={"categoryId": item.get("categoryId")},
    ))
    result.info.update(listing_id=item_id, shop_id=shop_id)
    result.follow.append(Follow(rates_url(response.url, item_id), "reviews", {"listing_id": item_id, "page": 1}))
    result.settle(html_problem(response.text))
    return result
