"""Amazon: ``/product-reviews/`` pages, product detail pages (2019-2026 layouts) and search result
cards, in every marketplace's language. Review cards are ``data-hook="review"`` in every layout
seen so far; numbers, prices and dates are read in the page's locale (``<html lang>``, else the
domain: amazon.de writes "12,50 €" and "12.345 Bewertungen")."""

from __future__ import annotations

import re
from typing import Any

from babel import Locale
from parsel import Selector, SelectorList
from scrapy.http import TextResponse
from w3lib.url import url_query_parameter

from spiders.parsing.common import Follow, PageResult, ParseError, listing_item, review_item
from spiders.parsing.completeness import count_problem, html_problem
from spiders.parsing.responses import start
from spiders.parsing.values import count, number, page_locale, price, stars, text_of, western_date

PLATFORM = "amazon"
PAGE_SIZE = 10  # cards on every /product-reviews/ page but the last
REVIEW_CARD = 'data-hook="review"'
_ASIN = re.compile(r"/(?:dp|product-reviews|gp/product|product)/([A-Z0-9]{10})")
_COUNTRY = re.compile(r"Reviewed in (?:the )?(.+?) on ")
_STAR_CLASS = re.compile(r"a-star-(\d)")
# The byline links to the brand's store in the marketplace's language; the brand is inside.
_BYLINE = re.compile(
    r"^(?:Visit the (?P<en>.+?) Store|Visita la tienda de (?P<es>.+)|Besuchen Sie den (?P<de>.+?)-Store"
    r"|Visiter la boutique (?P<fr>.+)|Visita lo Store di (?P<it>.+)|(?P<ja>.+?)のストアを表示"
    r"|(?:Brand|Marca|Marke|Marque|ブランド)\s?[:：]\s*(?P<label>.+))$")


_PRICE_BOXES = ("#corePrice_feature_div", "#corePriceDisplay_desktop_feature_div", "#apex_desktop")
_PRICE_SINGLES = ("#priceblock_ourprice", "#price_inside_buybox", "#newBuyBoxPrice", "span.offer-price")


def brand_of(byline: str | None) -> str | None:
    """The brand in a byline: "Visit the Gorilla Store", "Besuchen Sie den Bosch-Store" → the name."""
    if not byline:
        return None
    m = _BYLINE.match(byline)
    return next(v for v in m.groupdict().values() if v).strip() if m else byline


def rating_text(text: str | None, locale: Locale) -> float | None:
    """"4.1 out of 5 stars", "4,1 von 5 Sternen"; Japanese puts the scale first: "5つ星のうち4.1"."""
    if text and "のうち" in text:
        text = text.split("のうち", 1)[1]
    return number(text, locale)


def _asin(response: TextResponse) -> str | None:
    for candidate in (response.xpath("//link[@rel='canonical']/@href").get(), response.url):
        m = _ASIN.search(candidate or "")
        if m:
            return m.group(1)
    return response.css("#ASIN::attr(value)").get() or response.xpath("//*[@data-asin][1]/@data-asin").get()


def _review(card: Selector, response: TextResponse, asin: str | None, locale: Locale) -> dict[str, Any] | None:
    review_id = (card.attrib.get("id") or "").removesuffix("-review-card")
    if not review_id:
        return None
    hook = lambda name: card.css(f'[data-hook="{name}"]')  # noqa: E731 - the card's one lookup
    star_text = (hook("review-star-rating") or hook("cmps-review-star-rating")).css("span::text").get()
    if not star_text:
        m = _STAR_CLASS.search(card.css("i[class*='a-star-']::attr(class)").get() or "")
        star_text = m.group(1) if m else None
    title_el = hook("review-title")
    if title_el:  # the title link also holds the star icon text: the title is its last <span>
        spans = [t for t in (text_of(SelectorList([s])) for s in title_el[0].xpath("./span")) if t]
        title = spans[-1] if spans else text_of(title_el)
    else:  # 2025+ layout
        title = text_of(hook("reviewTitle"))
    body = (text_of(hook("review-body")) or text_of(hook("review-collapsed"))
            or text_of(hook("reviewRichContentContainer")) or text_of(card.css(".review-text-content")))
    date_line = text_of(hook("review-date")) or ""
    helpful = text_of(hook("helpful-vote-statement"))
    photos = hook("review-image-tile").xpath("@src").getall() + card.css("img.review-image-tile::attr(src)").getall()
    country = _COUNTRY.search(date_line)
    return review_item(
        PLATFORM,
        review_id=review_id,
        listing_id=asin,
        reviewer_nick=text_of(card.css("a.a-profile span.a-profile-name") or card.css("span.a-profile-name")),
        rating=stars(rating_text(star_text, locale)),
        title=title,
        text=body or "",
        created_at=western_date(date_line, locale),
        sku=text_of(hook("format-strip")),
        photos=[response.urljoin(p) for p in dict.fromkeys(photos) if p],
        helpful_votes=votes_in(helpful, locale),
        verified_purchase=bool(hook("avp-badge") or hook("avp-badge-linkless")),
        raw={"profile": card.css("a.a-profile::attr(href)").get(), "country": country.group(1) if country else None,
             "date_line": date_line},
    )


