"""Parsers against the real third-party captures in ../shared (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders.parsing import amazon, jd, schemaorg, shopify, taobao, tmall
from spiders.parsing.detect import parse_page
from spiders.parsing.responses import response_for

pytestmark = pytest.mark.shared


def read(shared: Path, rel: str) -> bytes:
    return (shared / "fixtures" / rel).read_bytes()


def test_amazon_reviews_page(shared: Path) -> None:
    body = read(shared, "amazon/amazon-com_product-reviews_B0BBPNPZTC_2024-07.html")
    r = amazon.parse_reviews_page(response_for(body, "https://www.amazon.com/product-reviews/B0BBPNPZTC"))
    reviews = r.reviews
    assert len(reviews) == 10
    assert all(x["review_id"].startswith("R") for x in reviews)
    assert all(x["verified_purchase"] is True for x in reviews)
    assert sum(1 for x in reviews if x["helpful_votes"]) == 5
    first = reviews[0]
    assert first["review_id"] == "RIY0N097PYR7K"
    assert first["reviewer_nick"] == "Tina Haskett Cambar"
    assert first["rating"] == 5
    assert first["title"] == "Name brand and performance"
    assert first["created_at"] == "2024-07-01T00:00:00+00:00"
    assert first["listing_id"] == "B0BBPNPZTC"
    assert first["text"].startswith("This is the dish liquid I always buy")
    nicki = next(x for x in reviews if x["review_id"] == "R1DA3S956E3N51")
    assert nicki["helpful_votes"] == 22
    assert nicki["raw"]["country"] == "United States"
    jeff = next(x for x in reviews if x["review_id"] == "R127U9U2HU8IX7")
    assert (jeff["rating"], jeff["helpful_votes"]) == (4, 16)
    assert [f.url for f in r.follow] == [
        "https://www.amazon.com/Dawn-Ultra-Dishwashing-Liquid-Original/product-reviews/B0BBPNPZTC/"
        "ref=cm_cr_arp_d_paging_btm_2?ie=UTF8&pageNumber=2"
    ]


@pytest.mark.parametrize(
    ("name", "asin", "n_reviews", "price", "currency", "rating_avg", "count"),
    [
        ("amazon-com_dp_B00N150YS4_gorilla-tape_2021.html", "B00N150YS4", 13, 12.48, "USD", 4.8, 8249),
        ("amazon-com_dp_B07G2L3JMM_wall-sconce_2019.html", "B07G2L3JMM", 8, 29.99, "USD", 4.4, 82),
        ("amazon-co-uk_dp_1849757097_book_2024-01.html", "1849757097", 5, 4.45, "GBP", 4.4, 16),
        ("amazon-com_dp_B0BWFFFZD4_rendered-dom-9-reviews_2026-07.html", "B0BWFFFZD4", 9, None, None, 3.8, 32),
    ],
)
def test_amazon_product_pages(shared: Path, name, asin, n_reviews, price, currency, rating_avg, count) -> None:
    r = amazon.parse_product_page(response_for(read(shared, f"amazon/{name}"), f"https://www.amazon.com/dp/{asin}"))
    listing = r.listings[0]
    assert (listing["listing_id"], listing["price"], listing["currency"]) == (asin, price, currency)
    assert (listing["rating_avg"], listing["review_count"]) == (rating_avg, count)
    assert listing["images"][0].startswith("https://")
    assert len(r.reviews) == n_reviews
    assert all(x["text"] and x["rating"] and x["reviewer_nick"] for x in r.reviews)


def test_amazon_uk_dates_and_new_layout(shared: Path) -> None:
    uk = amazon.parse_product_page(response_for(read(shared, "amazon/amazon-co-uk_dp_1849757097_book_2024-01.html"),
                                   "https://www.amazon.co.uk/dp/1849757097"))
    assert uk.reviews[0]["created_at"] == "2016-04-08T00:00:00+00:00"
    assert uk.reviews[0]["helpful_votes"] == 16
    new = amazon.parse_product_page(response_for(read(shared, "amazon/amazon-com_dp_B0BWFFFZD4_rendered-dom-9-reviews_2026-07.html"),
                                    "https://www.amazon.com/dp/B0BWFFFZD4"))
    first = new.reviews[0]
    assert (first["review_id"], first["title"], first["sku"]) == (
        "R8LMD4ZV47LJ5", "Sleek and stylish and sort of retro", "Color: Brass")
    assert first["text"].startswith("I got this to be a strong business card holder")
    # 9 badges on the page, but one card repeats its badge in a media popover and R2LYCD49PDEWA has none
    assert [x["review_id"] for x in new.reviews if not x["verified_purchase"]] == ["R2LYCD49PDEWA"]


def test_amazon_search_page(shared: Path) -> None:
    r = amazon.parse_search(response_for(read(shared, "amazon/amazon-com_search_ultraslim-phone-grip_rendered-dom_2026-07.html"),
                            "https://www.amazon.com/s?k=ultraslim+phone+grip"))
    assert len(r.listings) == 24
    first = r.listings[0]
    assert (first["listing_id"], first["price"], first["currency"], first["rating_avg"], first["review_count"]) == (
        "B0FJM1FRNZ", 19.95, "USD", 2.7, 8)
    assert first["url"] == "https://www.amazon.com/dp/B0FJM1FRNZ" and first["raw"]["sponsored"] is True
    assert r.follow[0].url.startswith("https://www.amazon.com/s?k=ultraslim+phone+grip&page=2")


def test_jd_comment_jsonp(shared: Path) -> None:
    url = ("https://club.jd.com/comment/productPageComments.action?callback=fetchJSON_comment98"
           "&productId=100047982391&score=0&sortType=5&page=0&pageSize=10")
    r = jd.parse_comments(response_for(read(shared, "jd/jd_club_productPageComments_sku100047982391_page0_jsonp_2024-12.txt"), url))
    assert len(r.reviews) == 10
    assert all(x["sku"] for x in r.reviews)
    first = r.reviews[0]
    assert first["review_id"] == "21739216866"
    assert first["sku"] == "0.4L【个人款】 金勺子 滤网"
    assert first["reviewer_nick"] == "j***y"
    assert first["rating"] == 5
    assert first["created_at"] == "2024-11-09T20:17:48+08:00"
    assert len(first["photos"]) == 2 and first["photos"][0].startswith("https://img30.360buyimg.com/")
    assert first["listing_id"] == "100047982391"
    assert r.info["max_page"] == 100
    assert r.follow[0].url.endswith("page=1&pageSize=10")


def test_jd_997_comment_dump(shared: Path) -> None:
    r = jd.parse_comments(response_for(read(shared, "jd/jd_comments_997-items_18-skus_reserialized_2025-03.json"), "file:///dump.json"))
    reviews = r.reviews
    assert len(reviews) == 997
    follow_ups = [x for x in reviews if x["follow_up_text"]]
    replies = [x for x in reviews if x["seller_reply"]]
    assert len(follow_ups) == 9
    assert len(replies) == 24
    kettle = next(x for x in follow_ups if x["review_id"] == "22415629881")
    assert kettle["follow_up_text"] == "用后不足之处是没有烧开水功能，想喝开水要很久时间才会烧开"
    assert kettle["follow_up_at"] == "2025-02-24T09:47:34+08:00"
    reply = next(x for x in replies if x["review_id"] == "21634498782")
    assert reply["seller_reply"].startswith("尊敬的顾客：您好！很抱歉给您带来不便")
    assert reply["seller_reply_at"] == "2024-10-26T00:10:15+08:00"
    assert len({x["listing_id"] for x in reviews}) == 18


def test_jd_item_pages(shared: Path) -> None:
    r = jd.parse_item_page(response_for(read(shared, "jd/jd_item_1020565583_raw-gbk_2018-07.html"), "https://item.jd.com/1020565583.html"))
    listing = r.listings[0]
    assert listing["title"] == "良品铺子 手剥东北红松218g*2袋 特产东北松子 坚果炒货零食"
    assert listing["listing_id"] == "1020565583"
    assert listing["images"][0] == ("https://img10.360buyimg.com/n1/jfs/t12388/362/991957813/170220/2f4daf5a/"
                                    "5a17f8a8N760e3a43.jpg")
    assert len(r.reviews) == 10  # the hidden SEO review block
    assert r.stats["decode_errors"] == 0
    legacy = jd.parse_item_page(response_for(read(shared, "jd/jd_item_987887_legacy-2014_inline-reviews.html"),
                                "https://item.jd.com/987887.html"))
    first = legacy.reviews[0]
    assert (first["review_id"], first["reviewer_nick"], first["rating"]) == (
        "0d9bacf7-fed4-4950-9534-5714c7f2e49e", "jd_向右走1", 5)
    assert first["created_at"] == "2014-06-04T14:05:02+08:00"


def test_jd_category_list(shared: Path) -> None:
    r = jd.parse_list(response_for(read(shared, "jd/jd_list_phones-category_2018-01.html"), "https://list.jd.com/list.html?cat=9987"))
    assert len(r.listings) == 60
    first = r.listings[0]
    assert (first["listing_id"], first["shop_id"]) == ("15382276391", "658651")
    assert first["title"] == "华为（HUAWEI） 华为 畅享6 金色 移动联通电信4G手机 双卡双待"
    legacy = parse_page(read(shared, "jd/jd_list_notebook-category_legacy-2014.html"))  # recognised without a URL
    assert (legacy.page_kind, len(legacy.listings)) == ("shop", 60)
    thinkpad = legacy.listings[0]
    assert (thinkpad["listing_id"], thinkpad["review_count"]) == ("1027344", 4731)
    assert thinkpad["images"] == ["http://img12.360buyimg.com/n7/g15/M01/12/02/rBEhWlJt0UYIAAAAAAIr2jwcpPwAAEqWAGdvlMAAivy016.jpg"]


def test_taobao_rendered_reviews(shared: Path) -> None:
    r = taobao.parse_item_page(response_for(read(shared, "taobao/taobao_item_538429031287_rendered-dom-10-reviews_2017.html"),
                               "https://item.taobao.com/item.htm?id=538429031287"))
    reviews = r.reviews
    assert len(reviews) == 10
    assert sum(1 for x in reviews if x["sku"]) == 8
    first = reviews[0]
    assert first["review_id"] == "307829304339"
    assert first["reviewer_nick"] == "闵***6"
    assert first["text"] == "不错，物美价廉，已经关注"
    assert first["created_at"] == "2017-04-20T09:05:00+08:00"
    assert first["sku"] == "颜色分类：白色 尺码：M"
    assert first["helpful_votes"] == 0
    photo = next(x for x in reviews if x["review_id"] == "293402297875")
    assert photo["photos"] == ["https://img.alicdn.com/imgextra/i2/0/TB2SaojdNmJ.eBjy0FhXXbBdFXa_!!0-rate.jpg"]
    anon = next(x for x in reviews if x["review_id"] == "298711039344")
    assert anon["reviewer_nick"] == "z***h" and anon["raw"]["anonymous"] is True
    listing = r.listings[0]
    assert (listing["listing_id"], listing["shop_id"], listing["price"]) == ("538429031287", "60551274", 28.0)


def test_taobao_mtop_rates(shared: Path) -> None:
    url = "https://h5api.m.taobao.com/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=521422451240&pageNo=1"
    r = taobao.parse_rates(response_for(read(shared, "taobao/taobao_mtop-wdetail-getitemrates_item-521422451240_js-wrapped_2019-08.js"), url))
    assert len(r.reviews) == 10
    first = r.reviews[0]
    assert (first["review_id"], first["reviewer_nick"], first["rating"]) == ("1055390436782", "x**9", 5)
    assert first["created_at"] == "2019-08-21T00:00:00+08:00"
    assert len(first["photos"]) == 3
    assert first["raw"]["userMark"] == "xCV/y8tGPTkDtyAKbGj3buOc1vBwJSShBHbBK1P6pwc="
    assert r.info["total_pages"] == 500
    assert r.follow[0].url.endswith("pageNo=2")


def test_taobao_item_pages_and_shop_pages(shared: Path) -> None:
    gbk = taobao.parse_item_page(response_for(read(shared, "taobao/taobao_item_561495525977_raw-gbk_2018-03.html"),
                                 "https://item.taobao.com/item.htm?id=561495525977"))
    listing = gbk.listings[0]
    assert listing["title"] == "FFAN泛泛 御寒神器 回馈Bi入款 貉子大毛领加厚羽绒服女中长款3色"
    assert gbk.stats["decode_errors"] == 0
    kb = taobao.parse_item_page(response_for(read(shared, "taobao/taobao_item_562283240178_2020-07.html"),
                                "https://item.taobao.com/item.htm?id=562283240178"))
    skus = kb.listings[0]["skus"]
    assert {s["names"] for s in skus} == {"glow in the dark 夜光无加强筋", "clear 透明无加强筋"}
    assert kb.listings[0]["price"] == 149.0
    search = taobao.parse_search(response_for(read(shared, "taobao/taobao_search_s-taobao-com_g_page_config_2016-09.html"),
                                 "https://s.taobao.com/search?q=x"))
    assert len(search.listings) == 36
    assert search.listings[0]["listing_id"] == "528991075854"
    assert search.info["total_pages"] == 100
    for name, dsr in (("taobao_shop-105815128_asynSearch-fragment_24-items_2017.html", None),
                      ("taobao_shop-119667895_search-page_gbk_24-items_2017.html",
                       {"description": 4.5, "service": 4.6, "logistics": 4.6})):
        shop = taobao.parse_search(response_for(read(shared, f"taobao/{name}"), "https://shop.taobao.com/search.htm"))
        assert len(shop.listings) == 24
        assert shop.info.get("dsr") == dsr
    dsr = taobao.parse_shop_dsr(response_for(read(shared, "taobao/taobao_shop-119667895_index_rendered-dom-dsr_2017.html"), "https://x"))
    assert dsr == {"description": 4.5, "service": 4.6, "logistics": 4.6}


def test_tmall_pages_and_charset_traps(shared: Path) -> None:
    url = "https://detail.tmall.com/item.htm?id=605258110430"
    gbk = tmall.parse_item_page(response_for(read(shared, "tmall/tmall_detail_item-605258110430_iphone11_2020-07_gbk.html"), url))
    lie = tmall.parse_item_page(response_for(read(shared, "tmall/tmall_detail_item-605258110430_iphone11_2020-07_utf8-original.html"), url))
    for r in (gbk, lie):
        listing = r.listings[0]
        assert listing["title"] == "【官网价直降】Apple/苹果 iPhone 11 4G全网通智能手机正品苏宁易购官方旗舰店苹果11"
        assert listing["price"] == 5999.0
        assert listing["skus"][0]["names"] == "无需合约版 黑色 官方标配 64GB"
    assert lie.stats.get("charset_mismatch") == 1  # <meta charset="gbk"> over UTF-8 bytes
    broken = tmall.parse_item_page(response_for(read(shared, "tmall/tmall_detail_item-538218798736_iphone7plus_MOJIBAKE_2018-07.html"), url))
    assert broken.stats["decode_errors"] == 1547
    assert broken.listings[0]["decode_errors"] > 0  # reported, never passed off as good text


@pytest.mark.parametrize(
    ("rel", "url", "scrapy_encoding", "encoding", "probe"),
    [
        # <meta charset="gbk"> after 150 KB of injected scripts: Scrapy cannot see it and guesses
        ("tmall/tmall_detail_item-605258110430_iphone11_2020-07_gbk.html", "https://detail.tmall.com/item.htm?id=605258110430",
         "iso8859-10", "gb18030", "苹果"),
        # a label over UTF-8 bytes: Scrapy believes the label
        ("jd/jd_item_987887_legacy-2014_inline-reviews.html", "https://item.jd.com/987887.html", "gb18030", "utf-8", "使用心得"),
        ("rakuten/rakuten_item_receno-tsumugi-tama_rendered-dom_2026-07.html", "https://item.rakuten.co.jp/receno/x/",
         "euc_jp", "utf-8", "楽天"),
    ],
)
def test_where_scrapys_decoding_is_corrected(shared: Path, rel: str, url: str, scrapy_encoding: str, encoding: str,
                                             probe: str) -> None:
    """The real captures that prove monitor/encoding.py's layer: Scrapy alone garbles them."""
    from scrapy.http import TextResponse

    body = read(shared, rel)
    scrapy_alone = TextResponse(url, body=body)
    assert scrapy_alone.encoding == scrapy_encoding and probe not in scrapy_alone.text
    ours = response_for(body, url)
    assert ours.encoding == encoding and probe in ours.text


