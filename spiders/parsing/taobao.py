"""Taobao formats: item pages (g_config, SKU map, rendered reviews), the mtop review API,
search/shop pages with item cards (g_page_config JSON or rendered cards) and shop DSR scores."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import ParseResult, urlparse, urlsplit

from spiders.parsing.common import (
    Follow,
    PageResult,
    ParseError,
    abs_url,
    clean_text,
    cn_datetime,
    decode,
    hostname,
    js_field,
    json_after,
    listing_item,
    query_first,
    quote_value,
    review_item,
    to_float,
    to_int,
    unwrap_jsonp,
    urlencode_str,
    with_query,
)
from spiders.parsing.completeness import count_problem, html_problem
from spiders.parsing.html import (
    carries_class,
    first_attr,
    first_text,
    has_class,
    html_tree,
    text_or_none,
    walk_classes,
    within,
    xp,
)

PLATFORM = "taobao"
RATES_API = "mtop.wdetail.getitemrates"
# rateType on the review APIs: 1 good, 0 neutral, -1 bad. Taobao shows no stars, so the three
# grades map onto the ends and middle of the 1-5 scale; the original value stays in raw.
RATE_TYPE_STARS = {"1": 5, "0": 3, "-1": 1}
_THUMB_SUFFIX = re.compile(r"_\d+x\d+(?:q\d+)?\.(?:jpg|png|webp)(?:_\.webp)?$")


def api_base(page_url: str) -> str:
    """Where the review API lives for a page: the real mtop host, or the page's own origin."""
    parsed = urlsplit(page_url)  # the same scheme and netloc as urlparse, and cached by urllib
    host = hostname(parsed) or ""
    if host.endswith(("taobao.com", "tmall.com")):
        return "https://h5api.m.taobao.com"
    return f"{parsed.scheme}://{parsed.netloc}"


def rates_url(page_url: str, item_id: str, page: int = 1) -> str:
    # what urlencode() makes of {"auctionNumId": item_id, "pageNo": page, "orderType": "feedbackdate"}
    query = f"auctionNumId={quote_value(item_id)}&pageNo={quote_value(page)}&orderType=feedbackdate"
    return f"{api_base(page_url)}/h5/{RATES_API}/3.0/?{query}"


def full_image(url: str | None, base: str) -> str | None:
    """Thumbnail URLs carry a ``_40x40.jpg`` suffix; the original is the URL without it."""
    u = abs_url(url, base)
    return _THUMB_SUFFIX.sub("", u) if u else None


# Item page ---------------------------------------------------------------------------------
def parse_item_page(body: bytes, url: str, content_type: str | None = None, platform: str = PLATFORM) -> PageResult:
    doc = decode(body, content_type)
    text = doc.text
    result = PageResult.decoded("item", doc)
    item_id = js_field(text, "itemId")
    if not item_id:
        raise ParseError("no itemId in g_config: not a Taobao item page (or truncated)")
    tree = html_tree(text)
    titles, thumbs, prices, cards = _item_parts(tree)
    title = next((t.get("data-title").strip() for t in titles if t.get("data-title") is not None), None)
    if not title:
        title = text_or_none(titles[0]) if titles else None
    if not title:
        title = first_text(tree, "//title")
        if title:
            title = re.sub(r"-淘宝网$|-tmall.com天猫$", "", title).strip()
    images = [
        full_image(value, url)
        for img in thumbs
        for name, value in img.items()  # document order of the attributes, as an @data-src | @src union
        if name in ("data-src", "src")
    ]
    images = list(dict.fromkeys(i for i in images if i))
    price = to_float(text_or_none(prices[0]) if prices else None)
    skus = _sku_map(text)
    shop_id = js_field(text, "shopId")
    listing = listing_item(
        platform,
        listing_id=item_id,
        shop_id=shop_id,
        title=title,
        price=price,
        currency="CNY" if price is not None else None,
        images=images,
        attributes={"seller_id": js_field(text, "sellerId"), "seller_nick": js_field(text, "sellerNick")},
        url=url,
        skus=skus,
        raw={"shopName": js_field(text, "shopName"), "rateCounterApi": js_field(text, "rateCounterApi")},
    )
    listing["attributes"] = {k: v for k, v in listing["attributes"].items() if v}
    if listing["price"] is None and skus:
        prices = [p for p in (to_float(s.get("price")) for s in skus) if p is not None]
        if prices:
            listing["price"], listing["currency"] = min(prices), "CNY"
    result.items.append(listing)
    result.items.extend(rendered_reviews(tree, url, item_id, platform, cards))
    result.info.update(listing_id=item_id, shop_id=shop_id)
    result.follow.append(Follow(rates_url(url, item_id), "reviews", {"listing_id": item_id, "page": 1}))
    result.settle(html_problem(text, "J_KgRate_ReviewItem"))
    return result