def votes_in(statement: str | None, locale: Locale) -> int:
    """"12 people found this helpful", "A 2.048 personas les ha parecido esto útil"; the statement
    without a digit is the one for a single vote ("One person…", "Una persona…", "Eine Person…")."""
    if not statement:
        return 0
    n = count(statement, locale)
    return 1 if n is None else n


def _reviews(response: TextResponse, asin: str | None, locale: Locale) -> list[dict[str, Any]]:
    found = (_review(card, response, asin, locale) for card in response.css(f"[{REVIEW_CARD}]"))
    return [r for r in found if r]


def parse_reviews_page(response: TextResponse) -> PageResult:
    result = start("reviews", response)
    locale = page_locale(response)
    asin = _asin(response)
    result.items.extend(_reviews(response, asin, locale))
    if not result.items and "data-hook" not in response.text:
        raise ParseError("no review cards: not an Amazon reviews page")
    page = int(url_query_parameter(response.url, "pageNumber", "1") or 1)
    result.info.update(listing_id=asin, page=page)
    nxt = response.css("#cm_cr-pagination_bar li.a-last a::attr(href)").get()
    if nxt:
        result.follow.append(Follow(response.urljoin(nxt), "reviews", {"listing_id": asin, "page": page + 1}))
    # "5,849 total ratings, 504 with reviews" / "… 1.234 mit Rezensionen": the last number
    declared = response.css('[data-hook="cr-filter-info-review-rating-count"]').xpath("string()").get()
    numbers = re.findall(r"\d+(?:[.,\u00a0\u202f]\d+)*", declared or "")
    result.settle(html_problem(response.text, REVIEW_CARD),
                  count_problem(len(result.items), page=page, first_page=1, page_size=PAGE_SIZE,
                                total=count(numbers[-1], locale) if numbers else None))
    return result


def parse_product_page(response: TextResponse) -> PageResult:
    asin = _asin(response)
    title = text_of(response.css("#productTitle"))
    if not title or not asin:
        raise ParseError("no #productTitle/ASIN: not an Amazon product page")
    result = start("item", response)
    locale = page_locale(response)
    image = response.css("#landingImage") or response.css("#imgBlkFront")
    image_url = image.attrib.get("data-old-hires") or image.attrib.get("src") if image else None
    # the price boxes of the layouts, newest first; books show the buy-box price as "offer-price"
    boxes = [response.css(f"{box} span.a-offscreen") for box in _PRICE_BOXES] + [
        response.css(box) for box in _PRICE_SINGLES]
    price_text = next((t for t in map(text_of, boxes) if t), None)
    amount, currency = price(price_text, locale)
    popover = response.css("#acrPopover")
    rating = popover.attrib.get("title") or text_of(popover.css("span.a-icon-alt")) if popover else None
    brand = brand_of(text_of(response.css("#bylineInfo")))
    result.items.append(
        listing_item(
            PLATFORM,
            listing_id=asin,
            title=title,
            price=amount,
            currency=currency,
            images=[response.urljoin(image_url)] if image_url and not image_url.startswith("data:") else [],
            rating_avg=rating_text(rating, locale),
            review_count=count(text_of(response.css("#acrCustomerReviewText")), locale),
            attributes={"brand": brand},
            url=response.url,
        )
    )
    result.items.extend(_reviews(response, asin, locale))
    result.info.update(listing_id=asin)
    result.follow.append(Follow(response.urljoin(f"/product-reviews/{asin}/?sortBy=recent&pageNumber=1"), "reviews",
                                {"listing_id": asin, "page": 1}))
    result.settle(html_problem(response.text, REVIEW_CARD))
    return result


def parse_search(response: TextResponse) -> PageResult:
    """Search or storefront result pages: ``s-search-result`` cards (ASIN, title, price, stars)."""
    cards = response.css("[data-component-type='s-search-result'][data-asin]")
    if not cards:
        raise ParseError("no s-search-result cards: not an Amazon search page")
    result = start("shop", response)
    locale = page_locale(response)
    for card in cards:
        asin = card.attrib.get("data-asin")
        if not asin:
            result.count("invalid_rows")
            continue
        amount, currency = price(card.css("span.a-price > span.a-offscreen::text").get(), locale)
        ratings = card.xpath(".//*[contains(@aria-label,' rating')][not(contains(@aria-label,'out of'))]/@aria-label")
        result.items.append(
            listing_item(
                PLATFORM,
                listing_id=asin,
                title=text_of(card.css("h2")),
                price=amount,
                currency=currency,
                images=card.css("img.s-image::attr(src)").getall()[:1],
                rating_avg=rating_text(text_of(card.css(".a-icon-alt")), locale),
                review_count=count(ratings.get(), locale),
                url=response.urljoin(f"/dp/{asin}"),
                raw={"sponsored": "AdHolder" in (card.attrib.get("class") or "")},
            )
        )
    nxt = response.css("a.s-pagination-next::attr(href)").get()
    if nxt:
        result.follow.append(Follow(response.urljoin(nxt), "shop"))
    result.settle(html_problem(response.text, "s-search-result"))
    return result
