"""Tidy values that parsers leave raw: whitespace, currency codes, URLs; count mis-decoded text."""

from __future__ import annotations

import re
from typing import Any

from spiders.component import CrawlerComponent


def _squash(value: str | None) -> str | None:
    if value is None:
        return None
    value = re.sub(r"[ \t\r\f\v]+", " ", value.replace("\u3000", " ")).strip()
    return value or None


class NormalisePipeline(CrawlerComponent):
    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        for key in ("title", "reviewer_nick", "sku", "follow_up_text", "seller_reply"):
            if key in item:
                item[key] = _squash(item[key])
        if item["kind"] == "review":
            item["text"] = _squash(item.get("text")) or ""
            item["review_id"] = str(item["review_id"])
            item["photos"] = list(dict.fromkeys(p for p in item.get("photos") or [] if p))
        else:
            item["listing_id"] = str(item["listing_id"])
            if item.get("currency"):
                item["currency"] = item["currency"].upper()
            item["images"] = list(dict.fromkeys(i for i in item.get("images") or [] if i))
        if item.get("decode_errors"):
            # stored, but marked: detection and analysts must not read it as good text
            self.crawler.stats.inc_value("shopmon/items_mis_decoded")
        return item
