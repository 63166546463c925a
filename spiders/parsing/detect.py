"""Recognise which site and which page type a saved page is, and parse it accordingly."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlparse

from scrapy.http import TextResponse

from spiders.parsing import amazon, jd, schemaorg, shopify, taobao, tmall

from spiders.parsing.common import PageResult, ParseError
from spiders.parsing.responses import response_for
from spiders.parsing.walls import classify_wall

_LIST_CARD = re.compile(rb"<li[^>]{0,40}\ssku=\"\d+\"")
_ITEM_ID = re.compile(rb"itemId\s*:\s*['\"]\d")
Parser = Callable[[TextResponse], PageResult]
SITES = ("taobao", "tmall", "jd", "amazon", "schemaorg", "shopify")

# (site, page kind) → parser; page kinds: item, reviews, shop
PAGE_PARSERS: dict[tuple[str, str], Parser] = {
    ("taobao", "item"): taobao.parse_item_page,
    ("taobao", "reviews"): taobao.parse_rates,
    ("taobao", "shop"): taobao.parse_search,
    ("tmall", "item"): tmall.parse_item_page,
    ("tmall", "reviews"): lambda response: taobao.parse_rates(response, "tmall"),
    ("tmall", "shop"): lambda response: taobao.parse_search(response, "tmall"),
    ("jd", "item"): jd.parse_item_page,
    ("jd", "reviews"): jd.parse_comments,
    ("jd", "shop"): jd.parse_list,
    ("amazon", "item"): amazon.parse_product_page,
    ("amazon", "reviews"): amazon.parse_reviews_page,
    ("amazon", "shop"): amazon.parse_search,
    ("schemaorg", "item"): schemaorg.parse_product_page,
    ("shopify", "shop"): shopify.parse_products,
    ("shopify", "item"): shopify.parse_products,
}

_HOSTS = (
    ("tmall.com", "tmall"),
    ("taobao.com", "taobao"),
    ("jd.com", "jd"),
    ("360buy.com", "jd"),
    ("amazon.", "amazon"),
)


def detect_site(body: bytes, url: str | None = None) -> str:
    host = (urlparse(url).hostname or "") if url else ""
    for suffix, site in _HOSTS:
        if suffix in host:
            return site
    head = body
    if b"TShop.Setup" in head:
        return "tmall"
    if (b"mtop.wdetail.getitemrates" in head or b"g_config" in head or b"g_page_config" in head
            or b"tb-rev-item" in head or b"J_TItemRatesUrl" in head):
        return "taobao"
    if b"fetchJSON_comment" in head or b"pageConfig" in head or b"gl-item" in head or b'"referenceId"' in head \
            or b"item.jd.com" in head:
        return "jd"
    if b'data-hook="review"' in head or b'id="productTitle"' in head or b"s-search-result" in head:
        return "amazon"
    if b'"products"' in head[:2000] or b'"product"' in head[:200] or b'"body_html"' in head:
        return "shopify"
    if b"schema.org" in head or b"application/ld+json" in head:
        return "schemaorg"
    raise ParseError("cannot tell which site this page is from: give --site or --url")


def detect_kind(site: str, body: bytes, url: str | None = None) -> str:
    path = (urlparse(url).path or "") if url else ""
    head = body
    if site in ("taobao", "tmall"):
        if b"getitemrates" in head or b'"rateList"' in head or "getitemrates" in path:
            return "reviews"
        if b"TShop.Setup" in head or (b"g_config" in head and _ITEM_ID.search(head)):
            return "item"
        if b"g_page_config" in head or (b"item-name" in head and b"c-price" in head):
            return "shop"
        return "item"
    if site == "jd":
        if b"gl-i-wrap" in head or len(_LIST_CARD.findall(head, 0, 400_000)) > 3 or "list" in path:
            return "shop"
        if b"fetchJSON_comment" in head or b'"comments"' in head or b'"referenceId"' in head or "comment" in path:
            return "reviews"
        return "item"
    if site == "amazon":
        if b"s-search-result" in head and b'id="productTitle"' not in head:
            return "shop"
        return "reviews" if "/product-reviews/" in path or b'id="productTitle"' not in head else "item"
    if site == "shopify":
        return "shop"
    return "item"


def parse_page(body: bytes, url: str | None = None, site: str | None = None, content_type: str | None = None) -> PageResult:
    """Parse a saved page: site from ``site``, else the URL, else the content."""
    if not body:
        raise ParseError("empty page")
    wall = classify_wall(body, url)
    if wall:
        raise ParseError(f"this is a {wall} page, not content (the site wants a {'human' if wall == 'captcha' else 'login'})")
    site = site or detect_site(body, url)
    if site not in SITES:
        raise ParseError(f"unknown site {site!r}; choose one of {', '.join(SITES)}")
    kind = detect_kind(site, body, url)
    parser = PAGE_PARSERS.get((site, kind))
    if parser is None:
        raise ParseError(f"no {kind} parser for {site}")
    return parser(response_for(body, url or f"https://{site}.invalid/", content_type))
