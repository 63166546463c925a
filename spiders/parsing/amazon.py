"""Amazon formats: ``/product-reviews/`` pages and product detail pages (old and new layouts,
several locales). Review cards are ``data-hook="review"`` in every layout seen so far."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from spiders.parsing.common import (
    Follow,
    clean_text,
    PageResult,
    ParseError,
    abs_url,
    clamp_rating,
    decode,
    listing_item,
    review_item,
    to_float,
    to_int,
    western_date,
)
from spiders.parsing.completeness import count_problem, html_problem
from spiders.parsing.html import first_attr, first_text, html_tree, text_or_none, xp

PLATFORM = "amazon"
_ASIN = re.compile(r"/(?:dp|product-reviews|gp/product|product)/([A-Z0-9]{10})")
_CURRENCY = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "CDN$": "CAD"}


# One scan of a 1 MB product page collects every element we look up by id; a separate
# //*[@id=...] query per field would walk the whole tree each time.
_IDS = ("productTitle", "landingImage", "imgBlkFront", "acrPopover", "acrCustomerReviewText", "bylineInfo",
        "corePrice_feature_div", "corePriceDisplay_desktop_feature_div", "apex_desktop", "priceblock_ourprice",
        "price_inside_buybox", "newBuyBoxPrice", "ASIN", "cm_cr-pagination_bar")
_ID_SET = frozenset(_IDS)


def _by_id(tree) -> dict[str, Any]:  # noqa: ANN001
    # //*[@id] then a set lookup: an XPath with 14 "or" comparisons is ten times slower. Spelt as
    # the attribute axis (the same elements): libxml2 then runs no predicate on every element.
    out: dict[str, Any] = {}
    for el in xp(tree, "//@id/parent::*"):
        key = el.get("id")
        if key in _ID_SET and key not in out:
            out[key] = el
    return out


def _asin(tree, url: str, ids: dict[str, Any]) -> str | None:  # noqa: ANN001
    canonical = first_attr(tree, "/html/head/link[@rel='canonical']/@href") or first_attr(
        tree, "//link[@rel='canonical']/@href")
    for candidate in (canonical, url):
        m = _ASIN.search(candidate or "")
        if m:
            return m.group(1)
    if "ASIN" in ids and ids["ASIN"].get("value"):
        return ids["ASIN"].get("value")
    return first_attr(tree, "//*[@data-asin][1]/@data-asin")


def _hooks(card) -> tuple[dict[str, Any], list[Any], list[Any]]:  # noqa: ANN001
    """One walk over a review card: its data-hook elements, profile links and images, i.e.
    ``.//*[@data-hook] | .//a[contains(@class,'a-profile')] | .//img[contains(@class,'review-image-tile')]``
    in document order. A card has a few dozen elements: the Python walk costs less than the
    XPath call's set-up."""
    hooks: dict[str, Any] = {}
    profiles, images = [], []
    for el in card.iterdescendants(etree.Element):  # elements only, as ``*``
        hook = el.get("data-hook")
        if hook:
            hooks.setdefault(hook, el)
        tag = el.tag
        if tag == "a" or tag == "img":
            cls = el.get("class")
            if cls:
                if tag == "a" and "a-profile" in cls:
                    profiles.append(el)
                elif tag == "img" and "review-image-tile" in cls:
                    images.append(el)
    return hooks, profiles, images


_text = text_or_none
_REVIEW_CARD = 'data-hook="review"'
_WITH_REVIEWS = re.compile(r"([\d.,]+)\s+with reviews")  # "1,234 total ratings, 504 with reviews"
PAGE_SIZE = 10  # cards on every /product-reviews/ page but the last
_COUNTRY = re.compile(r"Reviewed in (?:the )?(.+?) on ")


def _raw_text(el) -> str:  # noqa: ANN001
    """``el.text_content()``; a leaf's text without the XPath call behind text_content()."""
    return el.text_content() if len(el) else (el.text or "")


def _profile_name(link) -> str | None:  # noqa: ANN001
    """``first_text(link, ".//span[contains(@class,'a-profile-name')]")``."""
    for span in link.iterdescendants("span"):
        if "a-profile-name" in (span.get("class") or ""):
            return text_or_none(span)
    return None