def _item_parts(tree) -> tuple[list[Any], list[Any], list[Any], list[Any]]:  # noqa: ANN001
    """``//h3[tb-main-title]``, ``//ul[@id='J_UlThumb']//img``, ``//*[@id='J_StrPrice']//em[tb-rmb-num]``
    and ``//li[J_KgRate_ReviewItem]``, each in document order, from one tag-filtered walk: four
    XPath searches with class predicates cost four times as much on a small page."""
    titles: list[Any] = []
    thumbs: list[Any] = []
    prices: list[Any] = []
    cards: list[Any] = []
    seen_thumbs: set[Any] = set()
    for el in tree.iter("h3", "ul", "em", "li"):
        tag = el.tag
        if tag == "li":
            if carries_class(el, "J_KgRate_ReviewItem"):
                cards.append(el)
        elif tag == "ul":
            if el.get("id") == "J_UlThumb":  # a nested thumb list adds no img its parent lacks
                for img in el.iterdescendants("img"):
                    if img not in seen_thumbs:
                        seen_thumbs.add(img)
                        thumbs.append(img)
        elif tag == "em":
            if carries_class(el, "tb-rmb-num") and any(a.get("id") == "J_StrPrice" for a in el.iterancestors()):
                prices.append(el)
        elif carries_class(el, "tb-main-title"):
            titles.append(el)
    return titles, thumbs, prices, cards


def _sku_map(text: str) -> list[dict[str, Any]]:
    pos = text.find("skuMap")
    if pos < 0:
        return []
    try:
        sku_map = json_after(text, "skuMap", pos)
    except ParseError:
        return []
    memo: dict[str, str] = {}
    mpos = text.find("propertyMemoMap", pos)
    if mpos >= 0:
        try:
            memo = json_after(text, "propertyMemoMap", mpos)
        except ParseError:
            memo = {}
    out = []
    for pvs, data in sku_map.items():
        names = [memo[p] for p in pvs.strip(";").split(";") if p in memo]
        out.append({"sku_id": data.get("skuId"), "pvs": pvs.strip(";"), "names": " ".join(names) or None,
                    "price": data.get("price"), "stock": data.get("stock")})
    return out


_CARD = {"tb-rev-item": "div", "from-whom": "div", "tb-r-info": "div", "tb-r-date": "span",
         "J_KgRate_UsefulNum": None, "tb-rev-item-media": "div", "J_KgRate_ReviewContent": "div"}


def rendered_reviews(tree, url: str, item_id: str, platform: str = PLATFORM,  # noqa: ANN001
                     cards: list[Any] | None = None) -> list[dict[str, Any]]:
    """The review tab as a browser renders it (``tb-rev-item`` cards), each card read in one walk."""
    out = []
    if cards is None:
        cards = xp(tree, f"//li[{has_class('J_KgRate_ReviewItem')}]")
    for li in cards:
        parts = walk_classes(li, _CARD)
        if not parts["tb-rev-item"]:
            continue
        rev = parts["tb-rev-item"][0]
        review_id = rev.get("data-id") or (li.get("id") or "").removeprefix("review-")
        nick = text_or_none(_nick_div(li, parts["from-whom"]))
        dates = parts["tb-r-date"]
        date = text_or_none(dates[0]) if dates else None
        sku = None
        if parts["tb-r-info"]:
            info = parts["tb-r-info"][0]
            date_el = next((d for d in dates if within(d, info)), None)
            sku = clean_text(date_el.tail if date_el is not None else None) or None
        useful = parts["J_KgRate_UsefulNum"]
        helpful = to_int(text_or_none(useful[0]) if useful else None)
        content = next((c for c in parts["J_KgRate_ReviewContent"] if within(c, rev)), None)
        photos = [full_image(s, url) for s in _media_srcs(rev, parts["tb-rev-item-media"])]
        anonymous = bool(nick and "匿名" in nick)
        out.append(
            review_item(
                platform,
                review_id=review_id,
                listing_id=item_id,
                reviewer_nick=nick.replace("（匿名）", "").strip() if nick else None,
                text=text_or_none(content) or "",
                created_at=cn_datetime(date),
                sku=sku,
                photos=[p for p in photos if p],
                helpful_votes=helpful,
                raw={"anonymous": anonymous, "date": date},
            )
        )
    return out


