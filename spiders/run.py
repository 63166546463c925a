"""Crawl one shop in this process: ``python -m spiders.run JOB.json``.

monitor.crawl starts this in a subprocess (a Twisted reactor cannot be restarted, and a crash
or hang must not take the scheduler down). The job file holds the settings (never the SMTP
password; the database URL comes through the environment) and where to write the result.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
import uuid
from pathlib import Path
from typing import Any

from monitor.config import Settings, ShopConfig
from monitor.child_process import die_with_parent


def spider_class(platform: str) -> type:
    from importlib import import_module

    module = import_module(f"spiders.sites.{platform}")
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "name", None) == platform:
            return value
    raise LookupError(f"no spider named {platform!r}")


def summarise(stats: dict[str, Any], context) -> dict[str, Any]:  # noqa: ANN001
    counts = context.store.counts.as_dict()
    requests = int(stats.get("downloader/request_count", 0))
    robots = int(stats.get("robotstxt/request_count", 0))
    images = int(stats.get("file_count", 0)) + int(stats.get("shopmon/images_failed", 0))
    items_seen = counts["listings_seen"] + counts["reviews_new"] + counts["reviews_updated"] + counts[
        "reviews_unchanged"]
    failure, detail = context.failure, context.failure_detail
    crashed = int(stats.get("spider_exceptions/count", 0)) or sum(
        int(v) for k, v in stats.items() if k.startswith("spider_exceptions/"))
    if failure is None and crashed:
        failure, detail = "error", f"{crashed} callback(s) raised; the log names them (items stored so far are kept)"
    # IgnoreRequest is a decision (robots.txt, a wall page), not a failure to fetch
    fetch_errors = int(stats.get("downloader/exception_count", 0)) - int(
        stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0))
    if failure is None and fetch_errors and not items_seen:
        failure, detail = "error", f"{fetch_errors} download error(s) and nothing found (see the crawl log)"
    if failure is None and int(stats.get("shopmon/parse_errors", 0)) and not items_seen:
        failure, detail = "error", f"{stats['shopmon/parse_errors']} page(s) could not be parsed and nothing was found"
    if failure is None and items_seen == 0 and not stats.get("shopmon/listings_unchanged"):
        failure, detail = "zero_items", "the crawl found no listings and no reviews"
        forbidden = int(stats.get("robotstxt/forbidden", 0))
        if forbidden:
            detail += f"; robots.txt forbids {forbidden} of its page(s) (crawl.obey_robots)"
    return {
        "status": "failed" if failure else "ok",
        "failure_kind": failure,
        "error": detail,
        "requests": requests,
        "page_requests": max(0, requests - robots - images),
        "listings_seen": counts["listings_seen"],
        "reviews_new": counts["reviews_new"],
        "reviews_updated": counts["reviews_updated"],
        "reviews_deleted": counts["reviews_deleted"],
        "reviews_missing": counts["reviews_missing"],
        "items_invalid": int(stats.get("shopmon/items_invalid", 0)),
        "stats": {k: v for k, v in stats.items() if isinstance(v, int | float | str)} | {"store": counts},
    }


def crawl(job: dict[str, Any]) -> dict[str, Any]:
    from scrapy.crawler import CrawlerProcess

    from spiders.context import CrawlContext
    from spiders.settings import scrapy_settings

    settings = Settings(**job["settings"])
    shop = ShopConfig(**job["shop"])
    context = CrawlContext(settings, shop, job.get("shop_row_id"), full=bool(job.get("full")), run_id=job.get("run_id"))
    # unique even between machines that keep separate databases (and so repeat run ids)
    run_key = f"shopmon:{shop.platform}:{shop.id}:run{job.get('run_id') or 0}:{uuid.uuid4().hex[:12]}"
    process = CrawlerProcess(scrapy_settings(settings, run_key=run_key))
    crawler = process.create_crawler(spider_class(shop.platform))
    process.crawl(crawler, context=context)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    context.store.close()  # already closed by the store pipeline unless the engine failed early
    return summarise(stats, context)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m spiders.run JOB.json", file=sys.stderr)
        return 2
    job_path = Path(args[0])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    result_path = Path(job["result_path"])
    try:
        result = crawl(job)
    except Exception as exc:  # recorded on the CrawlRun; the parent shows one line
        logging.getLogger("shopmon.crawl").error("crawl crashed", exc_info=True)
        result = {"status": "failed", "failure_kind": "error", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(limit=8)}
    result_path.write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0 if result.get("status") == "ok" else 1


if __name__ == "__main__":
    die_with_parent()  # a kill -9 of shopmon crawl / the scheduler must not leave us crawling alone
    sys.exit(main())
