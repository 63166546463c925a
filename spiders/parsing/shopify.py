"""Shopify storefront JSON: ``/products.json?page=N`` (paged list) and ``/products/<handle>.json``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.http import TextResponse
from w3lib.url import add_or_replace_parameter, url_query_parameter

from spiders.parsing.common import Follow, PageResult, ParseError, listing_item
from spiders.parsing.responses import start
from spiders.parsing.values import clean_text, machine_number

PLATFORM = "shopify"
PAGE_SIZE = 30


def _product(p: dict[str, Any], response: TextResponse) -> dict[str, Any]:
    variants = p.get("variants") or []
    prices = [x for x in (machine_number(v.get("price")) for v in variants) if x is not None]
    html = p.get("body_html") or ""
    description = clean_text(Selector(text=html).xpath("string()").get()) if "<" in html else clean_text(html)
    handle = p.get("handle")
    return listing_item(
        PLATFORM,
        listing_id=str(p.get("id")),
        shop_id=urlsplit(response.url).hostname,
        title=clean_text(p.get("title")),
        price=min(prices) if prices else None,
        images=[response.urljoin(i["src"]) for i in p.get("images") or [] if i.get("src")],
        attributes={"vendor": p.get("vendor"), "product_type": p.get("product_type"), "tags": p.get("tags"),
                    "description": description},
        url=response.urljoin(f"/products/{handle}") if handle else None,
        skus=[{"sku_id": str(v.get("id")), "names": v.get("title"), "price": v.get("price"),
               "available": v.get("available"), "sku": v.get("sku")} for v in variants],
        raw={"handle": handle, "options": p.get("options"), "updated_at": p.get("updated_at")},
    )


def parse_products(response: TextResponse) -> PageResult:
    result = start("shop", response)
    try:
        data = json.loads(response.text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("product"), dict):
        products = [data["product"]]
        result.page_kind = "item"
    elif isinstance(data, dict) and isinstance(data.get("products"), list):
        products = data["products"]
    else:
        raise ParseError("JSON has no 'products': not a Shopify products.json")
    for p in products:
        if not isinstance(p, dict) or p.get("id") is None:
            result.count("invalid_rows")
            continue
        result.items.append(_product(p, response))
    # Shopify signals the last page by returning fewer (usually zero) products.
    if result.page_kind == "shop" and products:
        result.follow.append(Follow(next_page_url(response.url), "shop"))
    result.settle()  # the JSON parsed to its end; Shopify declares no total
    return result


def next_page_url(url: str) -> str:
    """``url`` with its ``page`` parameter one up (1 when absent), ``limit`` added when missing."""
    page = int(url_query_parameter(url, "page") or 1)  # a page=abc fails loudly
    url = add_or_replace_parameter(url, "page", str(page + 1))
    return url if url_query_parameter(url, "limit") else add_or_replace_parameter(url, "limit", str(PAGE_SIZE))