def _reviews(tree, url: str, asin: str | None) -> list[dict[str, Any]]:  # noqa: ANN001
    out = []
    for card in xp(tree, "//@data-hook[.='review']/parent::*"):  # //*[@data-hook='review'], faster
        review_id = card.get("id") or ""
        if not review_id:
            continue
        hooks, profiles, images = _hooks(card)
        star_el = hooks.get("review-star-rating")
        if star_el is None:
            star_el = hooks.get("cmps-review-star-rating")
        stars = text_or_none(next(star_el.iterdescendants("span"), None)) if star_el is not None else None
        if not stars:
            cls = first_attr(card, ".//i[contains(@class,'a-star-')]/@class") or ""
            m = re.search(r"a-star-(\d)", cls)
            stars = m.group(1) if m else None
        title_el = hooks.get("review-title")
        if title_el is not None:
            # the title link also holds the star icon text; the title is the last <span>
            spans = [t for t in (_raw_text(s).strip() for s in title_el.iterchildren("span")) if t]
            title = spans[-1] if spans else _raw_text(title_el).strip()
        else:  # 2025+ layout
            title = _text(hooks.get("reviewTitle"))
        body = _text(hooks.get("review-body"))
        if not body:
            body = _text(hooks.get("review-collapsed")) or _text(hooks.get("reviewRichContentContainer")) or first_text(
                card, ".//*[contains(@class,'review-text-content')]")
        date_line = _text(hooks.get("review-date")) or ""
        helpful = _text(hooks.get("helpful-vote-statement"))
        tiles = [el.get("src") for el in images]
        if "review-image-tile" in hooks:
            tiles.insert(0, hooks["review-image-tile"].get("src"))
        country = None
        m = _COUNTRY.search(date_line)
        if m:
            country = m.group(1)
        nick = None
        for link in profiles:
            nick = _profile_name(link)
            if nick:
                break
        if not nick:  # some layouts render the name outside the profile link
            nick = first_text(card, ".//span[contains(@class,'a-profile-name')]")
        out.append(
            review_item(
                PLATFORM,
                review_id=review_id.removesuffix("-review-card"),
                listing_id=asin,
                reviewer_nick=nick,
                rating=clamp_rating(stars),
                title=title,
                text=body or "",
                created_at=western_date(date_line.split(" on ")[-1] if " on " in date_line else date_line),
                sku=_text(hooks.get("format-strip")),
                photos=[abs_url(p, url) for p in dict.fromkeys(tiles) if p],
                helpful_votes=to_int(helpful) if helpful else 0,
                verified_purchase="avp-badge" in hooks or "avp-badge-linkless" in hooks,
                raw={"profile": profiles[0].get("href") if profiles else None, "country": country,
                     "date_line": date_line},
            )
        )
    return out


def parse_reviews_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    ids = _by_id(tree)
    asin = _asin(tree, url, ids)
    result = PageResult.decoded("reviews", doc)
    result.items.extend(_reviews(tree, url, asin))
    if not result.items and "data-hook" not in doc.text:
        raise ParseError("no review cards: not an Amazon reviews page")
    bar = ids.get("cm_cr-pagination_bar")
    nxt = first_attr(bar, ".//li[contains(@class,'a-last')]/a/@href") if bar is not None else None
    m = re.search(r"pageNumber=(\d+)", url)
    page = int(m.group(1)) if m else 1
    result.info.update(listing_id=asin, page=page)
    declared = _WITH_REVIEWS.search(doc.text)
    result.settle(html_problem(doc.text, _REVIEW_CARD),
                  count_problem(len(result.items), page=page, first_page=1, page_size=PAGE_SIZE,
                                total=to_int(declared.group(1)) if declared else None))
    if nxt:
        result.follow.append(Follow(abs_url(nxt, url), "reviews", {"listing_id": asin, "page": page + 1}))
    return result