def _nick_div(li, from_whom: list[Any]):  # noqa: ANN001, ANN202
    """``.//div[from-whom]/div``: the first div child of the (nearly always single) from-whom div."""
    if len(from_whom) > 1:  # nested or repeated blocks: let XPath sort out document order
        found = xp(li, f".//div[{has_class('from-whom')}]/div")
        return found[0] if found else None
    return next((c for f in from_whom for c in f.iterchildren("div")), None)


def _media_srcs(rev, media: list[Any]) -> list[str]:  # noqa: ANN001
    """``.//div[tb-rev-item-media]//img/@src`` under ``rev``: each img once, in document order."""
    seen: set[Any] = set()
    srcs = []
    for box in media:
        if not within(box, rev):
            continue
        for img in box.iterdescendants("img"):
            src = img.get("src")
            if src is not None and img not in seen:
                seen.add(img)
                srcs.append(src)
    return srcs


# Review API ---------------------------------------------------------------------------------
def _load_rates(text: str) -> dict[str, Any]:
    stripped = text.strip()
    # Front-end test data wraps the response as a JS module; JSONP callbacks wrap it too.
    stripped = re.sub(r"^export\s+(?:const|let|var)\s+\w+\s*=\s*", "", stripped).rstrip().rstrip(";")
    data = unwrap_jsonp(stripped)
    if not isinstance(data, dict) or "data" not in data:
        raise ParseError("not an mtop response (no 'data')")
    ret = data.get("ret") or []
    if ret and not any(str(r).startswith("SUCCESS") for r in ret):
        raise ParseError(f"mtop call failed: {ret[0]}")
    return data


def parse_rates(body: bytes, url: str, content_type: str | None = None, platform: str = PLATFORM) -> PageResult:
    """``mtop.wdetail.getitemrates`` JSON: ``data.rateList`` newest first, ``totalPage`` paging."""
    doc = decode(body, content_type)
    data = _load_rates(doc.text)["data"]
    result = PageResult.decoded("reviews", doc)
    parsed = urlparse(url)
    query = query_first(parsed.query)
    page = to_int(query.get("pageNo", "1")) or 1
    listing_id = query.get("auctionNumId")
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
        out = review_item(
            platform,
            review_id=str(rate.get("id") or ""),
            listing_id=str(rate.get("auctionNumId") or listing_id or "") or None,
            reviewer_nick=rate.get("userNick"),
            rating=RATE_TYPE_STARS.get(str(rate.get("rateType"))),
            text=clean_text(rate.get("feedback")),
            created_at=cn_datetime(rate.get("feedbackDate")),
            sku=sku or None,
            photos=[abs_url(p, url) for p in photos if p],
            helpful_votes=to_int(rate.get("usefulCount")),
            follow_up_text=clean_text(append.get("appendedFeedback") or append.get("feedback")) or None,
            follow_up_at=cn_datetime(append.get("appendedFeedbackDate") or append.get("feedbackDate")),
            seller_reply=clean_text(reply.get("content") if isinstance(reply, dict) else reply) or None,
            raw={"userId": rate.get("userId"), "userMark": rate.get("userMark"), "userStar": rate.get("userStar"),
                 "rateType": rate.get("rateType"), "annoy": rate.get("annoy"), "goldUser": rate.get("goldUser")},
        )
        result.items.append(out)
    total_pages = to_int(data.get("totalPage")) or page
    # no page size in the response: 10 a page is what the real capture shows on page 1 of 500
    result.settle(count_problem(len(rates), page=page, first_page=1, page_size=to_int(query.get("pageSize")) or 10,
                                total=to_int(data.get("total")), last_page=total_pages))
    result.info.update(page=page, total_pages=total_pages, listing_id=listing_id,
                       total=to_int(data.get("total")), all_count=to_int(data.get("feedAllCount")))
    if page < total_pages and listing_id:
        result.follow.append(
            Follow(_with_page(url, parsed, query, page + 1), "reviews", {"listing_id": listing_id, "page": page + 1})
        )
    return result


