"""Any product page with schema.org ``Product`` / ``Review`` / ``AggregateRating`` in JSON-LD or
microdata, read with extruct (a maintained extractor) rather than hand-written regexes."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlparse

from spiders.parsing.common import (
    PageResult,
    ParseError,
    abs_url,
    clamp_rating,
    clean_text,
    decode,
    listing_item,
    review_item,
    to_float,
    to_int,
    western_date,
)
from spiders.parsing.html import html_tree

PLATFORM = "schemaorg"


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type") or node.get("type") or []
    if isinstance(t, str):
        t = [t]
    return {str(x).rsplit("/", 1)[-1] for x in t}


def _walk(node: Any):  # noqa: ANN202
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _props(node: dict[str, Any]) -> dict[str, Any]:
    """Microdata nodes keep their fields under ``properties``; JSON-LD nodes are flat."""
    return node.get("properties", node) if "properties" in node and "type" in node else node


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = _props(value)
        value = value.get("name") or value.get("@value") or value.get("value")
    return clean_text(value) or None


def parse_product_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    import extruct  # heavy (rdflib...): only crawls of schema.org shops pay for it

    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    try:
        data = extruct.extract(tree, base_url=url, syntaxes=["json-ld", "microdata"], uniform=False, errors="ignore")
    except Exception as exc:  # extruct raises assorted errors on broken markup
        raise ParseError(f"structured data could not be read: {exc}") from None
    result = PageResult(page_kind="item")
    result.count("decode_errors", doc.decode_errors)
    products = []
    for syntax in ("json-ld", "microdata"):
        for node in _walk(data.get(syntax) or []):
            if "Product" in _types(node):
                products.append(_props(node))
    if not products:
        raise ParseError("no schema.org Product on the page")
    # Several blocks can describe the same product; the richest one (with reviews) wins.
    product = max(products, key=lambda p: (bool(p.get("review")), len(p)))
    listing_id = _text(product.get("sku")) or _text(product.get("productID")) or _text(product.get("mpn"))
    if not listing_id:
        listing_id = hashlib.sha1(urlparse(url)._replace(query="", fragment="").geturl().encode()).hexdigest()[:16]
    offers = _props(_first(product.get("offers")) or {}) if isinstance(_first(product.get("offers")), dict) else {}
    if "lowPrice" in offers and "price" not in offers:
        offers["price"] = offers["lowPrice"]
    agg = product.get("aggregateRating")
    agg = _props(_first(agg)) if isinstance(_first(agg), dict) else {}
    best = to_float(agg.get("bestRating")) or 5.0
    images = product.get("image") or []
    if not isinstance(images, list):
        images = [images]
    images = [abs_url(i if isinstance(i, str) else _props(i).get("url") or _props(i).get("contentUrl"), url) for i in images]
    brand = _text(product.get("brand"))
    result.items.append(
        listing_item(
            PLATFORM,
            listing_id=listing_id,
            shop_id=urlparse(url).hostname,
            title=_text(product.get("name")),
            price=to_float(_first(offers.get("price"))),
            currency=_text(offers.get("priceCurrency")),
            images=[i for i in images if i],
            attributes={k: v for k, v in {"brand": brand}.items() if v},
            rating_avg=round(to_float(agg.get("ratingValue")) * 5.0 / best, 2) if to_float(agg.get("ratingValue")) else None,
            review_count=to_int(agg.get("reviewCount")) or to_int(agg.get("ratingCount")),
            url=url,
        )
    )
    reviews = product.get("review") or []
    if isinstance(reviews, dict):
        reviews = [reviews]
    for n, node in enumerate(reviews):
        r = _props(node) if isinstance(node, dict) else {}
        if not r:
            result.count("invalid_rows")
            continue
        rating = r.get("reviewRating")
        rating = _props(_first(rating)) if isinstance(_first(rating), dict) else {"ratingValue": rating}
        scale = to_float(rating.get("bestRating")) or 5.0
        text = clean_text(r.get("reviewBody") or r.get("description"))
        author = _text(r.get("author"))
        date = _text(r.get("datePublished"))
        # JSON-LD reviews rarely carry an id: hash the stable fields so re-crawls upsert.
        rid = _text(r.get("@id")) or _text(r.get("identifier")) or hashlib.sha1(
            f"{listing_id}|{author}|{date}|{text[:200]}".encode()
        ).hexdigest()[:20]
        result.items.append(
            review_item(
                PLATFORM,
                review_id=rid,
                listing_id=listing_id,
                reviewer_nick=author,
                rating=clamp_rating(rating.get("ratingValue"), scale),
                title=_text(r.get("name")) or _text(r.get("headline")),
                text=text,
                created_at=western_date(date),
                raw={"position": n, "datePublished": date},
            )
        )
    result.info.update(listing_id=listing_id)
    return result
