"""Shopify storefront JSON: ``/products.json?page=N`` (paged list) and ``/products/<handle>.json``."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from spiders.parsing.common import Follow, PageResult, ParseError, abs_url, clean_text, decode, listing_item, to_float

PLATFORM = "shopify"
PAGE_SIZE = 30


_TAG = re.compile(r"<[^>]+>")


def _product(p: dict[str, Any], url: str, parsed, host: str | None) -> dict[str, Any]:  # noqa: ANN001
    variants = p.get("variants") or []
    prices = [x for x in (to_float(v.get("price")) for v in variants) if x is not None]
    html = p.get("body_html") or ""
    body = _TAG.sub(" ", html) if "<" in html else html
    return listing_item(
        PLATFORM,
        listing_id=str(p.get("id")),
        shop_id=host,
        title=clean_text(p.get("title")),
        price=min(prices) if prices else None,
        images=[abs_url(i.get("src"), url) for i in p.get("images") or [] if i.get("src")],
        attributes={k: v for k, v in {"vendor": p.get("vendor"), "product_type": p.get("product_type"),
                                      "tags": p.get("tags"), "description": clean_text(body) or None}.items() if v},
        url=f"{parsed.scheme}://{parsed.netloc}/products/{p.get('handle')}" if p.get("handle") else None,
        skus=[{"sku_id": str(v.get("id")), "names": v.get("title"), "price": v.get("price"),
               "available": v.get("available"), "sku": v.get("sku")} for v in variants],
        raw={"handle": p.get("handle"), "options": p.get("options"), "updated_at": p.get("updated_at")},
    )


def parse_products(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    if not doc.text or doc.text.isspace():
        raise ParseError("empty response")
    try:
        data = json.loads(doc.text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    result = PageResult(page_kind="shop")
    if isinstance(data, dict) and isinstance(data.get("product"), dict):
        products = [data["product"]]
        result.page_kind = "item"
    elif isinstance(data, dict) and isinstance(data.get("products"), list):
        products = data["products"]
    else:
        raise ParseError("JSON has no 'products': not a Shopify products.json")
    parsed = urlparse(url)
    host = parsed.hostname  # a computed property: once per page, not once per product
    for p in products:
        if not isinstance(p, dict) or p.get("id") is None:
            result.count("invalid_rows")
            continue
        result.items.append(_product(p, url, parsed, host))
    # Shopify signals the last page by returning fewer (usually zero) products.
    if result.page_kind == "shop" and products:
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        page = int(query.get("page", "1"))
        query.update(page=str(page + 1), limit=query.get("limit", str(PAGE_SIZE)))
        result.follow.append(Follow(parsed._replace(query=urlencode(query)).geturl(), "shop"))
    return result