def parse_product_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    ids = _by_id(tree)
    asin = _asin(tree, url, ids)
    title = clean_text(ids["productTitle"].text_content()) if "productTitle" in ids else None
    if not title or not asin:
        raise ParseError("no #productTitle/ASIN: not an Amazon product page")
    result = PageResult.decoded("item", doc)
    img = ids.get("landingImage")
    if img is None:
        img = ids.get("imgBlkFront")
    image = (img.get("data-old-hires") or img.get("src")) if img is not None else None
    price_text = None
    for box in ("corePrice_feature_div", "corePriceDisplay_desktop_feature_div", "apex_desktop"):
        if box in ids:
            price_text = first_text(ids[box], ".//span[contains(@class,'a-offscreen')]")
            if price_text:
                break
    for single in ("priceblock_ourprice", "price_inside_buybox", "newBuyBoxPrice"):
        if not price_text and single in ids:
            price_text = clean_text(ids[single].text_content()) or None
    if not price_text:  # books show the buy-box price as "offer-price"
        price_text = first_text(tree, "//span[contains(@class,'offer-price')]")
    currency = None
    if price_text:
        sym = re.match(r"\s*([^\d\s.,]+)", price_text)
        currency = _CURRENCY.get(sym.group(1)) if sym else None
    pop = ids.get("acrPopover")
    rating = (pop.get("title") or first_text(pop, ".//span[contains(@class,'a-icon-alt')]")) if pop is not None else None
    count = clean_text(ids["acrCustomerReviewText"].text_content()) if "acrCustomerReviewText" in ids else None
    result.items.append(
        listing_item(
            PLATFORM,
            listing_id=asin,
            title=title,
            price=to_float(price_text),
            currency=currency,
            images=[i for i in [abs_url(image, url)] if i and not i.startswith("data:")],
            rating_avg=to_float(rating),
            review_count=to_int(count),
            attributes={k: v for k, v in {"brand": clean_text(ids["bylineInfo"].text_content()) if "bylineInfo" in ids
                                          else None}.items() if v},
            url=url,
        )
    )
    result.items.extend(_reviews(tree, url, asin))
    host = urlsplit(url)
    result.info.update(listing_id=asin)
    result.follow.append(
        Follow(f"{host.scheme}://{host.netloc}/product-reviews/{asin}/?sortBy=recent&pageNumber=1", "reviews",
               {"listing_id": asin, "page": 1})
    )
    result.settle(html_problem(doc.text, _REVIEW_CARD))
    return result


def parse_search(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    """Search or storefront result pages: ``s-search-result`` cards (ASIN, title, price, stars)."""
    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    result = PageResult.decoded("shop", doc)
    cards = xp(tree, "//*[@data-component-type='s-search-result'][@data-asin]")
    if not cards:
        raise ParseError("no s-search-result cards: not an Amazon search page")
    p = urlsplit(url)
    for card in cards:
        asin = card.get("data-asin")
        if not asin:
            result.count("invalid_rows")
            continue
        price_text = first_text(card, ".//span[contains(@class,'a-price')]/span[contains(@class,'a-offscreen')]")
        sym = re.match(r"\s*([^\d\s.,]+)", price_text or "")
        count = first_attr(card, ".//*[contains(@aria-label,' ratings') or contains(@aria-label,' rating')]"
                                 "[not(contains(@aria-label,'out of'))]/@aria-label")
        result.items.append(
            listing_item(
                PLATFORM,
                listing_id=asin,
                title=first_text(card, ".//h2"),
                price=to_float(price_text),
                currency=_CURRENCY.get(sym.group(1)) if sym else None,
                images=[i for i in [first_attr(card, ".//img[contains(@class,'s-image')]/@src")] if i],
                rating_avg=to_float(first_text(card, ".//*[contains(@class,'a-icon-alt')]")),
                review_count=to_int(count),
                url=f"{p.scheme}://{p.netloc}/dp/{asin}",
                raw={"sponsored": "AdHolder" in (card.get("class") or "")},
            )
        )
    nxt = first_attr(tree, "//a[contains(@class,'s-pagination-next')]/@href")
    if nxt:
        result.follow.append(Follow(abs_url(nxt, url), "shop"))
    result.settle(html_problem(doc.text, "s-search-result"))
    return result