def test_scrapys_decoding_stands_on_the_other_captures(shared: Path) -> None:
    from scrapy.http import TextResponse

    for rel in ("taobao/taobao_item_561495525977_raw-gbk_2018-03.html", "jd/jd_item_1020565583_raw-gbk_2018-07.html",
                "amazon/amazon-co-uk_dp_1849757097_book_2024-01.html", "taobao/taobao_search_s-taobao-com_g_page_config_2016-09.html"):
        body = read(shared, rel)
        assert response_for(body, "https://x.example/").text == TextResponse("https://x.example/", body=body).text, rel


def test_schemaorg_pages(shared: Path) -> None:
    r = schemaorg.parse_product_page(response_for(read(shared, "schemaorg/wayfair_pdp_w005759888_jsonld-product-10reviews.html"),
                                     "https://www.wayfair.com/pdp/w005759888.html"))
    listing = r.listings[0]
    assert (listing["listing_id"], listing["price"], listing["rating_avg"], listing["review_count"]) == (
        "W005759888", 111.99, 4.5, 473)
    assert len(r.reviews) == 10
    assert r.reviews[0]["reviewer_nick"] == "Rebecca"
    assert r.reviews[0]["created_at"] == "2016-05-12T00:00:00+00:00"
    assert len({x["review_id"] for x in r.reviews}) == 10
    agg = schemaorg.parse_product_page(response_for(read(shared, "schemaorg/jossandmain_pdx_j001109161_jsonld-product-aggrating.html"),
                                       "https://www.jossandmain.com/x"))
    assert (agg.listings[0]["rating_avg"], agg.listings[0]["review_count"]) == (4.5, 8108)


