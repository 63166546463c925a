"""Taobao: item pages (``g_config``, the SKU map, the review tab as a browser renders it), the mtop
review API ``mtop.wdetail.getitemrates``, search/shop pages (``g_page_config`` JSON or rendered item
cards) and shop DSR scores. Tmall shares the review API and search pages (``platform="tmall"``)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from parsel import Selector
from scrapy.http import TextResponse
from w3lib.url import add_or_replace_parameter, url_query_parameter

from spiders.parsing.common import Follow, PageResult, ParseError, listing_item, review_item
from spiders.parsing.completeness import count_problem, html_problem
from spiders.parsing.responses import js_object, start, unwrap_jsonp
from spiders.parsing.values import clean_text, cn_datetime, count, machine_number, text_of

PLATFORM = "taobao"
RATES_API = "mtop.wdetail.getitemrates"
PAGE_SIZE = 10  # the API takes no page size from us; the real capture holds 10 on page 1 of 500
# rateType on the review APIs: 1 good, 0 neutral, -1 bad. Taobao shows no stars, so the three
# grades map onto the ends and middle of the 1-5 scale; the original value stays in raw.
RATE_TYPE_STARS = {"1": 5, "0": 3, "-1": 1}
_THUMB_SUFFIX = re.compile(r"_\d+x\d+(?:q\d+)?\.(?:jpg|png|webp)(?:_\.webp)?$")
# g_config is JavaScript with expressions (``+new Date``, ``a ? b : c``) that no JSON or JS-object
# reader accepts: its quoted fields are read one by one.
_QUOTED_FIELD = re.compile(r"(\w+)\s*:\s*'((?:[^'\\]|\\.)*)'")


def api_base(page_url: str) -> str:
    """Where the review API lives for a page: the real mtop host, or the page's own origin."""
    parts = urlsplit(page_url)
    if (parts.hostname or "").endswith(("taobao.com", "tmall.com")):
        return "https://h5api.m.taobao.com"
    return f"{parts.scheme}://{parts.netloc}"


def rates_url(page_url: str, item_id: str, page: int = 1) -> str:
    query = urlencode({"auctionNumId": item_id, "pageNo": page, "orderType": "feedbackdate"})
    return f"{api_base(page_url)}/h5/{RATES_API}/3.0/?{query}"


def full_image(url: str | None, response: TextResponse) -> str | None:
    """Thumbnail URLs carry a ``_40x40.jpg`` suffix; the original is the URL without it."""
    return _THUMB_SUFFIX.sub("", response.urljoin(url.strip())) if url and url.strip() else None


def g_config(text: str) -> dict[str, str]:
    """The quoted fields of the page's ``g_config = {...}`` (itemId, shopId, sellerId...)."""
    begin = text.find("g_config")
    if begin < 0:
        return {}
    fields: dict[str, str] = {}
    for name, raw in _QUOTED_FIELD.findall(text, begin, text.find("};", begin)):
        # a JS single-quoted string: its escapes are JSON's but for \'
        fields.setdefault(name, json.loads('"' + raw.replace('"', '\\"').replace("\\'", "'") + '"'))
    return fields


# Item page ---------------------------------------------------------------------------------
def parse_item_page(response: TextResponse, platform: str = PLATFORM) -> PageResult:
    config = g_config(response.text)
    item_id = config.get("itemId")
    if not item_id:
        raise ParseError("no itemId in g_config: not a Taobao item page (or truncated)")
    result = start("item", response)
    title = (response.css("h3.tb-main-title::attr(data-title)").get() or "").strip() or text_of(
        response.css("h3.tb-main-title"))
    if not title:
        title = re.sub(r"-淘宝网$|-tmall.com天猫$", "", text_of(response.css("title")) or "").strip() or None
    thumbs = response.xpath("//ul[@id='J_UlThumb']//img/@*[name()='data-src' or name()='src']").getall()
    images = list(dict.fromkeys(filter(None, (full_image(src, response) for src in thumbs))))
    amount = machine_number(text_of(response.xpath("//*[@id='J_StrPrice']//em[has-class('tb-rmb-num')]")))
    skus = _skus(response.text)
    if amount is None and skus:
        amount = min((p for p in (machine_number(s["price"]) for s in skus) if p is not None), default=None)
    attributes = {"seller_id": config.get("sellerId"), "seller_nick": config.get("sellerNick")}
    result.items.append(listing_item(
        platform,
        listing_id=item_id,
        shop_id=config.get("shopId"),
        title=title,
        price=amount,
        currency="CNY" if amount is not None else None,
        images=images,
        attributes=attributes,
        url=response.url,
        skus=skus,
        raw={"shopName": config.get("shopName"), "rateCounterApi": config.get("rateCounterApi")},
    ))
    result.items.extend(rendered_reviews(response, item_id, platform))
    result.info.update(listing_id=item_id, shop_id=config.get("shopId"))
    result.follow.append(Follow(rates_url(response.url, item_id), "reviews", {"listing_id": item_id, "page": 1}))
    result.settle(html_problem(response.text, "J_KgRate_ReviewItem"))
    return result


