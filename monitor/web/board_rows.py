"""The board table's cells, formatted once in Python.

A page is 50 rows of 14 cells; formatting them here (one time-zone look-up per shop, one clock
read per page) keeps the template a plain loop: helper calls from Jinja per cell cost more CPU
than the page's queries did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from models.base import utcnow
from models.catalog import Shop
from monitor.config import Settings
from monitor.web.i18n import Words
from monitor.web.pages import age

REVIEW_CHARS = 140


@dataclass(frozen=True, slots=True)
class BoardRow:
    id: int
    severity: str
    severity_label: str
    posted: str
    buyer: str
    item: str
    review: str
    revisions: int
    rating: str
    cause: str
    kinds: str
    contact: str
    progress: str
    promised_by: str
    owner: str
    age: str


def shorten(text: str, length: int = REVIEW_CHARS, leeway: int = 5) -> str:
    """Jinja's ``truncate`` (the template's filter before): whole words, "..." at the end."""
    if len(text) <= length + leeway:
        return text
    return text[: length - 3].rsplit(" ", 1)[0] + "..."


def board_rows(rows: list[Any], shops: dict[int, Shop], settings: Settings, t: Words) -> list[BoardRow]:
    """Rows from board_query.ROW_COLUMNS; times in each shop's own zone (shops[].timezone)."""
    zones: dict[int | None, ZoneInfo] = {}
    now = utcnow()

    def zone(shop_id: int | None) -> ZoneInfo:
        if shop_id not in zones:
            shop = shops.get(shop_id) if shop_id is not None else None
            zones[shop_id] = ZoneInfo(settings.locale_for(shop.config_id if shop is not None else None).timezone)
        return zones[shop_id]

    out = []
    for r in rows:
        tz = zone(r.shop_id)
        out.append(BoardRow(
            id=r.id, severity=r.severity, severity_label=t.label(r.severity),
            posted=r.posted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if r.posted_at else "-",
            buyer=r.buyer_nick or "-", item=r.item_title or "-", review=shorten(r.review_text or "-"),
            revisions=r.revision_count or 0, rating="-" if r.rating is None else str(r.rating),
            cause=t.label(r.cause) if r.cause else "-", kinds=", ".join(t.label(k) for k in r.kinds or ()),
            contact=t.label(r.contact_status), progress=t.label(r.state),
            promised_by=r.promised_by.astimezone(tz).strftime("%Y-%m-%d") if r.promised_by else "-",
            owner=r.owner or t.unassigned, age=age(r.opened_at, t, now),
        ))
    return out
