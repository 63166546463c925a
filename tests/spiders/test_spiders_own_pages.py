"""Parsers on the project's own pages (fixtures/pages): every format, exact fields, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spiders.parsing import amazon, jd, schemaorg, shopify, taobao, tmall
from spiders.parsing.common import ParseError
from spiders.parsing.detect import parse_page
from spiders.parsing.responses import response_for

TB_URL = "https://item.taobao.com/item.htm?id=610000000042"


def page(fixtures_dir: Path, rel: str) -> bytes:
    return (fixtures_dir / "pages" / rel).read_bytes()


def test_taobao_gbk_item_page_with_rendered_reviews(fixtures_dir: Path) -> None:
    body = page(fixtures_dir, "taobao/item_610000000042_rendered-reviews_gbk.html")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # really GBK bytes
    r = taobao.parse_item_page(response_for(body, TB_URL))
    listing = r.listings[0]
    assert listing["title"] == "加厚珊瑚绒睡衣 女冬季套装"
    assert (listing["listing_id"], listing["shop_id"], listing["price"], listing["currency"]) == (
        "610000000042", "70000042", 79.0, "CNY")
    assert listing["images"] == [
        "https://gd1.alicdn.com/imgextra/i1/3300000042/O1CN01pajama_!!3300000042.jpg",
        "https://gd2.alicdn.com/imgextra/i2/3300000042/O1CN01pajama2_!!3300000042.jpg",
    ]
    assert [(s["names"], s["price"]) for s in listing["skus"]] == [("藏青色", "79.00"), ("酒红色", "85.00")]
    assert listing["attributes"] == {"seller_id": "3300000042", "seller_nick": "暖暖家居"}
    reviews = r.reviews
    assert [x["review_id"] for x in reviews] == ["420000000003", "420000000002", "420000000001"]
    first = reviews[0]
    assert first["reviewer_nick"] == "陈***7"
    assert first["text"] == "颜色比图片深很多，藏青色收到像黑色，有色差。"
    assert first["created_at"] == "2026-11-02T21:47:00+08:00"
    assert first["sku"] == "颜色分类：藏青色 尺码：L"
    assert first["helpful_votes"] == 4
    assert first["photos"] == ["https://img.alicdn.com/imgextra/i3/0/O1CN01buyer1_!!0-rate.jpg",
                               "https://img.alicdn.com/imgextra/i4/0/O1CN01buyer2_!!0-rate.jpg"]
    assert reviews[1]["reviewer_nick"] == "s***a" and reviews[1]["raw"]["anonymous"] is True
    assert reviews[2]["sku"] is None
    assert r.follow[0].url == ("https://h5api.m.taobao.com/h5/mtop.wdetail.getitemrates/3.0/"
                               "?auctionNumId=610000000042&pageNo=1&orderType=feedbackdate")


def test_meta_charset_lie_decodes_like_the_real_encoding(fixtures_dir: Path) -> None:
    gbk = taobao.parse_item_page(response_for(page(fixtures_dir, "taobao/item_610000000042_rendered-reviews_gbk.html"), TB_URL))
    lie = taobao.parse_item_page(response_for(page(fixtures_dir, "taobao/item_610000000042_meta-gbk-utf8-bytes.html"), TB_URL))
    assert [i for i in lie.items] == [i for i in gbk.items]
    assert lie.stats["decode_errors"] == 0


def test_mojibake_is_counted_not_hidden(fixtures_dir: Path) -> None:
    r = taobao.parse_item_page(response_for(page(fixtures_dir, "taobao/item_610000000042_mojibake.html"), TB_URL))
    assert r.stats["decode_errors"] == 185
    assert len(r.reviews) == 3  # nothing lost...
    assert all(x["decode_errors"] > 0 for x in r.reviews)  # ...and every damaged text is marked
    assert r.listings[0]["decode_errors"] > 0


def test_taobao_mtop_rates_own(fixtures_dir: Path) -> None:
    url = "https://h5api.m.taobao.com/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=610000000042&pageNo=1"
    r = taobao.parse_rates(response_for(page(fixtures_dir, "taobao/getitemrates_610000000042_page1.json"), url))
    bad, good = r.reviews
    assert (bad["review_id"], bad["rating"], good["rating"]) == ("1200000000002", 1, 5)
    assert bad["sku"] == "颜色分类：藏青色 尺码：L"
    assert bad["seller_reply"] == "亲，起球可以用剃毛器处理哦。"
    assert bad["follow_up_text"] == "洗了第二次更严重了。"
    assert bad["follow_up_at"] == "2026-11-12T00:00:00+08:00"
    assert bad["photos"] == ["https://img.alicdn.com/imgextra/i1/0/O1CN01pill_!!0-rate.jpg"]
    assert good["seller_reply"] is None and good["sku"] is None
    assert r.info["total_pages"] == 3 and r.follow[0].url.endswith("pageNo=2")


def test_mtop_failure_is_a_clear_error(fixtures_dir: Path) -> None:
    with pytest.raises(ParseError, match="mtop call failed: FAIL_SYS_USER_VALIDATE"):
        taobao.parse_rates(response_for(page(fixtures_dir, "taobao/getitemrates_failed.json"), "https://h5api.m.taobao.com/h5/x"))


def test_jd_comments_own(fixtures_dir: Path) -> None:
    url = "https://club.jd.com/comment/productPageComments.action?productId=100099990001&page=0&pageSize=10"
    r = jd.parse_comments(response_for(page(fixtures_dir, "jd/comments_100099990001_page0.jsonp"), url))
    first = r.reviews[0]
    assert first["sku"] == "1.5L【家庭款】 银色 标准版"
    assert first["follow_up_text"] == "换货后新的没问题了。"
    assert first["seller_reply"] == "亲，非常抱歉，已为您安排换货。"
    assert first["photos"] == ["https://img30.360buyimg.com/n0/s128x96_jfs/t1/990001/dent.jpg"]
    assert (first["rating"], first["helpful_votes"]) == (1, 6)
    assert first["raw"]["location"] == "江苏"
    assert r.info["max_page"] == 3 and r.info["average_score"] == 4.0
    assert r.follow[0].url.endswith("page=1&pageSize=10")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("jd/comments_empty.jsonp", "empty JSONP payload"),
        ("jd/comments_invalid.jsonp", "invalid JSON at line 1 column 38"),
        ("jd/comments_truncated.jsonp", "not closed"),
    ],
)
def test_jd_bad_responses_raise_clear_errors(fixtures_dir: Path, name: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        jd.parse_comments(response_for(page(fixtures_dir, name), "https://club.jd.com/comment/x?productId=1&page=0"))


def test_jd_bad_rows_are_counted(fixtures_dir: Path) -> None:
    r = jd.parse_comments(response_for(page(fixtures_dir, "jd/comments_bad_rows.jsonp"), "https://club.jd.com/c?productId=1&page=0"))
    assert len(r.reviews) == 1
    assert r.stats["invalid_rows"] == 2


def test_amazon_reviews_own(fixtures_dir: Path) -> None:
    r = amazon.parse_reviews_page(response_for(page(fixtures_dir, "amazon/product-reviews_B0TEST0042.html"),
                                  "https://www.amazon.com/product-reviews/B0TEST0042/?pageNumber=1"))
    us, uk = r.reviews
    assert (us["review_id"], us["rating"], us["title"], us["helpful_votes"]) == (
        "R2TESTAAA0001", 2, "Arrived with a chipped rim", 12)
    assert (us["sku"], us["verified_purchase"], us["created_at"]) == (
        "Color: Matte White", True, "2026-10-03T00:00:00+00:00")
    assert (uk["verified_purchase"], uk["helpful_votes"], uk["created_at"]) == (False, 1, "2026-09-08T00:00:00+00:00")
    assert uk["raw"]["country"] == "United Kingdom"
    assert r.follow[0].meta == {"listing_id": "B0TEST0042", "page": 2}


def test_schemaorg_jsonld_and_microdata(fixtures_dir: Path) -> None:
    ld = schemaorg.parse_product_page(response_for(page(fixtures_dir, "schemaorg/product_jsonld_reviews.html"),
                                      "https://shop.example.com/oak-table"))
    listing = ld.listings[0]
    assert (listing["listing_id"], listing["price"], listing["currency"], listing["rating_avg"]) == (
        "WC-OAK-17", 149.0, "EUR", 4.3)  # 8.6 of 10 → 4.3 of 5
    assert [x["rating"] for x in ld.reviews] == [5, 2]  # 10/10 and 4/10 on the 1-5 scale
    again = schemaorg.parse_product_page(response_for(page(fixtures_dir, "schemaorg/product_jsonld_reviews.html"),
                                         "https://shop.example.com/oak-table"))
    assert [x["review_id"] for x in again.reviews] == [x["review_id"] for x in ld.reviews]  # stable ids
    md = schemaorg.parse_product_page(response_for(page(fixtures_dir, "schemaorg/product_microdata.html"),
                                      "https://shop.example.com/linen"))
    assert md.listings[0]["images"] == ["https://shop.example.com/img/linen-throw.jpg"]
    assert [(x["reviewer_nick"], x["rating"]) for x in md.reviews] == [("Hannah", 5), ("Omar", 4)]


def test_shopify_paging(fixtures_dir: Path) -> None:
    r = shopify.parse_products(response_for(page(fixtures_dir, "shopify/products_page1.json"),
                               "https://farm.example/products.json?limit=30&page=1"))
    box = r.listings[0]
    assert box["images"] == ["https://cdn.shopify.com/s/files/1/0000/0001/products/vegbox.jpg?v=1"]
    assert box["price"] == 18.5 and box["attributes"]["description"] == "Seasonal vegetables for 1-2 people."
    assert [s["sku"] for s in box["skus"]] == ["VB-S-W", "VB-S-F"]
    assert r.follow[0].url == "https://farm.example/products.json?limit=30&page=2"
    last = shopify.parse_products(response_for(page(fixtures_dir, "shopify/products_page2_empty.json"),
                                  "https://farm.example/products.json?limit=30&page=2"))
    assert last.items == [] and last.follow == []


def test_shopify_next_page_url_keeps_spelling() -> None:
    assert shopify.next_page_url("https://f.example/products.json?page=1") == (
        "https://f.example/products.json?page=2&limit=30")
    assert shopify.next_page_url("https://f.example/products.json?q=a%2Bb&page=3&limit=5#x") == (
        "https://f.example/products.json?q=a%2Bb&page=4&limit=5#x")
    assert shopify.next_page_url("https://f.example/products.json") == (
        "https://f.example/products.json?page=2&limit=30")
    with pytest.raises(ValueError):
        shopify.next_page_url("https://f.example/products.json?page=abc")


def test_tmall_setup_page(fixtures_dir: Path) -> None:
    r = tmall.parse_item_page(response_for(page(fixtures_dir, "tmall/item_620000000077_meta-gbk-utf8-bytes.html"),
                              "https://detail.tmall.com/item.htm?id=620000000077"))
    listing = r.listings[0]
    assert (listing["title"], listing["price"], listing["shop_id"]) == ("智能手机 全网通 旗舰店正品", 3999.0, "128000077")
    assert [(s["names"], s["price"]) for s in listing["skus"]] == [("黑色 64GB", "3999.00"), ("白色 128GB", "4399.00")]
    assert listing["images"] == ["https://img.alicdn.com/imgextra/i1/2616000077/O1CN01phone_!!0-item_pic.jpg"]
    assert r.stats["charset_mismatch"] == 1


@pytest.mark.parametrize(
    ("name", "kind"),
    [("walls/taobao_punish_captcha.html", "captcha"), ("walls/amazon_robot_check.html", "captcha"),
     ("walls/jd_login.html", "login")],
)
def test_wall_pages_are_recognised(fixtures_dir: Path, name: str, kind: str) -> None:
    with pytest.raises(ParseError, match=f"this is a {kind} page"):
        parse_page(page(fixtures_dir, name))


def test_truncated_html_yields_what_it_has(fixtures_dir: Path) -> None:
    body = page(fixtures_dir, "taobao/item_610000000042_meta-gbk-utf8-bytes.html")
    cut = body[: body.index(b'data-id="420000000001"')]  # the connection dropped mid-review-list
    r = taobao.parse_item_page(response_for(cut, TB_URL))
    assert [x["review_id"] for x in r.reviews] == ["420000000003", "420000000002"]
    with pytest.raises(ParseError, match="no itemId"):
        taobao.parse_item_page(response_for(body[:60], TB_URL))


def test_wrong_charset_header_does_not_garble(fixtures_dir: Path) -> None:
    body = page(fixtures_dir, "taobao/item_610000000042_meta-gbk-utf8-bytes.html")
    r = taobao.parse_item_page(response_for(body, TB_URL, content_type="text/html; charset=iso-8859-1"))
    assert r.reviews[0]["text"] == "颜色比图片深很多，藏青色收到像黑色，有色差。"


def test_ten_megabyte_page(fixtures_dir: Path) -> None:
    body = page(fixtures_dir, "taobao/item_610000000042_meta-gbk-utf8-bytes.html")
    padding = b"<!-- " + b"x" * (10 * 1024 * 1024) + b" -->"
    big = body.replace(b"<body>", b"<body>" + padding)
    assert len(big) > 10 * 1024 * 1024
    r = taobao.parse_item_page(response_for(big, TB_URL))
    assert len(r.reviews) == 3 and r.listings[0]["listing_id"] == "610000000042"


def test_invalid_json_and_empty_bodies() -> None:
    with pytest.raises(ParseError, match="invalid JSON"):
        shopify.parse_products(response_for(b'{"products": [', "https://x.example/products.json"))
    with pytest.raises(ParseError, match="empty"):
        parse_page(b"", "https://item.jd.com/1.html")
    with pytest.raises(ParseError, match="not a Shopify"):
        shopify.parse_products(response_for(json.dumps({"items": []}).encode(), "https://x.example/products.json"))


def _ld_page(*blocks: str, body: str = "") -> bytes:
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    return f"<!DOCTYPE html><html><head><title>t</title>{scripts}</head><body>{body}</body></html>".encode()


@pytest.mark.parametrize(("body", "title", "nicks"), [
    # one Product: found while decoding
    (_ld_page('{"@type": "Product", "name": "A", "sku": "1"}'), "A", []),
    # two Products in two blocks, the second richer: document order and the review rule decide
    (_ld_page('{"@type": "Product", "name": "A", "sku": "1"}',
              '[{"@type": "https://schema.org/Product", "name": "B", "sku": "2", "review": '
              '{"author": "Zoe", "reviewBody": "ok", "reviewRating": {"ratingValue": 4}}}]'), "B", ["Zoe"]),
    # a Product nested in a Product: the outer one comes first in document order (tie on size)
    (_ld_page('{"@type": ["Thing", "Product"], "name": "Outer", "sku": "1", '
              '"isRelatedTo": {"@type": "Product", "name": "Inner", "sku": "2"}}'), "Outer", []),
    (_ld_page('{"@type": "Product", "name": "X", "sku": "3", '
              '"isRelatedTo": {"@type": "Product", "name": "Inner", "sku": "2", "a": 1, "b": 2}}'), "Inner", []),
    # a commented block goes through jstyleson; a JSON-LD block that stays unreadable drops them all
    (_ld_page('// note\n{"@type": "Product", "name": "C", "sku": "4"}'), "C", []),
    # "Extra data" after the first value fails the decode after the hook saw the Product; the
    # fallback fails too, so the page has no JSON-LD (as extruct with errors="ignore")
    (_ld_page('{"@type": "Product", "name": "D", "sku": "5"} // x'), None, []),
    # microdata beside JSON-LD: both are read; JSON-LD Products come first
    (_ld_page('{"@type": "Product", "name": "E", "sku": "6"}',
              body='<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">F</span>'
                   '<span itemprop="sku">7</span></div>'), "E", []),
    (_ld_page(body='<div ITEMSCOPE itemtype="https://schema.org/Product"><span ItemProp="name">G</span>'
                   '<span itemprop="sku">8</span></div>'), "G", []),
])
def test_schemaorg_product_choice(body: bytes, title: str | None, nicks: list[str]) -> None:
    if title is None:
        with pytest.raises(ParseError, match="no schema.org Product"):
            schemaorg.parse_product_page(response_for(body, "https://shop.example.com/p"))
        return
    r = schemaorg.parse_product_page(response_for(body, "https://shop.example.com/p"))
    assert r.listings[0]["title"] == title
    assert [x["reviewer_nick"] for x in r.reviews] == nicks
