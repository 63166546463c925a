"""The demo marketplace driven by tests (and the alert-latency benchmark): publish, edit and delete
reviews while a crawl runs, answer chosen requests with a captcha, an error or a hang, and read which
pages were requested. Not part of the package: ``shopmon demo`` never changes its shops.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.demo_site.server import Marketplace as ServedMarketplace
from monitor.demo_site.server import serve_marketplace as serve


@dataclass
class Injection:
    path_contains: str
    status: int
    body: bytes | None
    content_type: str
    times: int
    delay: float = 0.0


class Marketplace(ServedMarketplace):
    def __init__(self, root: Path | None = None) -> None:
        super().__init__(root)
        self._injections: list[Injection] = []
        self._next_id = 890000001

    def add_reviews(self, listing_id: str, reviews: Iterable[dict[str, Any] | str], *,
                    at: datetime | None = None) -> list[str]:
        """Publish new reviews (newest first, like a real shop); strings become 5-star reviews."""
        listing = self._listing(listing_id)
        when = at or datetime.now(UTC)
        new = []
        with self._lock:
            for n, r in enumerate(reviews):
                r = {"text": r} if isinstance(r, str) else dict(r)
                rid = str(r.pop("id", None) or self._next_id)
                self._next_id += 1
                created = r.pop("created_at", None) or (when + timedelta(seconds=n)).isoformat()
                new.append({"id": rid, "nick": r.pop("nick", f"n***{n}"), "rating": r.pop("rating", 5),
                            "text": r.pop("text"), "created_at": created, "sku": r.pop("sku", None),
                            "photos": r.pop("photos", []), "helpful": r.pop("helpful", 0),
                            "follow_up": r.pop("follow_up", None), "reply": r.pop("reply", None),
                            "verified": r.pop("verified", True), "title": r.pop("title", None)})
            listing["reviews"] = sorted(new, key=lambda x: x["created_at"], reverse=True) + listing["reviews"]
        return [r["id"] for r in new]

    def edit_review(self, review_id: str, **changes: Any) -> None:
        with self._lock:
            self._review(review_id).update(changes)

    def delete_review(self, review_id: str) -> None:
        with self._lock:
            for li in self.listings():
                li["reviews"] = [r for r in li["reviews"] if r["id"] != review_id]

    def inject(self, path_contains: str, *, status: int = 200, body: bytes | str | None = b"",
               content_type: str = "text/html; charset=utf-8", times: int = 1, delay: float = 0.0) -> None:
        """Answer the next ``times`` requests whose path contains ``path_contains`` with this
        response instead (a captcha page, a 429, a truncated page...). ``body=None`` keeps the
        normal response; ``delay`` makes the server hang that many seconds first."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._injections.append(Injection(path_contains, status, raw, content_type, times, delay))

    def page_requests(self) -> list[str]:
        """Requests for pages and APIs (not robots.txt, not images)."""
        return [p for p in self.request_log if p != "/robots.txt" and not p.startswith("/img/")]

    def intercept(self, path: str) -> tuple[int, str, bytes] | None:
        super().intercept(path)
        injected = None
        with self._lock:
            for inj in self._injections:
                if inj.times > 0 and inj.path_contains in path:
                    inj.times -= 1
                    injected = inj
                    break
        if injected is None:
            return None
        if injected.delay:
            time.sleep(injected.delay)  # outside the lock: other requests go on meanwhile
        if injected.body is None:
            return None
        return injected.status, injected.content_type, injected.body


@contextmanager
def serve_marketplace(root: Path | None = None) -> Iterator[Marketplace]:
    """The driven marketplace on 127.0.0.1 (random free port), stopped on exit."""
    with serve(market=Marketplace(root)) as market:
        yield market  # type: ignore[misc]
