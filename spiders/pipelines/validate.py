"""Refuse items that cannot be stored (no id, rating off the scale, bad date); count and keep them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.exceptions import DropItem

from spiders.component import CrawlerComponent


def problems(item: dict[str, Any]) -> list[str]:
    out = []
    kind = item.get("kind")
    if kind not in ("listing", "review"):
        return [f"unknown kind {kind!r}"]
    if not item.get("platform"):
        out.append("no platform")
    if kind == "listing":
        if not item.get("listing_id"):
            out.append("listing without listing_id")
        return out
    if not item.get("review_id"):
        out.append("review without review_id")
    rating = item.get("rating")
    if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
        out.append(f"rating {rating!r} outside 1-5")
    if not (item.get("text") or "").strip() and rating is None and not item.get("photos"):
        out.append("review with no text, rating or photos")
    created = item.get("created_at")
    if created is not None:
        try:
            if datetime.fromisoformat(str(created)).tzinfo is None:
                out.append("created_at without time zone")
        except ValueError:
            out.append(f"created_at {created!r} is not ISO 8601")
    return out


class ValidatePipeline(CrawlerComponent):
    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        found = problems(item)
        if not found:
            return item
        stats = self.crawler.stats
        stats.inc_value("shopmon/items_invalid")
        for p in found:
            stats.inc_value(f"shopmon/invalid/{p.split(' ')[0]}")
        context = getattr(self.crawler.spider, "context", None)
        if context is not None:
            context.reject(item, "; ".join(found))
        raise DropItem(f"invalid {item.get('kind')}: {'; '.join(found)} (kept in the rejects file)")