def _skus(text: str) -> list[dict[str, Any]]:
    """``Hub.config.set('sku', {valItemInfo: {skuMap, propertyMemoMap}})``: one entry per SKU."""
    if "Hub.config.set('sku'" not in text:
        return []
    try:
        info = js_object(text, "Hub.config.set('sku',").get("valItemInfo") or {}
    except ParseError:
        return []
    memo = info.get("propertyMemoMap") or {}
    out = []
    for pvs, data in (info.get("skuMap") or {}).items():
        names = [memo[p] for p in pvs.strip(";").split(";") if p in memo]
        out.append({"sku_id": data.get("skuId"), "pvs": pvs.strip(";"), "names": " ".join(names) or None,
                    "price": data.get("price"), "stock": data.get("stock")})
    return out


def rendered_reviews(response: TextResponse, item_id: str, platform: str = PLATFORM) -> list[dict[str, Any]]:
    """The review tab as a browser renders it: ``li.J_KgRate_ReviewItem`` cards."""
    return [r for r in (_review_card(li, response, item_id, platform)
                        for li in response.css("li.J_KgRate_ReviewItem")) if r]


def _review_card(li: Selector, response: TextResponse, item_id: str, platform: str) -> dict[str, Any] | None:
    rev = li.css("div.tb-rev-item")
    if not rev:
        return None
    nick = text_of(li.xpath(".//div[has-class('from-whom')]/div"))
    date = text_of(li.css("span.tb-r-date"))
    # the SKU line is the text after the date inside the info box ("颜色分类：藏青色  尺码：L")
    sku = clean_text(li.css("div.tb-r-info span.tb-r-date").xpath("following-sibling::text()[1]").get()) or None
    photos = rev.css("div.tb-rev-item-media img::attr(src)").getall()
    return review_item(
        platform,
        review_id=rev.attrib.get("data-id") or (li.attrib.get("id") or "").removeprefix("review-"),
        listing_id=item_id,
        reviewer_nick=nick.replace("（匿名）", "").strip() if nick else None,
        text=text_of(rev.css("div.J_KgRate_ReviewContent")) or "",
        created_at=cn_datetime(date),
        sku=sku,
        photos=list(dict.fromkeys(filter(None, (full_image(p, response) for p in photos)))),
        helpful_votes=count(text_of(li.css(".J_KgRate_UsefulNum"))),
        raw={"anonymous": bool(nick and "匿名" in nick), "date": date},
    )


# Review API ---------------------------------------------------------------------------------
def _load_rates(text: str) -> dict[str, Any]:
    # Front-end test data wraps the response as a JS module; JSONP callbacks wrap it too.
    stripped = re.sub(r"^export\s+(?:const|let|var)\s+\w+\s*=\s*", "", text.strip()).rstrip().rstrip(";")
    data = unwrap_jsonp(stripped)
    if not isinstance(data, dict) or "data" not in data:
        raise ParseError("not an mtop response (no 'data')")
    ret = data.get("ret") or []
    if ret and not any(str(r).startswith("SUCCESS") for r in ret):
        raise ParseError(f"mtop call failed: {ret[0]}")
    return data


def parse_rates(response: TextResponse, platform: str = PLATFORM) -> PageResult:
    """``mtop.wdetail.getitemrates`` JSON: ``data.rateList`` newest first, ``totalPage`` paging."""
    result = start("reviews", response)
    data = _load_rates(response.text)["data"]
    page = int(url_query_parameter(response.url, "pageNo", "1") or 1)
    listing_id = url_query_parameter(response.url, "auctionNumId")
    rates = data.get("rateList") or []
    for rate in rates:
        if not isinstance(rate, dict):
            result.count("invalid_rows")
            continue
        photos = rate.get("feedPicPathList") or [p.get("thumbnail") for p in rate.get("feedPicList") or []]
        sku_map = rate.get("skuMap") or {}
        sku = " ".join([f"{k}：{v}" for k, v in sku_map.items()]) if isinstance(sku_map, dict) else None
        append = rate.get("appendedFeed") or rate.get("append") or {}
        if not isinstance(append, dict):
            append = {}
        reply = rate.get("reply")
        result.items.append(review_item(
            platform,
            review_id=str(rate.get("id") or ""),
            listing_id=str(rate.get("auctionNumId") or listing_id or "") or None,
            reviewer_nick=rate.get("userNick"),
            rating=RATE_TYPE_STARS.get(str(rate.get("rateType"))),
            text=clean_text(rate.get("feedback")),
            created_at=cn_datetime(rate.get("feedbackDate")),
            sku=sku or None,
            photos=[response.urljoin(p) for p in photos if p],
            helpful_votes=count(rate.get("usefulCount")),
            follow_up_text=clean_text(append.get("appendedFeedback") or append.get("feedback")) or None,
            follow_up_at=cn_datetime(append.get("appendedFeedbackDate") or append.get("feedbackDate")),
            seller_reply=clean_text(reply.get("content") if isinstance(reply, dict) else reply) or None,
            raw={"userId": rate.get("userId"), "userMark": rate.get("userMark"), "userStar": rate.get("userStar"),
                 "rateType": rate.get("rateType"), "annoy": rate.get("annoy"), "goldUser": rate.get("goldUser")},
        ))
    total_pages = count(data.get("totalPage")) or page
    result.info.update(page=page, total_pages=total_pages, listing_id=listing_id,
                       total=count(data.get("total")), all_count=count(data.get("feedAllCount")))
    if page < total_pages and listing_id:
        result.follow.append(Follow(add_or_replace_parameter(response.url, "pageNo", str(page + 1)), "reviews",
                                    {"listing_id": listing_id, "page": page + 1}))
    page_size = int(url_query_parameter(response.url, "pageSize", str(PAGE_SIZE)) or PAGE_SIZE)
    result.settle(count_problem(len(rates), page=page, first_page=1, page_size=page_size,
                                total=count(data.get("total")), last_page=total_pages))
    return result


