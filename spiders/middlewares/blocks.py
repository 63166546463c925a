"""Recognise pages that are not the content we asked for, even when served with HTTP 200.

A captcha or login wall means every further request will fail the same way, so the crawl
stops and records why (CrawlRun.failure_kind) instead of storing the wall as "zero reviews".
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

_CAPTCHA = re.compile(
    rb"validateCaptcha|captchacharacters|_____tmd_____|nc_1_wrapper|\xe6\xbb\x91\xe5\x8a\xa8\xe9\xaa\x8c\xe8\xaf\x81"  # 滑动验证
    rb"|<title>[^<]{0,40}(?:captcha|Robot Check|\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81)",  # 验证码
    re.I,
)
_LOGIN_FORM = re.compile(rb"<form[^>]+(?:name=\"signIn\"|id=\"J_LoginForm\"|id=\"loginForm\"|id=\"formlogin\")", re.I)
_LOGIN_URL = re.compile(r"login\.taobao\.com|login\.tmall\.com|passport\.jd\.com|/ap/signin|/member/login|/login\b")


def classify_wall(response: Response, request: Request | None = None) -> str | None:
    """'captcha', 'login' or None for a response that looks like real content."""
    if request is not None and request.meta.get("shopmon_image"):
        return None
    url = response.url
    if _LOGIN_URL.search(urlparse(url).netloc + urlparse(url).path):
        return "login"
    head = response.body[:65536]
    if _CAPTCHA.search(head):
        return "captcha"
    if _LOGIN_FORM.search(head):
        return "login"
    return None


class WallDetectionMiddleware:
    """Sits after RetryMiddleware (lower priority number): sees responses once retries gave up."""

    BLOCK_STATUSES = (403, 429)

    def __init__(self, crawler) -> None:  # noqa: ANN001
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in self.BLOCK_STATUSES and not request.meta.get("shopmon_image"):
            self._stop("blocked", f"HTTP {response.status} on {request.url} after retries")
            raise IgnoreRequest(f"blocked: HTTP {response.status}")
        wall = classify_wall(response, request) if response.status == 200 else None
        if wall:
            self._stop(wall, f"{wall} page served for {request.url}")
            raise IgnoreRequest(f"{wall} page")
        return response

    def _stop(self, kind: str, detail: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(f"shopmon/wall/{kind}")
        spider = self.crawler.spider
        context = getattr(spider, "context", None)
        if context is not None:
            context.fail(kind, detail)
        if not stats.get_value("shopmon/closing"):
            stats.set_value("shopmon/closing", kind)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=kind))
