"""Shopify storefront JSON: ``/products.json?page=N`` (paged list) and ``/products/<handle>.json``."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from spiders.parsing.common import (
    Follow,
    PageResult,
    ParseError,
    abs_url,
    clean_text,
    decode,
    hostname,
    listing_item,
    to_float,
    unquote_qs,
)

PLATFORM = "shopify"
PAGE_SIZE = 30


_TAG = re.compile(r"<[^>]+>")


def _product(p: dict[str, Any], url: str, origin: str, host: str | None) -> dict[str, Any]:
    get = p.get
    variants = get("variants") or []
    prices = []
    for v in variants:
        x = to_float(v.get("price"))
        if x is not None:
            prices.append(x)
    html = get("body_html") or ""
    body = _TAG.sub(" ", html) if "<" in html else html
    # {k: v for k, v in {"vendor": ..., "product_type": ..., "tags": ..., "description": ...}.items() if v}
    attributes = {}
    for key in ("vendor", "product_type", "tags"):
        value = get(key)
        if value:
            attributes[key] = value
    description = clean_text(body) if body else ""
    if description:
        attributes["description"] = description
    handle = get("handle")
    return listing_item(
        PLATFORM,
        listing_id=str(get("id")),
        shop_id=host,
        title=clean_text(get("title")),
        price=min(prices) if prices else None,
        images=[abs_url(i.get("src"), url) for i in get("images") or [] if i.get("src")],
        attributes=attributes,
        url=f"{origin}/products/{handle}" if handle else None,
        skus=[{"sku_id": str(v.get("id")), "names": v.get("title"), "price": v.get("price"),
               "available": v.get("available"), "sku": v.get("sku")} for v in variants],
        raw={"handle": handle, "options": get("options"), "updated_at": get("updated_at")},
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
    parsed = urlsplit(url)  # the scheme and netloc urlparse gives, without its params split
    host = hostname(parsed)  # once per page, not once per product
    origin = f"{parsed.scheme}://{parsed.netloc}"
    for p in products:
        if not isinstance(p, dict) or p.get("id") is None:
            result.count("invalid_rows")
            continue
        result.items.append(_product(p, url, origin, host))
    # Shopify signals the last page by returning fewer (usually zero) products.
    if result.page_kind == "shop" and products:
        result.follow.append(Follow(next_page_url(url), "shop"))
    result.settle()  # the JSON parsed to its end; Shopify declares no total
    return result


def next_page_url(url: str) -> str:
    """``url`` with its ``page`` parameter one up (1 when absent) and ``limit`` added (PAGE_SIZE)
    when missing. The query is edited in place: other parameters keep their spelling and order,
    a repeated ``page`` keeps its first value, and a parameter parse_qs would skip (no ``=``, or
    an empty value) does not count as present, as with the parse_qs/urlencode version this
    replaces (which cost more than parsing the JSON on a small page)."""
    base, hash_, fragment = url.partition("#")
    path, _, query = base.partition("?")
    parts = []
    page = limit = None
    for part in query.split("&") if query else ():
        name, eq, value = part.partition("=")
        if eq and value:  # what parse_qs (keep_blank_values=False) reads
            key = unquote_qs(name)
            if key == "page":
                if page is not None:
                    continue  # parse_qs + a dict kept the first
                page = int(unquote_qs(value))  # the same ValueError as before on page=abc
                parts.append(None)  # its place
                continue
            if key == "limit":
                limit = value
        elif not part or unquote_qs(name) in ("page", "limit"):
            continue  # an empty page= or limit= is absent; "&&" adds nothing
        parts.append(part)
    nxt = f"page={(page if page is not None else 1) + 1}"
    if page is None:
        parts.append(nxt)
    else:
        parts[parts.index(None)] = nxt
    if limit is None:
        parts.append(f"limit={PAGE_SIZE}")
    return f"{path}?{'&'.join(parts)}{hash_}{fragment}"
