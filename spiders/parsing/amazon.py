"""Amazon formats: ``/product-reviews/`` pages and product detail pages (old and new layouts,
several locales). Review cards are ``data-hook="review"`` in every layout seen so far."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from spiders.parsing.common import (
    Follow,
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
from spiders.parsing.html import first_attr, first_text, html_tree, xp

PLATFORM = "amazon"
_ASIN = re.compile(r"/(?:dp|product-reviews|gp/product|product)/([A-Z0-9]{10})")
_CURRENCY = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "CDN$": "CAD"}


def _asin(tree, url: str) -> str | None:  # noqa: ANN001
    for candidate in (first_attr(tree, "//link[@rel='canonical']/@href"), url):
        m = _ASIN.search(candidate or "")
        if m:
            return m.group(1)
    return first_attr(tree, "//input[@id='ASIN']/@value") or first_attr(tree, "//*[@data-asin][1]/@data-asin")


def _reviews(tree, url: str, asin: str | None) -> list[dict[str, Any]]:  # noqa: ANN001
    out = []
    for card in xp(tree, "//*[@data-hook='review']"):
        review_id = card.get("id") or ""
        if not review_id:
            continue
        stars = first_text(card, ".//*[@data-hook='review-star-rating' or @data-hook='cmps-review-star-rating']//span")
        if not stars:
            cls = first_attr(card, ".//i[contains(@class,'a-star-')]/@class") or ""
            m = re.search(r"a-star-(\d)", cls)
            stars = m.group(1) if m else None
        title_nodes = xp(card, ".//*[@data-hook='review-title']")
        title = None
        if title_nodes:
            # the title link also holds the star icon text; the title is the last <span>
            spans = [s.text_content().strip() for s in xp(title_nodes[0], "./span") if s.text_content().strip()]
            title = spans[-1] if spans else title_nodes[0].text_content().strip()
        else:  # 2025+ layout
            title = first_text(card, ".//*[@data-hook='reviewTitle']")
        body = first_text(card, ".//*[@data-hook='review-body']") or first_text(
            card, ".//*[contains(@class,'review-text-content')] | .//*[@data-hook='review-collapsed'] | .//*[@data-hook='reviewRichContentContainer']"
        )
        date_line = first_text(card, ".//*[@data-hook='review-date']") or ""
        helpful = first_text(card, ".//*[@data-hook='helpful-vote-statement']")
        variant = first_text(card, ".//*[@data-hook='format-strip']")
        photos = xp(card, ".//*[@data-hook='review-image-tile']/@src | .//img[contains(@class,'review-image-tile')]/@src")
        country = None
        m = re.search(r"Reviewed in (?:the )?(.+?) on ", date_line)
        if m:
            country = m.group(1)
        out.append(
            review_item(
                PLATFORM,
                review_id=review_id.removesuffix("-review-card"),
                listing_id=asin,
                reviewer_nick=first_text(card, ".//span[contains(@class,'a-profile-name')]"),
                rating=clamp_rating(stars),
                title=title,
                text=body or "",
                created_at=western_date(date_line.split(" on ")[-1] if " on " in date_line else date_line),
                sku=variant,
                photos=[abs_url(p, url) for p in photos],
                helpful_votes=to_int(helpful) if helpful else 0,
                verified_purchase=bool(xp(card, ".//*[@data-hook='avp-badge' or @data-hook='avp-badge-linkless']")),
                raw={"profile": first_attr(card, ".//a[contains(@class,'a-profile')]/@href"), "country": country,
                     "date_line": date_line},
            )
        )
    return out


def parse_reviews_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    asin = _asin(tree, url)
    result = PageResult(page_kind="reviews")
    result.count("decode_errors", doc.decode_errors)
    result.items.extend(_reviews(tree, url, asin))
    if not result.items and "data-hook" not in doc.text:
        raise ParseError("no review cards: not an Amazon reviews page")
    nxt = first_attr(tree, "//*[@id='cm_cr-pagination_bar']//li[contains(@class,'a-last')]/a/@href")
    m = re.search(r"pageNumber=(\d+)", url)
    page = int(m.group(1)) if m else 1
    result.info.update(listing_id=asin, page=page)
    if nxt:
        result.follow.append(Follow(abs_url(nxt, url), "reviews", {"listing_id": asin, "page": page + 1}))
    return result


def parse_product_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    asin = _asin(tree, url)
    title = first_text(tree, "//*[@id='productTitle']")
    if not title or not asin:
        raise ParseError("no #productTitle/ASIN: not an Amazon product page")
    result = PageResult(page_kind="item")
    result.count("decode_errors", doc.decode_errors)
    image = first_attr(tree, "//img[@id='landingImage']/@data-old-hires") or first_attr(
        tree, "//img[@id='landingImage']/@src | //img[@id='imgBlkFront']/@src"
    )
    price_text = first_text(
        tree,
        "(//*[@id='corePrice_feature_div' or @id='corePriceDisplay_desktop_feature_div' or @id='apex_desktop']"
        "//span[contains(@class,'a-offscreen')])[1] | //*[@id='priceblock_ourprice'] | //*[@id='price_inside_buybox']"
        " | //*[@id='newBuyBoxPrice'] | //span[contains(@class,'offer-price')]",
    )
    currency = None
    if price_text:
        sym = re.match(r"\s*([^\d\s.,]+)", price_text)
        currency = _CURRENCY.get(sym.group(1)) if sym else None
    rating = first_attr(tree, "//*[@id='acrPopover']/@title") or first_text(tree, "//*[@id='acrPopover']//span[contains(@class,'a-icon-alt')]")
    count = first_text(tree, "//*[@id='acrCustomerReviewText']")
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
            attributes={k: v for k, v in {"brand": first_text(tree, "//*[@id='bylineInfo']")}.items() if v},
            url=url,
        )
    )
    result.items.extend(_reviews(tree, url, asin))
    host = urlparse(url)
    result.info.update(listing_id=asin)
    result.follow.append(
        Follow(f"{host.scheme}://{host.netloc}/product-reviews/{asin}/?sortBy=recent&pageNumber=1", "reviews",
               {"listing_id": asin, "page": 1})
    )
    return result