def _with_page(url: str, parsed: ParseResult, query: dict[str, str], page: int) -> str:
    """The page URL with ``pageNo`` replaced (``query``: query_first of ``parsed.query``), as
    ``parsed._replace(query=urlencode(query | {"pageNo": page})).geturl()`` spells it."""
    single = dict(query)
    single["pageNo"] = str(page)
    return with_query(url, parsed, urlencode_str(single))


# Search / shop pages ---------------------------------------------------------------------------
def parse_search(body: bytes, url: str, content_type: str | None = None, platform: str = PLATFORM) -> PageResult:
    """``g_page_config`` search results (also the shop's own item search) or rendered item cards."""
    doc = decode(body, content_type)
    text = doc.text
    result = PageResult.decoded("shop", doc)
    if "g_page_config" in text:
        config = json_after(text, "g_page_config")
        itemlist = ((config.get("mods") or {}).get("itemlist") or {}).get("data") or {}
        for a in itemlist.get("auctions") or []:
            nid = str(a.get("nid") or "")
            if not nid:
                result.count("invalid_rows")
                continue
            listing = listing_item(
                platform,
                listing_id=nid,
                shop_id=str(a.get("user_id") or "") or None,
                title=clean_text(a.get("raw_title") or re.sub(r"<[^>]+>", "", a.get("title") or "")),
                price=to_float(a.get("view_price")),
                currency="CNY",
                images=[abs_url(a.get("pic_url"), url)] if a.get("pic_url") else [],
                attributes={k: a[k] for k in ("nick", "item_loc") if a.get(k)},
                review_count=to_int(a.get("comment_count")),
                sales=to_int(a.get("view_sales")),
                url=abs_url(a.get("detail_url"), url),
                raw={k: a.get(k) for k in ("nid", "user_id", "comment_url", "shopLink")},
            )
            result.items.append(listing)
        pager = ((config.get("mods") or {}).get("pager") or {}).get("data") or {}
        result.info.update(total_pages=to_int(pager.get("totalPage")), page=to_int(pager.get("currentPage")))
        next_url = ((config.get("mods") or {}).get("pager") or {}).get("next_url")
        if next_url:
            result.follow.append(Follow(abs_url(next_url, url), "shop"))
        # a search page lists fewer cards than its pageSize (36 of 44 in the real capture): only
        # the structure decides
        result.settle(html_problem(text))
        return result
    tree = html_tree(text)
    cards = xp(tree, f"//dl[{has_class('item')}] | //div[{has_class('item')}][.//a[{has_class('item-name')}]]")
    for card in cards:
        href = first_attr(card, f".//a[{has_class('item-name')}]/@href")
        m = re.search(r"[?&]id=(\d+)", href or "")
        if not m:
            continue
        result.items.append(
            listing_item(
                platform,
                listing_id=m.group(1),
                title=first_text(card, f".//a[{has_class('item-name')}]"),
                price=to_float(first_text(card, f".//*[{has_class('c-price')}]")),
                currency="CNY",
                images=[i for i in [full_image(first_attr(card, ".//img/@data-ks-lazyload | .//img/@src"), url)] if i],
                sales=to_int(first_text(card, f".//*[{has_class('sale-num')}]")),
                url=abs_url(href, url),
            )
        )
    if not result.items and "item-name" not in text:
        raise ParseError("no item cards and no g_page_config: not a Taobao search/shop page")
    dsr = _dsr(tree)
    if dsr:
        result.info["dsr"] = dsr
    result.settle(html_problem(text))
    return result


def parse_shop_dsr(body: bytes, url: str, content_type: str | None = None) -> dict[str, Any]:
    """Shop DSR scores (description, service, logistics) from a shop page header."""
    return _dsr(html_tree(decode(body, content_type).text))


def _dsr(tree) -> dict[str, float]:  # noqa: ANN001
    nums = [to_float(n.text_content()) for n in xp(tree, f"//*[{has_class('dsr-num')}]")]
    keys = ("description", "service", "logistics")
    return {k: v for k, v in zip(keys, nums, strict=False) if v is not None}
