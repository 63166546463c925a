"""Tmall item pages: ``TShop.Setup({...})`` carries the item and SKU data as JSON.
Reviews come from the same rate API as Taobao (see taobao.parse_rates)."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from spiders.parsing.common import Follow, PageResult, ParseError, abs_url, decode, json_after, listing_item, to_float
from spiders.parsing.completeness import html_problem
from spiders.parsing.html import first_text, html_tree
from spiders.parsing.taobao import rates_url

PLATFORM = "tmall"
# //ul[@id='J_UlThumb']//img/@src from the attribute axis: the same nodes, no predicate run on
# every element of the page
_THUMBS = etree.XPath("//@id[.='J_UlThumb']/parent::ul//img/@src", smart_strings=False)
_THUMB_SUFFIX = re.compile(r"_\d+x\d+q?\d*\.(?:jpg|png)(?:_\.webp)?$")


def _attributes(item: dict[str, Any]) -> dict[str, Any]:
    """Seller id, brand and SPU id, those that are set (no intermediate dict)."""
    out: dict[str, Any] = {}
    seller = item.get("userId")
    if seller:
        out["seller_id"] = str(seller)
    brand = item.get("brand")
    if brand:
        out["brand"] = brand
    spu = item.get("spuId")
    if spu:
        out["spu_id"] = str(spu)
    return out


def parse_item_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    setup = json_after(doc.text, "TShop.Setup(")
    item = setup.get("itemDO") or {}
    item_id = str(item.get("itemId") or "")
    if not item_id:
        raise ParseError("TShop.Setup has no itemDO.itemId")
    result = PageResult.decoded("item", doc)
    if doc.charset_mismatch:
        result.count("charset_mismatch")
    info = setup.get("valItemInfo") or {}
    prices = {k.strip(";"): v.get("price") for k, v in (info.get("skuMap") or {}).items() if isinstance(v, dict)}
    skus: list[dict[str, Any]] = []
    for s in info.get("skuList") or []:
        pvs = s.get("pvs")
        skus.append({"sku_id": s.get("skuId"), "pvs": pvs, "names": (s.get("names") or "").strip() or None,
                     "price": prices.get(pvs)})
    tree = html_tree(doc.text)
    title = item.get("title") or first_text(tree, "//meta[@name='keywords']/@content") or first_text(tree, "//title")
    images = []
    for src in _THUMBS(tree):
        image = abs_url(src, url)
        if image:
            images.append(_THUMB_SUFFIX.sub("", image))
    price = to_float(item.get("reservePrice"))
    shop_id = str(setup.get("rstShopId") or item.get("shopId") or "") or None
    result.items.append(
        listing_item(
            PLATFORM,
            listing_id=item_id,
            shop_id=shop_id,
            title=title,
            price=price,
            currency="CNY" if price is not None else None,
            images=list(dict.fromkeys(images)) if len(images) > 1 else images,
            attributes=_attributes(item),
            url=url,
            skus=skus,
            raw={"categoryId": item.get("categoryId")},
        )
    )
    page_info = result.info
    page_info["listing_id"] = item_id
    page_info["shop_id"] = shop_id
    result.follow.append(Follow(rates_url(url, item_id), "reviews", {"listing_id": item_id, "page": 1}))
    result.settle(html_problem(doc.text))
    return result
