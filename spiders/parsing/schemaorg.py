"""Any product page with schema.org ``Product`` / ``Review`` / ``AggregateRating`` in JSON-LD or
microdata. Microdata is read with extruct (a maintained extractor) rather than hand-written
regexes, and only on pages that have ``itemscope``/``itemprop``; JSON-LD blocks are plain JSON,
read from the page's one lxml tree as extruct's own JSON-LD extractor reads them."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import urlparse, urlsplit

from lxml import etree

from spiders.parsing.common import (
    PageResult,
    ParseError,
    abs_url,
    clamp_rating,
    clean_text,
    decode,
    hostname,
    listing_item,
    rating_within,
    review_item,
    to_float,
    to_int,
    western_date,
)
from spiders.parsing.completeness import html_problem
from spiders.parsing.html import html_tree

PLATFORM = "schemaorg"


def _is_product(node: dict[str, Any]) -> bool:
    """``@type`` (or ``type``) names Product, bare or as a URL (``https://schema.org/Product``)."""
    t = node.get("@type") or node.get("type") or []
    if isinstance(t, str):
        return t == "Product" or t.endswith("/Product")
    return any(str(x).rsplit("/", 1)[-1] == "Product" for x in t)


_CONTAINERS = (dict, list)  # a tuple: isinstance() with a ``dict | list`` union is several times slower


def _products(value: Any) -> list[dict[str, Any]]:
    """Every Product dict in a JSON value, depth first in document order. One loop, no generator
    or recursion: on a small page the walk would otherwise cost more than the JSON parse."""
    found = []
    stack = [value]  # holds only dicts and lists
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if isinstance(node, dict):
            if ("@type" in node or "type" in node) and _is_product(node):
                found.append(_props(node))
            children = node.values()
        else:
            children = node
        for v in reversed(children):
            if isinstance(v, _CONTAINERS):
                push(v)
    return found


# the JSON-LD scripts and any microdata attribute in one walk of the tree (two searches cost
# twice as much on a small page). lxml lower-cases HTML attribute names, so the microdata test is
# exact whatever the page's case; extruct's microdata extractor starts from the same itemscope
# elements and finds nothing without them. The scripts are searched from ``tree`` as before
# (lxml.html.fromstring can return an element below the document root), the attributes in the
# whole document.
_LD_AND_MICRODATA = etree.XPath(
    'descendant-or-self::script[@type="application/ld+json"] | //@itemscope | //@itemprop',
    smart_strings=False)
_STRING = etree.XPath("string()")  # compiled once: element.xpath() compiles on every call
_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)")  # the same leniency as extruct's extractor


def _scan(tree) -> tuple[list[Any], bool]:  # noqa: ANN001
    """The JSON-LD script elements in document order, and whether the page has microdata."""
    scripts = []
    microdata = False
    for hit in _LD_AND_MICRODATA(tree):
        if isinstance(hit, str):  # an attribute value
            microdata = True
        else:
            scripts.append(hit)
    return scripts, microdata


_LD_DECODER = json.JSONDecoder(strict=False)


def _json_ld(scripts: list[Any]) -> list[Any]:
    """The JSON-LD blocks' top-level values, as extruct's JsonLdExtractor returns them (a block
    holding a list contributes its members). Read here with json: it is the common case, and
    extruct's set-up per call weighed more than the parse on small pages. As with extruct's
    ``errors="ignore"``, one unreadable block drops the JSON-LD of the page."""
    out: list[Any] = []
    try:
        for script in scripts:
            # a script's one text node is its .text; string() is an XPath call
            text = (script.text or "") if not len(script) else _STRING(script)
            try:
                data = _LD_DECODER.decode(text)
            except ValueError:
                import jstyleson  # extruct's own fallback for commented JSON

                data = jstyleson.loads(_COMMENT_LINE.sub("", text), strict=False)
            if isinstance(data, list):
                out.extend(item for item in data if item)
            elif isinstance(data, dict) and data:
                out.append(data)
    except Exception:  # noqa: BLE001 - a broken block is skipped, like extruct(errors="ignore")
        return []
    return out


def _microdata(tree, url: str) -> list[Any]:  # noqa: ANN001
    """Microdata items through extruct's extractor (kept: microdata scoping rules are subtle)."""
    from extruct.w3cmicrodata import MicrodataExtractor  # heavy: only pages with microdata pay

    try:
        return list(MicrodataExtractor().extract_items(tree, base_url=url))
    except Exception:  # noqa: BLE001 - extruct(errors="ignore") dropped the syntax the same way
        return []


def _props(node: dict[str, Any]) -> dict[str, Any]:
    """Microdata nodes keep their fields under ``properties``; JSON-LD nodes are flat."""
    return node.get("properties", node) if "properties" in node and "type" in node else node


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any) -> str | None:
    if value is None:  # absent fields, the common case: what the lines below give for None
        return None
    if value.__class__ is str:
        return clean_text(value) or None
    value = _first(value)
    if isinstance(value, dict):
        value = _props(value)
        value = value.get("name") or value.get("@value") or value.get("value")
    return clean_text(value) or None


def parse_product_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    scripts, has_microdata = _scan(tree)
    microdata = _microdata(tree, url) if has_microdata else []
    result = PageResult.decoded("item", doc)
    products = _products(_json_ld(scripts)) + _products(microdata)
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
    best = _scale(result, "aggregateRating.bestRating", agg.get("bestRating"))
    images = product.get("image") or []
    if not isinstance(images, list):
        images = [images]
    images = [abs_url(i if isinstance(i, str) else _props(i).get("url") or _props(i).get("contentUrl"), url) for i in images]
    brand = _text(product.get("brand"))
    price_value = _first(offers.get("price"))
    price = to_float(price_value)
    if price is None and price_value not in (None, ""):
        result.drop("offers.price", price_value, "not a finite number")
    rating_value = rating_within(result, "aggregateRating.ratingValue", agg.get("ratingValue"), best)
    result.items.append(
        listing_item(
            PLATFORM,
            listing_id=listing_id,
            shop_id=hostname(urlsplit(url)),
            title=_text(product.get("name")),
            price=price,
            currency=_text(offers.get("priceCurrency")),
            images=[i for i in images if i],
            attributes={"brand": brand} if brand else {},
            rating_avg=round(rating_value * 5.0 / best, 2) if rating_value else None,
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
        scale = _scale(result, "reviewRating.bestRating", rating.get("bestRating"))
        stars = rating_within(result, "reviewRating.ratingValue", rating.get("ratingValue"), scale)
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
                rating=clamp_rating(stars, scale),
                title=_text(r.get("name")) or _text(r.get("headline")),
                text=text,
                created_at=western_date(date),
                raw={"position": n, "datePublished": date},
            )
        )
    result.info.update(listing_id=listing_id)
    # the JSON-LD blocks parsed to their ends; the page itself must close after them
    result.settle(html_problem(doc.text))
    return result


def _scale(result: PageResult, name: str, value: Any) -> float:
    """``bestRating``: 5 when absent; a value that is no positive finite number is dropped."""
    best = rating_within(result, name, value, best=float("inf"))
    if best == 0:
        result.drop(name, value, "a rating scale must be above 0")
    return best or 5.0
