"""What every parser returns: the item shapes, the page result, the parse error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REVIEW_FIELDS = (
    "platform",
    "review_id",
    "listing_id",
    "reviewer_nick",
    "rating",
    "title",
    "text",
    "created_at",
    "sku",
    "photos",
    "helpful_votes",
    "verified_purchase",
    "follow_up_text",
    "seller_reply",
)
LISTING_FIELDS = (
    "platform",
    "listing_id",
    "shop_id",
    "title",
    "price",
    "currency",
    "images",
    "attributes",
    "rating_avg",
    "review_count",
)


class ParseError(ValueError):
    """The page is not what its parser expects (truncated, not JSON, wrong site...)."""


@dataclass
class Follow:
    """A further page the crawl may request: ``kind`` names the callback that parses it."""

    url: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageResult:
    items: list[dict[str, Any]] = field(default_factory=list)
    follow: list[Follow] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    page_kind: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    """Page-level facts the spider needs (max page, shop ids, total counts)."""
    complete: bool = False
    """The page's structure closes and its count agrees with the declared paging (see
    spiders.parsing.completeness): only a complete page may say a review is gone."""
    incomplete: str | None = None
    """Why the page is not complete."""
    dropped: list[str] = field(default_factory=list)
    """Values the page gave that could not be used (``field value: reason``)."""

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def settle(self, *problems: str | None) -> None:
        """Record whether the page is whole: the first problem given says why not."""
        why = next((p for p in problems if p), None)
        self.complete = why is None
        self.incomplete = why

    def drop(self, name: str, value: Any, reason: str) -> None:
        self.dropped.append(f"{name} {value!r}: {reason}")
        self.count("dropped_values")

    @property
    def reviews(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] == "review"]

    @property
    def listings(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] == "listing"]


# The item builders spell every field out: parsers call them once per review or card, and a
# dict display with keyword-only arguments costs a third of the generic **values version.
# tests/spiders/test_spiders_values.py checks that the key order still follows the FIELDS tuples.
def review_item(
    platform: str, *, review_id: Any = None, listing_id: Any = None, reviewer_nick: Any = None, rating: Any = None,
    title: Any = None, text: Any = None, created_at: Any = None, sku: Any = None, photos: Any = None,
    helpful_votes: Any = None, verified_purchase: Any = None, follow_up_text: Any = None, seller_reply: Any = None,
    follow_up_at: Any = None, seller_reply_at: Any = None, raw: Any = None,
) -> dict[str, Any]:
    errors = 0
    for v in (text, title, reviewer_nick, follow_up_text):
        if v and "\ufffd" in v:
            errors += str(v).count("\ufffd")
    return {
        "kind": "review", "platform": platform, "review_id": review_id, "listing_id": listing_id,
        "reviewer_nick": reviewer_nick, "rating": rating, "title": title, "text": text, "created_at": created_at,
        "sku": sku, "photos": photos or [], "helpful_votes": helpful_votes, "verified_purchase": verified_purchase,
        "follow_up_text": follow_up_text, "seller_reply": seller_reply, "follow_up_at": follow_up_at,
        "seller_reply_at": seller_reply_at, "raw": raw or {}, "decode_errors": errors,
    }


_MISSING: Any = object()  # tells "not given" (an empty skus list or raw dict) from an explicit None


def listing_item(
    platform: str, *, listing_id: Any = None, shop_id: Any = None, title: Any = None, price: Any = None,
    currency: Any = None, images: Any = None, attributes: Any = None, rating_avg: Any = None,
    review_count: Any = None, url: Any = None, skus: Any = _MISSING, sales: Any = None, raw: Any = _MISSING,
) -> dict[str, Any]:
    return {
        "kind": "listing", "platform": platform, "listing_id": listing_id, "shop_id": shop_id, "title": title,
        "price": price, "currency": currency, "images": images or [],
        # attributes a page leaves empty are left out
        "attributes": {k: v for k, v in (attributes or {}).items() if v},
        "rating_avg": rating_avg, "review_count": review_count, "url": url,
        "skus": [] if skus is _MISSING else skus, "sales": sales, "raw": {} if raw is _MISSING else raw,
        "decode_errors": str(title or "").count("\ufffd"),
    }


def public(item: dict[str, Any]) -> dict[str, Any]:
    """The fields ``shopmon parse`` prints: the normalised shape without raw platform data."""
    names = REVIEW_FIELDS if item["kind"] == "review" else LISTING_FIELDS
    out = {"kind": item["kind"]}
    out.update({k: item.get(k) for k in names})
    if item.get("decode_errors"):
        out["decode_errors"] = item["decode_errors"]
    return out