def test_shopify_products_json(shared: Path) -> None:
    r = shopify.parse_products(response_for(read(shared, "shopify/shopify_products-json_annies-organic-farm_2022-09.json"),
                               "https://annies.example/products.json?page=1"))
    assert len(r.listings) == 17
    first = r.listings[0]
    assert (first["listing_id"], first["title"], first["price"]) == ("7184716955843", "Just for 1-2 ( Fruit and Veg)", 30.0)
    assert "<" not in first["attributes"]["description"]  # escaped HTML in JSON is unescaped and stripped
    single = shopify.parse_products(response_for(read(shared, "shopify/shopify_product-json_single_2022.json"), "https://annies.example/"))
    assert single.page_kind == "item" and len(single.listings) == 1


def test_every_relevant_capture_is_recognised(shared: Path) -> None:
    """Site and page type detection without a URL, over every capture of a supported site."""
    expected = {
        "amazon/amazon-com_product-reviews_B0BBPNPZTC_2024-07.html": ("reviews", 0, 10),
        "jd/jd_club_productPageComments_sku100047982391_page0_jsonp_2024-12.txt": ("reviews", 0, 10),
        "jd/jd_list_phones-category_2018-01.html": ("shop", 60, 0),
        "amazon/amazon-com_search_ultraslim-phone-grip_rendered-dom_2026-07.html": ("shop", 24, 0),
        "taobao/taobao_item_538429031287_rendered-dom-10-reviews_2017.html": ("item", 1, 10),
        "taobao/taobao_shop-119667895_search-page_gbk_24-items_2017.html": ("shop", 24, 0),
        "tmall/tmall_detail_item-605258110430_iphone11_2020-07_gbk.html": ("item", 1, 0),
        "shopify/shopify_products-json_annies-organic-farm_2022-09.json": ("shop", 17, 0),
        "schemaorg/potterybarn_tully-sconce_jsonld-microdata.html": ("item", 1, 0),
    }
    for rel, (kind, n_listings, n_reviews) in expected.items():
        r = parse_page(read(shared, rel))
        assert (r.page_kind, len(r.listings), len(r.reviews)) == (kind, n_listings, n_reviews), rel
