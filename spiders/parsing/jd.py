"""JD: the comment API (``fetchJSON_comment98({...})`` JSONP, or a JSON list of the same comment
objects), item pages (``var pageConfig = {product: {...}}``, GBK) with the 2014 layout's inline
reviews, and category/shop listing cards."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from parsel import Selector
from scrapy.http import TextResponse
from w3lib.url import add_or_replace_parameter, url_query_parameter

from spiders.parsing.common import Follow, PageResult, ParseError, listing_item, review_item
from spiders.parsing.completeness import count_problem, html_problem
from spiders.parsing.responses import js_object, start, unwrap_jsonp
from spiders.parsing.values import clean_text, cn_datetime, count, machine_number, stars, text_of

PLATFORM = "jd"
IMAGE_HOST = "https://img10.360buyimg.com/n1/"
PAGE_SIZE = 10


def api_base(page_url: str) -> str:
    parts = urlsplit(page_url)
    if (parts.hostname or "").endswith("jd.com"):
        return "https://club.jd.com"
    return f"{parts.scheme}://{parts.netloc}"


def comments_url(page_url: str, sku: str, page: int = 0) -> str:
    # sortType=6 is "newest first": incremental crawls rely on it to stop early.
    query = urlencode({"callback": "fetchJSON_comment98", "productId": sku, "score": 0, "sortType": 6,
                       "page": page, "pageSize": PAGE_SIZE})
    return f"{api_base(page_url)}/comment/productPageComments.action?{query}"


def _sku_line(c: dict[str, Any]) -> str | None:
    return " ".join(p for p in (clean_text(c.get("productColor")), clean_text(c.get("productSize"))) if p) or None


def comment_to_review(c: dict[str, Any], response: TextResponse, listing_id: str | None = None) -> dict[str, Any]:
    after = c.get("afterUserComment") if isinstance(c.get("afterUserComment"), dict) else {}
    after_text = clean_text((after.get("hAfterUserComment") or {}).get("content") or after.get("content")) or None
    replies = [r for r in c.get("replies") or [] if isinstance(r, dict) and r.get("content")]
    return review_item(
        PLATFORM,
        review_id=str(c.get("id") or ""),
        listing_id=str(c.get("referenceId") or listing_id or "") or None,
        reviewer_nick=c.get("nickname"),
        rating=stars(machine_number(c.get("score"))),
        text=clean_text(c.get("content")),
        created_at=cn_datetime(c.get("creationTime")),
        sku=_sku_line(c),
        photos=[response.urljoin(i["imgUrl"]) for i in c.get("images") or [] if i.get("imgUrl")],
        helpful_votes=count(c.get("usefulVoteCount")),
        follow_up_text=after_text,
        follow_up_at=cn_datetime(after.get("created")),
        seller_reply="\n".join(clean_text(r["content"]) for r in replies) or None,
        seller_reply_at=cn_datetime(replies[0].get("creationTime")) if replies else None,
        raw={k: c.get(k) for k in ("guid", "location", "userClient", "plusAvailable", "anonymousFlag",
                                   "referenceName", "referenceTime", "days", "afterDays", "isDelete",
                                   "vcontent") if k in c},
    )


def parse_comments(response: TextResponse) -> PageResult:
    result = start("reviews", response)
    data = unwrap_jsonp(response.text)
    page = int(url_query_parameter(response.url, "page", "0") or 0)
    sku = url_query_parameter(response.url, "productId")
    if isinstance(data, list):  # a dump of comment objects without the envelope
        comments, max_page, declared = data, None, None
    elif isinstance(data, dict) and "comments" in data:
        comments, max_page = data.get("comments") or [], count(data.get("maxPage"))
        summary = data.get("productCommentSummary") or {}
        result.info["summary"] = {k: summary.get(k) for k in ("averageScore", "goodRate", "commentCountStr",
                                                             "poorCountStr", "afterCountStr") if k in summary}
        result.info["average_score"] = machine_number(summary.get("averageScore"))
        declared = count(summary.get("commentCount"))
    else:
        raise ParseError("JSON has no 'comments': not a JD comment response")
    for c in comments:
        if not isinstance(c, dict) or not c.get("id"):
            result.count("invalid_rows")
            continue
        result.items.append(comment_to_review(c, response, sku))
    result.info.update(page=page, max_page=max_page, listing_id=sku)
    if max_page is not None and page + 1 < max_page and comments and sku:
        result.follow.append(Follow(add_or_replace_parameter(response.url, "page", str(page + 1)), "reviews",
                                    {"listing_id": sku, "page": page + 1}))
    # pages count from 0; maxPage is how many there are
    page_size = int(url_query_parameter(response.url, "pageSize", str(PAGE_SIZE)) or PAGE_SIZE)
    result.settle(count_problem(len(comments), page=page, first_page=0, page_size=page_size, total=declared,
                                last_page=max_page - 1 if max_page else None))
    return result


def parse_item_page(response: TextResponse) -> PageResult:
    if "pageConfig" not in response.text:
        raise ParseError("no pageConfig: not a JD item page (or truncated)")
    config = js_object(response.text, "pageConfig")
    product = config.get("product") if isinstance(config, dict) else None
    if not isinstance(product, dict) or not product.get("skuid"):
        raise ParseError("pageConfig has no product skuid")
    result = start("item", response)
    sku = str(product["skuid"])
    # JD gives image paths relative to its image CDN; absolute paths and URLs stay as they are
    paths = product.get("imageList") or ([product["src"]] if product.get("src") else [])
    images = [response.urljoin(p) if p.startswith(("/", "http")) else IMAGE_HOST + p for p in paths]
    amount = machine_number(text_of(response.xpath("//span[has-class('p-price')]/span[last()]")))
    shop_id = str(product["shopId"]) if product.get("shopId") else None
    cat = product.get("cat")
    vender = product.get("venderId")
    attributes = {"vender_id": None if vender is None else str(vender),
                  "cat": ",".join(map(str, cat)) if isinstance(cat, list) else cat}
    result.items.append(listing_item(
        PLATFORM,
        listing_id=sku,
        shop_id=shop_id,
        title=product.get("name") or text_of(response.xpath("//div[has-class('sku-name')]")),
        price=amount,
        currency="CNY" if amount is not None else None,
        images=images,
        attributes=attributes,
        url=response.url,
        raw={"commentVersion": product.get("commentVersion")},
    ))
    result.items.extend(_legacy_review(item, sku) for item in response.xpath(
        "//div[has-class('comment-content')]/ancestor::div[has-class('item')]") if _legacy_id(item))
    result.info.update(listing_id=sku, shop_id=shop_id)
    result.follow.append(Follow(comments_url(response.url, sku), "reviews", {"listing_id": sku, "page": 0}))
    result.settle(html_problem(response.text, "comment-content"))
    return result


def _legacy_id(item: Selector) -> str | None:
    return item.xpath(".//*[has-class('o-topic')]//a/@href").re_first(r"_([0-9a-f\-]{36})_")


def _legacy_review(item: Selector, sku: str) -> dict[str, Any]:
    """The 2014 layout rendered reviews inline: 优点/不足/使用心得 (pros/cons/text) as dt/dd pairs."""
    content = item.xpath(".//div[has-class('comment-content')]")
    parts = {clean_text(dt.xpath("string()").get()).rstrip("：:"): clean_text(dt.xpath("following-sibling::*[1]").xpath("string()").get())
             for dt in content.xpath(".//dt") if dt.xpath("following-sibling::*[1]")}
    text = parts.pop("使用心得", "") or clean_text(content.xpath("string()").get()).removeprefix("使用心得：")
    return review_item(
        PLATFORM, review_id=_legacy_id(item), listing_id=sku,
        reviewer_nick=text_of(item.xpath(".//div[has-class('u-name')]")),
        title=text_of(item.xpath(".//*[has-class('o-topic')]//a")),
        rating=stars(machine_number(item.xpath(".//span[has-class('star')]/@class").re_first(r"sa(\d)"))),
        text=text, created_at=cn_datetime(text_of(item.xpath(".//span[has-class('date-comment')]"))),
        raw={"pros_cons": parts, "bought": text_of(item.xpath(".//div[has-class('date-buy')]"))},
    )


def parse_list(response: TextResponse) -> PageResult:
    """Category or shop listing cards (``gl-item`` with ``data-sku``; 2014 ``li[sku]``)."""
    cards = response.xpath("//*[@data-sku][has-class('gl-i-wrap')] | //li[@sku]")
    # an empty shop still has the list container; anything else is not a listing page
    if not cards and not any(m in response.text for m in ("gl-item", "gl-warp", "J_goodsList")):
        raise ParseError("no product cards: not a JD listing page")
    result = start("shop", response)
    for card in cards:
        shop = card.xpath(".//div[has-class('p-shop')]")
        image = card.xpath(".//div[has-class('p-img')]//img/@*[name()='src' or name()='data-lazy-img' "
                           "or name()='data-lazyload']").get()
        href = card.xpath(".//div[has-class('p-name')]//a/@href").get()
        attributes = {"vender_id": card.attrib.get("venderid"), "shop_name": shop.attrib.get("data-shop_name")}
        result.items.append(listing_item(
            PLATFORM,
            listing_id=card.attrib.get("data-sku") or card.attrib.get("sku"),
            shop_id=card.attrib.get("jdzy_shop_id") or shop.attrib.get("data-shopid") or None,
            title=text_of(card.xpath(".//div[has-class('p-name')]//em | .//div[has-class('p-name')]/a")),
            price=machine_number(text_of(card.xpath(".//div[has-class('p-price')]//i"))),
            currency="CNY",
            images=[response.urljoin(image.strip())] if image else [],
            review_count=count(text_of(card.xpath(".//div[has-class('p-commit')]//a | .//span[has-class('evaluate')]/a")),
                               "zh_CN"),
            attributes=attributes,
            url=response.urljoin(href.strip()) if href else None,
        ))
    nxt = response.xpath("//a[has-class('pn-next')]/@href").get()
    if nxt and not nxt.startswith("javascript"):
        result.follow.append(Follow(response.urljoin(nxt), "shop"))
    result.settle(html_problem(response.text))
    return result
