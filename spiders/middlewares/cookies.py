"""Send cookies from a file (a logged-in browser session) with every page request.

The file is JSON ``{"name": "value"}`` or a Netscape cookies.txt export. Values are never
logged or copied into stats: they are credentials.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import Request
from scrapy.exceptions import NotConfigured


def load_cookies(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    stripped = text.strip()
    if stripped.startswith("{"):
        data = json.loads(stripped)
        return {str(k): str(v) for k, v in data.items()}
    cookies = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 7:
            cookies[parts[5]] = parts[6].strip()
    return cookies


class CookiesFileMiddleware:
    def __init__(self, cookies: dict[str, str]) -> None:
        self.cookies = cookies

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206
        path = crawler.settings.get("SHOPMON_COOKIES_FILE")
        if not path:
            raise NotConfigured("no cookies file")
        try:
            cookies = load_cookies(Path(path))
        except (OSError, ValueError) as exc:
            # name the file, never its content
            raise NotConfigured(f"cookies file {path} unreadable: {type(exc).__name__}") from None
        crawler.stats.set_value("shopmon/cookies_loaded", len(cookies))
        return cls(cookies)

    def process_request(self, request: Request) -> None:
        if not request.cookies and not request.meta.get("shopmon_image"):
            request.cookies = dict(self.cookies)
