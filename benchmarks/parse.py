"""Parse speed as users feel it: pages/s per page type, and the share of a crawl's wall time spent
parsing at the default politeness settings (target < 5%).

A crawl waits ``crawl.download_delay`` (1 s by default, AutoThrottle on) between requests to a
site, so what matters is how much of that wall time the parsers take, not microseconds against a
bare lxml parse. Part 1 times each parser (decoding included: bytes → TextResponse → items) on the
project's own pages, the local marketplace's responses and, with ../shared present, the real
captures. Part 2 crawls the local marketplace (monitor/demo_site, 127.0.0.1) with the default
crawl settings and divides the spider's time in parsers (the ``shopmon/parse_seconds`` stat) by the
crawl's wall time. Prints one JSON object; CPU seconds are given beside wall seconds because the
machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.demo_site.server import Marketplace, serve_marketplace  # noqa: E402
from monitor.paths import FIXTURES, shared_dir  # noqa: E402
from spiders.parsing import amazon, jd, schemaorg, shopify, taobao, tmall  # noqa: E402
from spiders.parsing.responses import response_for  # noqa: E402

TARGET_SHARE = 0.05


def timed(fn: Callable[[], object], min_seconds: float) -> float:
    """Seconds per call: the best of several short batches (like timeit), so that other processes
    stealing the CPU inflate the figure as little as possible."""
    fn()  # warm-up
    per_batch = 1
    while True:  # size a batch to ~50 ms
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        if time.perf_counter() - t0 >= 0.05:
            break
        per_batch *= 2
    start, best, calls = time.perf_counter(), float("inf"), 0
    while time.perf_counter() - start < min_seconds or calls < 3 * per_batch:
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        best = min(best, (time.perf_counter() - t0) / per_batch)
        calls += per_batch
    return best


def cases(include_shared: bool) -> list[tuple[str, str, Callable, bytes, str]]:
    """(page type, name, parser, body, url)."""
    pages = FIXTURES / "pages"
    market = Marketplace()
    market.base_url = "http://127.0.0.1:8000"

    def served(path: str) -> bytes:
        return market.respond(path)[2]

    base = market.base_url
    out = [
        ("taobao_item", "own_gbk_rendered_reviews", taobao.parse_item_page,
         (pages / "taobao/item_610000000042_rendered-reviews_gbk.html").read_bytes(),
         "https://item.taobao.com/item.htm?id=610000000042"),
        ("taobao_reviews_api", "marketplace", taobao.parse_rates,
         served("/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=600000000003&pageNo=1"),
         f"{base}/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=600000000003&pageNo=1"),
        ("taobao_shop", "marketplace", taobao.parse_search, served("/taobao/search?shop_id=57300001"),
         f"{base}/taobao/search?shop_id=57300001"),
        ("jd_item", "marketplace_gbk", jd.parse_item_page, served("/jd/100012345601.html"), f"{base}/jd/100012345601.html"),
        ("jd_reviews_api", "marketplace", jd.parse_comments,
         served("/comment/productPageComments.action?callback=fetchJSON_comment98&productId=100012345601&page=0"),
         f"{base}/comment/productPageComments.action?productId=100012345601&page=0"),
        ("jd_shop", "marketplace", jd.parse_list, served("/jd/list?shop_id=1000099"), f"{base}/jd/list?shop_id=1000099"),
        ("amazon_reviews", "marketplace", amazon.parse_reviews_page,
         served("/product-reviews/B0DEMO0001/?sortBy=recent&pageNumber=1"),
         f"{base}/product-reviews/B0DEMO0001/?pageNumber=1"),
        ("amazon_item", "marketplace", amazon.parse_product_page, served("/dp/B0DEMO0001"), f"{base}/dp/B0DEMO0001"),
        ("tmall_item", "own", tmall.parse_item_page, (pages / "tmall/item_620000000077_meta-gbk-utf8-bytes.html").read_bytes(),
         "https://detail.tmall.com/item.htm?id=620000000077"),
        ("schemaorg_item", "own_jsonld", schemaorg.parse_product_page,
         (pages / "schemaorg/product_jsonld_reviews.html").read_bytes(), "https://shop.example.com/oak"),
        ("shopify_shop", "own", shopify.parse_products, (pages / "shopify/products_page1.json").read_bytes(),
         "https://farm.example/products.json?page=1"),
    ]
    shared = shared_dir() / "fixtures"
    if include_shared and shared.is_dir():
        real = [
            ("amazon_reviews", amazon.parse_reviews_page, "amazon/amazon-com_product-reviews_B0BBPNPZTC_2024-07.html",
             "https://www.amazon.com/product-reviews/B0BBPNPZTC"),
            ("amazon_item", amazon.parse_product_page, "amazon/amazon-com_dp_B00N150YS4_gorilla-tape_2021.html",
             "https://www.amazon.com/dp/B00N150YS4"),
            ("amazon_shop", amazon.parse_search, "amazon/amazon-com_search_ultraslim-phone-grip_rendered-dom_2026-07.html",
             "https://www.amazon.com/s?k=grip"),
            ("jd_reviews_api", jd.parse_comments, "jd/jd_club_productPageComments_sku100047982391_page0_jsonp_2024-12.txt",
             "https://club.jd.com/comment/productPageComments.action?productId=100047982391&page=0"),
            ("jd_item", jd.parse_item_page, "jd/jd_item_1020565583_raw-gbk_2018-07.html", "https://item.jd.com/1020565583.html"),
            ("jd_shop", jd.parse_list, "jd/jd_list_phones-category_2018-01.html", "https://list.jd.com/list.html?cat=9987"),
            ("taobao_item", taobao.parse_item_page, "taobao/taobao_item_538429031287_rendered-dom-10-reviews_2017.html",
             "https://item.taobao.com/item.htm?id=538429031287"),
            ("taobao_reviews_api", taobao.parse_rates,
             "taobao/taobao_mtop-wdetail-getitemrates_item-521422451240_js-wrapped_2019-08.js",
             "https://h5api.m.taobao.com/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=521422451240&pageNo=1"),
            ("taobao_shop", taobao.parse_search, "taobao/taobao_search_s-taobao-com_g_page_config_2016-09.html",
             "https://s.taobao.com/search?q=x"),
            ("tmall_item", tmall.parse_item_page, "tmall/tmall_detail_item-605258110430_iphone11_2020-07_gbk.html",
             "https://detail.tmall.com/item.htm?id=605258110430"),
            ("schemaorg_item", schemaorg.parse_product_page, "schemaorg/wayfair_pdp_w005759888_jsonld-product-10reviews.html",
             "https://www.wayfair.com/pdp/x"),
            ("shopify_shop", shopify.parse_products, "shopify/shopify_products-json_annies-organic-farm_2022-09.json",
             "https://annies.example/products.json"),
        ]
        out += [(kind, "real_capture", fn, (shared / rel).read_bytes(), url) for kind, fn, rel, url in real]
    return out


def parse_speed(include_shared: bool, min_seconds: float) -> dict[str, list[dict]]:
    by_type: dict[str, list[dict]] = {}
    for kind, name, fn, body, url in cases(include_shared):
        per_page = timed(lambda: fn(response_for(body, url)), min_seconds)  # noqa: B023
        by_type.setdefault(kind, []).append({
            "page": name, "bytes": len(body), "items": len(fn(response_for(body, url)).items),
            "pages_per_s": round(1 / per_page, 1), "ms_per_page": round(per_page * 1000, 2)})
    return by_type


def crawl_share(shop_ids: list[str] | None) -> dict:
    """Crawl the local marketplace's shops with the default crawl settings; parse time / wall time."""
    from monitor.config import load_settings
    from monitor.crawl import crawl_shop
    from monitor.db import upgrade

    out = {}
    with serve_marketplace() as market, tempfile.TemporaryDirectory(prefix="shopmon-bench-parse-") as tmp:
        shops = [s for s in market.shops() if not shop_ids or s["id"] in shop_ids]
        settings = load_settings(data_dir=Path(tmp) / "data", shops=shops,  # default [crawl] politeness
                                 alerts={"recipients": {"serious_case": ["bench@shopmon.invalid"]}})
        upgrade(settings)
        for shop in settings.shops:
            run = crawl_shop(settings, shop, full=True)
            wall = float(run.stats.get("elapsed_time_seconds") or 0)
            parse = float(run.stats.get("shopmon/parse_seconds") or 0)
            parse_cpu = float(run.stats.get("shopmon/parse_cpu_seconds") or 0)
            out[shop.id] = {
                "status": run.status, "page_requests": run.stats.get("page_requests"),
                "crawl_wall_s": round(wall, 2), "parse_s": round(parse, 3), "parse_cpu_s": round(parse_cpu, 3),
                "parse_share": round(parse / wall, 4) if wall else None,
                # CPU seconds in parsers over the crawl's wall time: what the share would be on an
                # idle machine (on a loaded one the wall-clock parse time includes waiting for a core)
                "parse_cpu_share": round(parse_cpu / wall, 4) if wall else None,
            }
        out["crawl_settings"] = {"download_delay": settings.crawl.download_delay,
                                 "autothrottle": settings.crawl.autothrottle,
                                 "concurrency_per_domain": settings.crawl.concurrency_per_domain}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-seconds", type=float, default=0.5, help="time spent per parse measurement")
    ap.add_argument("--no-shared", action="store_true", help="skip the real captures in ../shared")
    ap.add_argument("--no-crawl", action="store_true", help="skip the marketplace crawl (part 2)")
    ap.add_argument("--shop", action="append", help="crawl only this marketplace shop id (repeatable)")
    args = ap.parse_args()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime
    wall0 = time.perf_counter()
    by_type = parse_speed(not args.no_shared, args.min_seconds)
    report: dict = {
        "benchmark": "parse",
        "pages_per_s_by_type": {kind: min(r["pages_per_s"] for r in rows) for kind, rows in by_type.items()},
        "pages": by_type,
    }
    if not args.no_crawl:
        crawls = crawl_share(args.shop)
        shares = [c["parse_share"] for k, c in crawls.items() if k != "crawl_settings" and c["parse_share"] is not None]
        report["crawl"] = crawls
        report["target_parse_share"] = TARGET_SHARE
        cpu_shares = [c["parse_cpu_share"] for k, c in crawls.items()
                      if k != "crawl_settings" and c["parse_cpu_share"] is not None]
        report["max_parse_share"] = max(shares) if shares else None
        report["max_parse_cpu_share"] = max(cpu_shares) if cpu_shares else None
        report["within_target"] = bool(shares) and max(shares) < TARGET_SHARE
        report["load_average_1min"] = round(os.getloadavg()[0], 2)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["wall_s"] = round(time.perf_counter() - wall0, 1)
    report["cpu_s"] = round(usage.ru_utime + usage.ru_stime - cpu0, 1)
    report["cpu_s_crawl_children"] = round(children.ru_utime + children.ru_stime, 1)
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
