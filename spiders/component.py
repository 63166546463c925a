"""Base for pipelines and middlewares that need the crawler (its stats, settings and spider)."""

from __future__ import annotations


class CrawlerComponent:
    # Scrapy >= 2.13 hands components the crawler instead of the spider; keeping it lets them
    # count bad data in crawler.stats and reach crawler.spider without per-call arguments.
    def __init__(self, crawler) -> None:  # noqa: ANN001
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206
        return cls(crawler)
