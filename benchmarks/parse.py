"""Parse speed per page type: pages/s of the spider's parse function and its cost relative to a
bare ``lxml.html.fromstring`` (HTML) or ``json.loads`` (JSON/JSONP) of the same bytes.

Target: ratio <= 3 for every page type. Uses the project's own pages and demo marketplace
responses; with ``--shared`` (or SHOPMON_SHARED set and present) the real captures are added.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.encoding import decode_page  # noqa: E402
from monitor.marketplace import Marketplace  # noqa: E402
from monitor.paths import FIXTURES, shared_dir  # noqa: E402
from spiders.parsing import amazon, jd, schemaorg, shopify, taobao, tmall  # noqa: E402

_PARSER = lxml.html.HTMLParser(huge_tree=True)


def bare_html(body: bytes, encoding: str) -> None:
    # Decoding is part of any parse: fed raw bytes without a charset, libxml2 guesses and stops
    # after 102 elements of the real Taobao capture, which would make a meaningless baseline.
    lxml.html.fromstring(body.decode(encoding, errors="replace"), parser=_PARSER)


def bare_json(body: bytes, encoding: str) -> None:
    text = body.decode(encoding)
    text = re.sub(r"^\s*(?:export\s+const\s+\w+\s*=\s*|[\w$.]+\()", "", text).rstrip().rstrip(";").rstrip(")")
    json.loads(text)


def timed(fn: Callable[[], object], min_seconds: float) -> tuple[float, int]:
    """Seconds per call: the best of several short batches (like timeit), so that other
    processes stealing the CPU inflate the figure as little as possible."""
    fn()  # warm-up
    start = time.perf_counter()
    per_batch = 1
    while True:  # size a batch to ~50 ms
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        if time.perf_counter() - t0 >= 0.05:
            break
        per_batch *= 2
    best, calls = float("inf"), 0
    while time.perf_counter() - start < min_seconds or calls < 3 * per_batch:
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        best = min(best, (time.perf_counter() - t0) / per_batch)
        calls += per_batch
    return best, calls


def cases(include_shared: bool) -> list[tuple[str, Callable, bytes, str, Callable]]:
    pages = FIXTURES / "pages"
    market = Marketplace()
    market.base_url = "http://127.0.0.1:8000"

    def served(path: str) -> bytes:
        return market.respond(path)[2]

    out = [
        ("taobao_item_gbk_rendered_reviews", taobao.parse_item_page,
         (pages / "taobao/item_610000000042_rendered-reviews_gbk.html").read_bytes(),
         "https://item.taobao.com/item.htm?id=610000000042", bare_html),
        ("taobao_mtop_rates", taobao.parse_rates,
         served("/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=600000000003&pageNo=1"),
         "http://127.0.0.1:8000/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=600000000003&pageNo=1", bare_json),
        ("taobao_search_g_page_config", taobao.parse_search, served("/taobao/search?shop_id=57300001"),
         "http://127.0.0.1:8000/taobao/search?shop_id=57300001", bare_html),
        ("jd_item_gbk", jd.parse_item_page, served("/jd/100012345601.html"), "http://127.0.0.1:8000/jd/100012345601.html",
         bare_html),
        ("jd_comments_jsonp", jd.parse_comments,
         served("/comment/productPageComments.action?callback=fetchJSON_comment98&productId=100012345601&page=0"),
         "http://127.0.0.1:8000/comment/productPageComments.action?productId=100012345601&page=0", bare_json),
        ("jd_list", jd.parse_list, served("/jd/list?shop_id=1000099"), "http://127.0.0.1:8000/jd/list?shop_id=1000099",
         bare_html),
        ("amazon_product_reviews", amazon.parse_reviews_page,
         served("/product-reviews/B0DEMO0001/?sortBy=recent&pageNumber=1"),
         "http://127.0.0.1:8000/product-reviews/B0DEMO0001/?pageNumber=1", bare_html),
        ("amazon_product_page", amazon.parse_product_page, served("/dp/B0DEMO0001"),
         "http://127.0.0.1:8000/dp/B0DEMO0001", bare_html),
        ("tmall_tshop_setup", tmall.parse_item_page,
         (pages / "tmall/item_620000000077_meta-gbk-utf8-bytes.html").read_bytes(),
         "https://detail.tmall.com/item.htm?id=620000000077", bare_html),
        ("schemaorg_jsonld", schemaorg.parse_product_page, (pages / "schemaorg/product_jsonld_reviews.html").read_bytes(),
         "https://shop.example.com/oak", bare_html),
        ("shopify_products_json", shopify.parse_products, (pages / "shopify/products_page1.json").read_bytes(),
         "https://farm.example/products.json?page=1", bare_json),
    ]
    shared = shared_dir() / "fixtures"
    if include_shared and shared.is_dir():
        real = [
            ("real_amazon_product_reviews", amazon.parse_reviews_page, "amazon/amazon-com_product-reviews_B0BBPNPZTC_2024-07.html",
             "https://www.amazon.com/product-reviews/B0BBPNPZTC", bare_html),
            ("real_amazon_product_page_2021", amazon.parse_product_page, "amazon/amazon-com_dp_B00N150YS4_gorilla-tape_2021.html",
             "https://www.amazon.com/dp/B00N150YS4", bare_html),
            ("real_jd_comments_jsonp", jd.parse_comments,
             "jd/jd_club_productPageComments_sku100047982391_page0_jsonp_2024-12.txt",
             "https://club.jd.com/comment/productPageComments.action?productId=100047982391&page=0", bare_json),
            ("real_jd_997_comment_dump", jd.parse_comments, "jd/jd_comments_997-items_18-skus_reserialized_2025-03.json",
             "file:///dump.json", bare_json),
            ("real_jd_item_gbk", jd.parse_item_page, "jd/jd_item_1020565583_raw-gbk_2018-07.html",
             "https://item.jd.com/1020565583.html", bare_html),
            ("real_taobao_rendered_reviews", taobao.parse_item_page,
             "taobao/taobao_item_538429031287_rendered-dom-10-reviews_2017.html",
             "https://item.taobao.com/item.htm?id=538429031287", bare_html),
            ("real_taobao_mtop_rates", taobao.parse_rates,
             "taobao/taobao_mtop-wdetail-getitemrates_item-521422451240_js-wrapped_2019-08.js",
             "https://h5api.m.taobao.com/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=521422451240&pageNo=1", bare_json),
            ("real_tmall_item_gbk", tmall.parse_item_page, "tmall/tmall_detail_item-605258110430_iphone11_2020-07_gbk.html",
             "https://detail.tmall.com/item.htm?id=605258110430", bare_html),
            ("real_schemaorg_wayfair", schemaorg.parse_product_page,
             "schemaorg/wayfair_pdp_w005759888_jsonld-product-10reviews.html", "https://www.wayfair.com/pdp/x", bare_html),
            ("real_shopify_products_json", shopify.parse_products,
             "shopify/shopify_products-json_annies-organic-farm_2022-09.json", "https://annies.example/products.json", bare_json),
        ]
        out += [(name, fn, (shared / rel).read_bytes(), url, bare) for name, fn, rel, url, bare in real]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-seconds", type=float, default=0.5, help="time spent per measurement")
    ap.add_argument("--no-shared", action="store_true", help="skip the real captures in ../shared")
    args = ap.parse_args()
    results = {}
    for name, fn, body, url, bare in cases(not args.no_shared):
        parse_s, _ = timed(lambda: fn(body, url), args.min_seconds)  # noqa: B023
        encoding = decode_page(body).encoding  # known before timing: the baseline gets it for free
        bare_s, _ = timed(lambda: bare(body, encoding), args.min_seconds)  # noqa: B023
        items = len(fn(body, url).items)
        results[name] = {
            "bytes": len(body),
            "items": items,
            "pages_per_s": round(1 / parse_s, 1),
            "baseline": "lxml.html.fromstring(text)" if bare is bare_html else "json.loads",
            "baseline_pages_per_s": round(1 / bare_s, 1),
            "ratio": round(parse_s / bare_s, 2),
        }
    real = [r["ratio"] for name, r in results.items() if name.startswith("real_")]
    own = [r["ratio"] for name, r in results.items() if not name.startswith("real_")]
    print(json.dumps({
        "benchmark": "parse", "target_ratio": 3.0,
        "max_ratio": max(r["ratio"] for r in results.values()),
        "all_within_target": all(r["ratio"] <= 3.0 for r in results.values()),
        # the project's own pages are 1-20 KB: fixed per-page costs (decoding checks, XPath
        # compilation lookups, extruct set-up) weigh more against a sub-millisecond baseline
        "max_ratio_real_captures": max(real) if real else None,
        "max_ratio_own_pages": max(own),
        "pages": results}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