# Search / shop pages ---------------------------------------------------------------------------
def parse_search(response: TextResponse, platform: str = PLATFORM) -> PageResult:
    """``g_page_config`` search results (also the shop's own item search) or rendered item cards."""
    result = start("shop", response)
    text = response.text
    if "g_page_config" in text:
        mods = js_object(text, "g_page_config").get("mods") or {}
        for a in ((mods.get("itemlist") or {}).get("data") or {}).get("auctions") or []:
            nid = str(a.get("nid") or "")
            if not nid:
                result.count("invalid_rows")
                continue
            result.items.append(listing_item(
                platform,
                listing_id=nid,
                shop_id=str(a.get("user_id") or "") or None,
                title=clean_text(a.get("raw_title") or Selector(text=a.get("title") or "<p></p>").xpath("string()").get()),
                price=machine_number(a.get("view_price")),
                currency="CNY",
                images=[response.urljoin(a["pic_url"])] if a.get("pic_url") else [],
                attributes={k: a.get(k) for k in ("nick", "item_loc")},
                review_count=count(a.get("comment_count")),
                sales=count(a.get("view_sales"), "zh_CN"),
                url=response.urljoin(a["detail_url"]) if a.get("detail_url") else None,
                raw={k: a.get(k) for k in ("nid", "user_id", "comment_url", "shopLink")},
            ))
        pager = mods.get("pager") or {}
        result.info.update(total_pages=count((pager.get("data") or {}).get("totalPage")),
                           page=count((pager.get("data") or {}).get("currentPage")))
        if pager.get("next_url"):
            result.follow.append(Follow(response.urljoin(pager["next_url"]), "shop"))
        # a search page lists fewer cards than its pageSize (36 of 44 in the real capture): only
        # the structure decides
        result.settle(html_problem(text))
        return result
    cards = response.xpath("//dl[has-class('item')] | //div[has-class('item')][.//a[has-class('item-name')]]")
    for card in cards:
        href = card.xpath(".//a[has-class('item-name')]/@href").get()
        item_id = url_query_parameter(response.urljoin(href.strip()), "id") if href else None
        if not item_id or not item_id.isdigit():
            continue
        image = card.xpath(".//img/@*[name()='data-ks-lazyload' or name()='src']").get()
        result.items.append(listing_item(
            platform,
            listing_id=item_id,
            title=text_of(card.xpath(".//a[has-class('item-name')]")),
            price=machine_number(text_of(card.xpath(".//*[has-class('c-price')]"))),
            currency="CNY",
            images=[i for i in [full_image(image, response)] if i],
            sales=count(text_of(card.xpath(".//*[has-class('sale-num')]")), "zh_CN"),
            url=response.urljoin(href.strip()),
        ))
    if not result.items and "item-name" not in text:
        raise ParseError("no item cards and no g_page_config: not a Taobao search/shop page")
    dsr = _dsr(response)
    if dsr:
        result.info["dsr"] = dsr
    result.settle(html_problem(text))
    return result


def parse_shop_dsr(response: TextResponse) -> dict[str, float]:
    """Shop DSR scores (description, service, logistics) from a shop page header."""
    return _dsr(response)


def _dsr(response: TextResponse) -> dict[str, float]:
    nums = [machine_number(clean_text(n)) for n in response.xpath("//*[has-class('dsr-num')]").xpath("string()").getall()]
    return {k: v for k, v in zip(("description", "service", "logistics"), nums, strict=False) if v is not None}
