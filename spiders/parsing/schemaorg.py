"""Any product page with schema.org ``Product`` / ``Review`` / ``AggregateRating`` in JSON-LD or
microdata, read by extruct from the response's own parsed tree. schema.org numbers are machine
form ("4.5") whatever the page's language; dates are ISO 8601."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from extruct.jsonld import JsonLdExtractor
from extruct.w3cmicrodata import MicrodataExtractor
from scrapy.http import TextResponse

from spiders.parsing.common import PageResult, ParseError, listing_item, review_item
from spiders.parsing.completeness import html_problem
from spiders.parsing.responses import start
from spiders.parsing.values import (
    clean_text,
    count,
    machine_number,
    page_locale,
    rating_within,
    stars,
    western_date,
)

PLATFORM = "schemaorg"


def _is_product(node: dict[str, Any]) -> bool:
    """``@type`` (or microdata's ``type``) names Product, bare or as a URL (``https://schema.org/Product``)."""
    t = node.get("@type") or node.get("type") or []
    return any(str(x).rsplit("/", 1)[-1] == "Product" for x in ([t] if isinstance(t, str) else t))


def _products(value: Any) -> list[dict[str, Any]]:
    """Every Product in a JSON-LD or microdata value, depth first in document order."""
    if isinstance(value, list):
        return [p for v in value for p in _products(v)]
    if not isinstance(value, dict):
        return []
    found = [_props(value)] if _is_product(value) else []
    return found + [p for v in value.values() for p in _products(v)]


def _extract(extractor: Any, *args: Any) -> list[Any]:
    try:
        return list(extractor.extract_items(*args))
    except Exception:  # noqa: BLE001 - one unreadable block drops the syntax, as extruct(errors="ignore")
        return []


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


def parse_product_page(response: TextResponse) -> PageResult:
    result = start("item", response)
    root = response.selector.root
    microdata = _extract(MicrodataExtractor(), root, response.url) if "itemprop" in response.text else []
    products = _products(_extract(JsonLdExtractor(), root)) + _products(microdata)
    if not products:
        raise ParseError("no schema.org Product on the page")
    locale = page_locale(response)
    url = response.url
    # Several blocks can describe the same product; the richest one (with reviews) wins.
    product = max(products, key=lambda p: (bool(p.get("review")), len(p)))
    listing_id = _text(product.get("sku")) or _text(product.get("productID")) or _text(product.get("mpn"))
    if not listing_id:
        listing_id = hashlib.sha1(urlunsplit(urlsplit(url)._replace(query="", fragment="")).encode()).hexdigest()[:16]
    offers = _props(_first(product.get("offers")) or {}) if isinstance(_first(product.get("offers")), dict) else {}
    if "lowPrice" in offers and "price" not in offers:
        offers["price"] = offers["lowPrice"]
    agg = product.get("aggregateRating")
    agg = _props(_first(agg)) if isinstance(_first(agg), dict) else {}
    best = _scale(result, "aggregateRating.bestRating", agg.get("bestRating"))
    images = product.get("image") or []
    if not isinstance(images, list):
        images = [images]
    images = [i if isinstance(i, str) else _props(i).get("url") or _props(i).get("contentUrl") for i in images]
    images = [response.urljoin(i.strip()) for i in images if isinstance(i, str) and i.strip()]
    brand = _text(product.get("brand"))
    price_value = _first(offers.get("price"))
    price = machine_number(price_value)
    if price is None and price_value not in (None, ""):
        result.drop("offers.price", price_value, "not a finite number")
    rating_value = rating_within(result, "aggregateRating.ratingValue", agg.get("ratingValue"), best)
    result.items.append(
        listing_item(
            PLATFORM,
            listing_id=listing_id,
            shop_id=urlsplit(url).hostname,
            title=_text(product.get("name")),
            price=price,
            currency=_text(offers.get("priceCurrency")),
            images=[i for i in images if i],
            attributes={"brand": brand},
            rating_avg=round(rating_value * 5.0 / best, 2) if rating_value else None,
            review_count=count(agg.get("reviewCount")) or count(agg.get("ratingCount")),
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
        scale = _scale(result, "reviewRating.bestRating", rating.get("bestRating"))
        value = rating_within(result, "reviewRating.ratingValue", rating.get("ratingValue"), scale)
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
                rating=stars(value, scale),
                title=_text(r.get("name")) or _text(r.get("headline")),
                text=text,
                created_at=western_date(date, locale),
                raw={"position": n, "datePublished": date},
            )
        )
    result.info.update(listing_id=listing_id)
    # the JSON-LD blocks parsed to their ends; the page itself must close after them
    result.settle(html_problem(response.text))
    return result


def _scale(result: PageResult, name: str, value: Any) -> float:
    """``bestRating``: 5 when absent; a value that is no positive finite number is dropped."""
    best = rating_within(result, name, value, best=float("inf"))
    if best == 0:
        result.drop(name, value, "a rating scale must be above 0")
    return best or 5.0
