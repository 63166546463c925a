"""The demo marketplace over HTTP on 127.0.0.1: what ``shopmon demo`` crawls, with robots.txt allowing it.

``respond`` routes a request path to its page; ``intercept`` is where a subclass may answer a request
differently (the tests' driver injects captchas, errors and hangs there) or record it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from monitor.demo_site.pages import MarketPages

ROBOTS = "User-agent: *\nAllow: /\n"
NOT_FOUND = (404, "text/html; charset=utf-8", b"<html><body><h1>404 Not Found</h1></body></html>")


class Marketplace(MarketPages):
    def __init__(self, root: Path | None = None) -> None:
        super().__init__(root)
        self.request_log: list[str] = []
        self.server: ThreadingHTTPServer | None = None

    def shops(self) -> list[dict[str, Any]]:
        """ShopConfig-compatible dicts for every demo shop."""
        out = []
        for shop in self.data["shops"]:
            entry: dict[str, Any] = {"id": shop["id"], "platform": shop["platform"], "name": shop["name"]}
            if shop["platform"] in ("taobao", "jd"):
                # A Chinese shop's team reads Chinese, in Beijing time.
                entry |= {"language": "zh", "timezone": "Asia/Shanghai"}
            if shop["platform"] == "taobao":
                entry["url"] = f"{self.base_url}/taobao/search?shop_id={shop['shop_id']}"
            elif shop["platform"] == "jd":
                entry["url"] = f"{self.base_url}/jd/list?shop_id={shop['shop_id']}"
            else:
                first, *rest = shop["listings"]
                entry["url"] = f"{self.base_url}/dp/{first['id']}"
                entry["listing_urls"] = [f"{self.base_url}/dp/{li['id']}" for li in rest]
            out.append(entry)
        return out

    def review_count(self) -> int:
        return sum(len(li["reviews"]) for li in self.listings())

    def intercept(self, path: str) -> tuple[int, str, bytes] | None:
        """Record the request; a response to send instead of the page, or None."""
        with self._lock:
            self.request_log.append(path)
        return None

    def respond(self, path: str) -> tuple[int, str, bytes]:
        answer = self.intercept(path)
        if answer is not None:
            return answer
        url = urlparse(path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        p = url.path
        try:
            with self._lock:
                return self._route(p, q) or NOT_FOUND
        except (KeyError, ValueError):
            return NOT_FOUND

    def _route(self, p: str, q: dict[str, str]) -> tuple[int, str, bytes] | None:
        if p == "/robots.txt":
            return 200, "text/plain; charset=utf-8", ROBOTS.encode()
        if p.startswith("/img/"):
            return self._image(p)
        if p == "/taobao/search":
            return self._taobao_search(q["shop_id"])
        if p == "/taobao/item.htm":
            return self._taobao_item(q["id"])
        if p.startswith("/h5/mtop.wdetail.getitemrates/"):
            return self._taobao_rates(q["auctionNumId"], int(q.get("pageNo", "1")))
        if p == "/jd/list":
            return self._jd_list(q["shop_id"])
        if p.startswith("/jd/") and p.endswith(".html"):
            return self._jd_item(p[4:-5])
        if p == "/comment/productPageComments.action":
            return self._jd_comments(q["productId"], int(q.get("page", "0")), q.get("callback"))
        if p.startswith("/dp/"):
            return self._amazon_dp(p.split("/")[2])
        if p.startswith("/product-reviews/"):
            return self._amazon_reviews(p.split("/")[2], int(q.get("pageNumber", "1")))
        return None


class _Handler(BaseHTTPRequestHandler):
    market: Marketplace
    server_version = "demo-marketplace/1.0"

    def do_GET(self) -> None:  # noqa: N802
        status, ctype, body = self.market.respond(self.path)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # request_log keeps what tests need; stderr stays quiet


@contextmanager
def serve_marketplace(root: Path | None = None, *, market: Marketplace | None = None) -> Iterator[Marketplace]:
    """Start the demo marketplace (or ``market``) on 127.0.0.1, random free port; stop it on exit."""
    market = market or Marketplace(root)
    handler = type("Handler", (_Handler,), {"market": market})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    market.server = server
    market.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="demo-marketplace", daemon=True)
    thread.start()
    try:
        yield market
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
