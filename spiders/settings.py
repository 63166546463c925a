"""Scrapy settings: fixed project defaults here, politeness values from monitor.config.CrawlConfig."""

from __future__ import annotations

from typing import Any

from monitor.config import Settings

BOT_NAME = "shopmon"
SPIDER_MODULES = ["spiders.sites"]

ITEM_PIPELINES = {
    "spiders.pipelines.validate.ValidatePipeline": 100,
    "spiders.pipelines.normalise.NormalisePipeline": 200,
    "spiders.pipelines.dedupe.DedupePipeline": 300,
    "spiders.pipelines.store.StorePipeline": 400,
    "spiders.pipelines.images.ListingImagesPipeline": 500,
}
DOWNLOADER_MIDDLEWARES = {
    # process_response runs from high to low numbers: back-off sees a 429 before the retry,
    # wall detection sees it only after RetryMiddleware (550) has given up.
    "spiders.middlewares.backoff.BackoffMiddleware": 560,
    "spiders.middlewares.blocks.WallDetectionMiddleware": 540,
}
COOKIES_MIDDLEWARE = {"spiders.middlewares.cookies.CookiesFileMiddleware": 650}
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
TELNETCONSOLE_ENABLED = False
# Scrapy's remote-control HTTP server runs Python code sent to it and writes a job file into
# the user's profile; the telnet console is a Python shell. A crawl needs neither, so both are
# off and removed from the extension list (belt and braces against a default turning one on).
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}
LOG_LEVEL = "INFO"


def scrapy_settings(settings: Settings, *, run_key: str = "shopmon") -> dict[str, Any]:
    """Everything a crawl process needs, derived from the one typed settings object.

    ``run_key`` names this crawl's Redis keys (with ``redis_url``)."""
    crawl = settings.crawl
    out: dict[str, Any] = {
        "BOT_NAME": BOT_NAME,
        "SPIDER_MODULES": SPIDER_MODULES,
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "TELNETCONSOLE_ENABLED": TELNETCONSOLE_ENABLED,
        "REMOTE_CONTROL_ENABLED": REMOTE_CONTROL_ENABLED,
        "EXTENSIONS": EXTENSIONS,
        "LOG_LEVEL": LOG_LEVEL,
        "LOG_INSTALL_ROOT_HANDLER": True,
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if crawl.download_delay > 0 else 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "RETRY_ENABLED": crawl.retry_times > 0,
        "RETRY_TIMES": crawl.retry_times,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": min(crawl.max_page_bytes, 8 * 1024 * 1024),
        "DOWNLOAD_TIMEOUT": 60,
        "FILES_STORE": settings.image_store_uri,
        "SHOPMON_IMAGE_MAX_BYTES": settings.listings.max_image_bytes,
        "FILES_EXPIRES": 3650,
        "MEDIA_ALLOW_REDIRECTS": True,
        "COOKIES_ENABLED": True,
        # cookies are credentials: never write them to the log
        "COOKIES_DEBUG": False,
    }
    if crawl.cookies_file:
        out["SHOPMON_COOKIES_FILE"] = str(crawl.cookies_file)
        out["DOWNLOADER_MIDDLEWARES"] = {**DOWNLOADER_MIDDLEWARES, **COOKIES_MIDDLEWARE}
    if crawl.redis_url:
        # The queue and dupefilter live in Redis (scrapy-redis, nothing home-made), under keys of
        # this crawl run: scrapy-redis defaults to one key per spider name, which would mix the
        # requests of two shops on the same platform crawled at the same time.
        out.update(
            SCHEDULER="scrapy_redis.scheduler.Scheduler",
            DUPEFILTER_CLASS="scrapy_redis.dupefilter.RFPDupeFilter",
            SCHEDULER_PERSIST=False,
            SCHEDULER_QUEUE_KEY=f"{run_key}:requests",
            SCHEDULER_DUPEFILTER_KEY=f"{run_key}:dupefilter",
            REDIS_URL=crawl.redis_url,
        )
    return out
