"""JD formats: the comment API (``fetchJSON_comment98({...})`` JSONP, or a JSON list of the same
comment objects), item pages (``pageConfig.product``, GBK) and category/shop listing cards."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse, urlsplit

from spiders.parsing.common import (
    Follow,
    PageResult,
    ParseError,
    abs_url,
    clamp_rating,
    clean_text,
    cn_datetime,
    decode,
    hostname,
    js_field,
    listing_item,
    query_first,
    quote_value,
    review_item,
    search_after_boundary,
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
    xp,
)

PLATFORM = "jd"
IMAGE_HOST = "https://img10.360buyimg.com/n1/"


def api_base(page_url: str) -> str:
    parsed = urlsplit(page_url)  # the same scheme and netloc as urlparse, and cached by urllib
    if (hostname(parsed) or "").endswith("jd.com"):
        return "https://club.jd.com"
    return f"{parsed.scheme}://{parsed.netloc}"


def comments_url(page_url: str, sku: str, page: int = 0) -> str:
    # sortType=6 is "newest first": incremental crawls rely on it to stop early.
    # what urlencode() makes of {"callback": "fetchJSON_comment98", "productId": sku, "score": 0,
    # "sortType": 6, "page": page, "pageSize": 10}, without its per-pair type checks
    query = (f"callback=fetchJSON_comment98&productId={quote_value(sku)}&score=0&sortType=6"
             f"&page={quote_value(page)}&pageSize=10")
    return f"{api_base(page_url)}/comment/productPageComments.action?{query}"


def _sku_line(c: dict[str, Any]) -> str | None:
    parts = [clean_text(c.get(k)) for k in ("productColor", "productSize")]
    return " ".join(p for p in parts if p) or None


def comment_to_review(c: dict[str, Any], base: str, listing_id: str | None = None) -> dict[str, Any]:
    after = c.get("afterUserComment") or {}
    after_text = None
    if isinstance(after, dict) and after:
        h = after.get("hAfterUserComment") or {}
        after_text = clean_text(h.get("content") or after.get("content")) or None
    replies = [r for r in c.get("replies") or [] if isinstance(r, dict) and r.get("content")]
    reply_text = "\n".join(clean_text(r["content"]) for r in replies) or None
    return review_item(
        PLATFORM,
        review_id=str(c.get("id") or ""),
        listing_id=str(c.get("referenceId") or listing_id or "") or None,
        reviewer_nick=c.get("nickname"),
        rating=clamp_rating(c.get("score")),
        text=clean_text(c.get("content")),
        created_at=cn_datetime(c.get("creationTime")),
        sku=_sku_line(c),
        photos=[abs_url(i.get("imgUrl"), base) for i in c.get("images") or [] if i.get("imgUrl")],
        helpful_votes=to_int(c.get("usefulVoteCount")),
        follow_up_text=after_text,
        follow_up_at=cn_datetime(after.get("created")) if isinstance(after, dict) else None,
        seller_reply=reply_text,
        seller_reply_at=cn_datetime(replies[0].get("creationTime")) if replies else None,
        raw={k: c.get(k) for k in ("guid", "location", "userClient", "plusAvailable", "anonymousFlag",
                                   "referenceName", "referenceTime", "days", "afterDays", "isDelete",
                                   "vcontent") if k in c},
    )


def parse_comments(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    data = unwrap_jsonp(doc.text)
    result = PageResult.decoded("reviews", doc)
    parsed = urlparse(url)
    query = query_first(parsed.query)
    page = to_int(query.get("page", "0")) or 0
    sku = query.get("productId")
    if isinstance(data, list):  # a dump of comment objects without the envelope
        comments, max_page, declared = data, None, None
    elif isinstance(data, dict) and "comments" in data:
        comments, max_page = data.get("comments") or [], to_int(data.get("maxPage"))
        summary = data.get("productCommentSummary") or {}
        result.info["summary"] = {k: summary.get(k) for k in ("averageScore", "goodRate", "commentCountStr",
                                                             "poorCountStr", "afterCountStr") if k in summary}
        result.info["average_score"] = to_float(summary.get("averageScore"))
        declared = to_int(summary.get("commentCount"))
    else:
        raise ParseError("JSON has no 'comments': not a JD comment response")
    for c in comments:
        if not isinstance(c, dict) or not c.get("id"):
            result.count("invalid_rows")
            continue
        result.items.append(comment_to_review(c, url, sku))
    result.info.update(page=page, max_page=max_page, listing_id=sku)
    # pages count from 0; maxPage is how many there are
    result.settle(count_problem(len(comments), page=page, first_page=0, page_size=to_int(query.get("pageSize")) or 10,
                                total=declared, last_page=max_page - 1 if max_page else None))
    if max_page is not None and page + 1 < max_page and comments and sku:
        q = dict(query)
        q["page"] = str(page + 1)
        result.follow.append(Follow(with_query(url, parsed, urlencode_str(q)), "reviews",
                                    {"listing_id": sku, "page": page + 1}))
    return result


def parse_item_page(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    doc = decode(body, content_type)
    text = doc.text
    pos = text.find("pageConfig")
    if pos < 0:
        raise ParseError("no pageConfig: not a JD item page (or truncated)")
    cfg = text[pos : pos + 20000]
    sku = js_field(cfg, "skuid")
    if not sku:
        raise ParseError("pageConfig has no product skuid")
    result = PageResult.decoded("item", doc)
    paths: list[str] = []
    m = re.search(r"imageList\s*:\s*(\[[^\]]*\])", cfg)
    if m:
        paths = re.findall(r'"([^"]+)"', m.group(1))
    if not paths and js_field(cfg, "src"):
        paths = [js_field(cfg, "src")]
    # JD gives paths relative to its image CDN; absolute paths/URLs are taken as they are
    images = [abs_url(p, url) if p.startswith(("/", "http")) else IMAGE_HOST + p for p in paths]
    tree = html_tree(text)
    price = to_float(_price_text(tree))
    shop_id = js_field(cfg, "shopId")
    listing = listing_item(
        PLATFORM,
        listing_id=sku,
        shop_id=shop_id,
        title=js_field(cfg, "name") or first_text(tree, f"//div[{has_class('sku-name')}]"),
        price=price,
        currency="CNY" if price is not None else None,
        images=images,
        attributes={k: v for k, v in {"vender_id": js_field(cfg, "venderId"), "cat": _cat(cfg)}.items() if v},
        url=url,
        raw={"commentVersion": js_field(cfg, "commentVersion")},
    )
    result.items.append(listing)
    # a class token in the tree is spelt out in the page text, or written with character
    # references (no HTML4 named entity stands for a letter or "-"): without either the
    # legacy review XPath cannot match, and its search of every div is skipped
    if "comment-content" in text or "&#" in text:
        result.items.extend(_legacy_reviews(tree, url, sku))
    result.info.update(listing_id=sku, shop_id=shop_id)
    result.follow.append(Follow(comments_url(url, sku), "reviews", {"listing_id": sku, "page": 0}))
    result.settle(html_problem(text, "comment-content"))
    return result


def _price_text(tree) -> str | None:  # noqa: ANN001
    """``first_text(tree, "//span[p-price]/span[last()]")``: the last span child of the (nearly
    always single) p-price span, found in a tag-filtered walk instead of a predicate on every span."""
    boxes = [sp for sp in tree.getroottree().getroot().iter("span") if carries_class(sp, "p-price")]
    if len(boxes) > 1:  # nested or repeated boxes: XPath sorts the candidates into document order
        return first_text(tree, f"//span[{has_class('p-price')}]/span[last()]")
    if not boxes:
        return None
    last = None
    for last in boxes[0].iterchildren("span"):  # noqa: B007
        pass
    return text_or_none(last)


_CAT = re.compile(r"cat\s*:\s*\[([\d,\s]+)\]")  # searched with a word boundary before it


def _cat(cfg: str) -> str | None:
    m = search_after_boundary(_CAT, cfg)
    return m.group(1).replace(" ", "") if m else None


def _legacy_reviews(tree, url: str, sku: str) -> list[dict[str, Any]]:  # noqa: ANN001
    """The 2014 layout rendered reviews inline (``comment-con`` blocks)."""
    out = []
    # "item divs above a comment-content div": the same divs as //div[item][.//div[comment-content]],
    # without a descendant search under every item div of a page that has no comments at all
    for item in xp(tree, f"//div[{has_class('comment-content')}]/ancestor::div[{has_class('item')}]"):
        link = first_attr(item, f".//*[{has_class('o-topic')}]//a/@href") or ""
        m = re.search(r"_([0-9a-f\-]{36})_", link)
        if not m:
            continue
        star = first_attr(item, f".//span[{has_class('star')}]/@class") or ""
        parts = {clean_text(dt.text_content()).rstrip("：:"): clean_text(dt.getnext().text_content())
                 for dt in xp(item, f".//div[{has_class('comment-content')}]//dt") if dt.getnext() is not None}
        text = parts.pop("使用心得", "") or clean_text(xp(item, f".//div[{has_class('comment-content')}]")[0].text_content()).removeprefix("使用心得：")
        out.append(review_item(
            PLATFORM, review_id=m.group(1), listing_id=sku,
            reviewer_nick=first_text(item, f".//div[{has_class('u-name')}]"),
            title=first_text(item, f".//*[{has_class('o-topic')}]//a"),
            rating=clamp_rating((re.search(r"sa(\d)", star) or [None, None])[1]),
            text=text, created_at=cn_datetime(first_text(item, f".//span[{has_class('date-comment')}]")),
            raw={"pros_cons": parts, "bought": first_text(item, f".//div[{has_class('date-buy')}]")},
        ))
    return out


# A listing card is read in one walk that finds its boxes; each field is then looked up inside
# its box. With two boxes of a kind (nested or repeated) the card's XPath keeps document order.
_LIST_BOXES = {"p-name": "div", "p-img": "div", "p-commit": "div", "evaluate": "span", "p-shop": "div",
               "p-price": "div"}
_IMG_ATTRS = ("src", "data-lazy-img", "data-lazyload")


def _name_box(card, boxes: list[Any]) -> tuple[str | None, str | None]:  # noqa: ANN001
    """Title (``.//div[p-name]//em | .//div[p-name]/a``) and link (``.//div[p-name]//a/@href``)."""
    if not boxes:
        return None, None
    if len(boxes) > 1:
        return (first_text(card, f".//div[{has_class('p-name')}]//em | .//div[{has_class('p-name')}]/a"),
                first_attr(card, f".//div[{has_class('p-name')}]//a/@href"))
    box = boxes[0]
    title = href = None
    for el in box.iterdescendants("em", "a"):
        if title is None and (el.tag == "em" or el.getparent() is box):
            title = text_or_none(el) or ""  # "" marks "found": first_text's None comes from the text
        if href is None and el.tag == "a" and el.get("href") is not None:
            href = el.get("href").strip()
        if title is not None and href is not None:
            break
    return title or None, href


def _img_box(card, boxes: list[Any]) -> str | None:  # noqa: ANN001
    """``.//div[p-img]//img/@src | …/@data-lazy-img | …/@data-lazyload``: the first such attribute."""
    if not boxes:
        return None
    if len(boxes) > 1:
        return first_attr(card, " | ".join(f".//div[{has_class('p-img')}]//img/@{a}" for a in _IMG_ATTRS))
    for img in boxes[0].iterdescendants("img"):
        for name, value in img.items():  # attributes in document order, as the union returns them
            if name in _IMG_ATTRS:
                return value.strip()
    return None


def _count_box(card, commits: list[Any], evaluates: list[Any]) -> str | None:  # noqa: ANN001
    """``.//div[p-commit]//a | .//span[evaluate]/a``."""
    if not commits and not evaluates:
        return None
    if len(commits) + len(evaluates) > 1:
        return first_text(card, f".//div[{has_class('p-commit')}]//a | .//span[{has_class('evaluate')}]/a")
    if commits:
        return text_or_none(next(commits[0].iterdescendants("a"), None))
    return text_or_none(next(evaluates[0].iterchildren("a"), None))


def _price_box(card, boxes: list[Any]) -> str | None:  # noqa: ANN001
    """``.//div[p-price]//i``."""
    if not boxes:
        return None
    if len(boxes) > 1:
        return first_text(card, f".//div[{has_class('p-price')}]//i")
    return text_or_none(next(boxes[0].iterdescendants("i"), None))


def parse_list(body: bytes, url: str, content_type: str | None = None) -> PageResult:
    """Category or shop listing cards (``gl-item`` with ``data-sku``; 2014 ``li[sku]``)."""
    doc = decode(body, content_type)
    tree = html_tree(doc.text)
    result = PageResult.decoded("shop", doc)
    # from the attribute axis: libxml2 walks the attributes instead of running a predicate on
    # every element, and the class test runs on a handful of elements (the same nodes)
    cards = xp(tree, f"//@data-sku/parent::*[{has_class('gl-i-wrap')}] | //@sku/parent::li")
    # an empty shop still has the list container; anything else is not a listing page
    if not cards and not any(m in doc.text for m in ("gl-item", "gl-warp", "J_goodsList")):
        raise ParseError("no product cards: not a JD listing page")
    for card in cards:
        sku = card.get("data-sku") or card.get("sku")
        boxes = walk_classes(card, _LIST_BOXES)
        title, href = _name_box(card, boxes["p-name"])
        shop = boxes["p-shop"]
        result.items.append(
            listing_item(
                PLATFORM,
                listing_id=sku,
                shop_id=card.get("jdzy_shop_id") or (shop[0].get("data-shopid") if shop else None) or None,
                title=title,
                price=to_float(_price_box(card, boxes["p-price"])),
                currency="CNY",
                images=[i for i in [abs_url(_img_box(card, boxes["p-img"]), url)] if i],
                review_count=to_int(_count_box(card, boxes["p-commit"], boxes["evaluate"])),
                attributes={k: v for k, v in {"vender_id": card.get("venderid"),
                                              "shop_name": shop[0].get("data-shop_name") if shop else None}.items() if v},
                url=abs_url(href, url),
            )
        )
    nxt = first_attr(tree, f"//a[{has_class('pn-next')}]/@href")
    if nxt and not nxt.startswith("javascript"):
        result.follow.append(Follow(abs_url(nxt, url), "shop"))
    result.settle(html_problem(doc.text))
    return result
