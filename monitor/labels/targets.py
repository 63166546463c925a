"""Look up the things labels are about, in bulk (one query per target type)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from models import Listing, Review, Reviewer, Shop
from monitor.in_lists import id_filters

TABLES: dict[str, Any] = {"review": Review, "reviewer": Reviewer, "listing": Listing, "shop": Shop}


def load_targets(session: Session, target_type: str, ids: Iterable[int]) -> dict[int, Any]:
    table = TABLES[target_type]
    out: dict[int, Any] = {}
    for where in id_filters(table.id, ids):
        out.update({row.id: row for row in session.exec(select(table).where(where))})
    return out


def describe(target_type: str, row: Any, shops: dict[int, Shop]) -> dict[str, Any]:
    """The context columns an analyst reads: text, rating, shop name."""
    if target_type == "review":
        text = row.text if not row.title else f"{row.title}\n{row.text}"
        shop = shops.get(row.shop_id) if row.shop_id else None
        return {"text": text, "rating": row.rating, "shop": _shop_name(shop)}
    if target_type == "reviewer":
        return {"text": f"{row.nick or row.external_id} ({row.platform})"}
    if target_type == "listing":
        shop = shops.get(row.shop_id) if row.shop_id else None
        return {"text": row.title or row.url or "", "shop": _shop_name(shop)}
    return {"text": row.name or row.url or row.external_id, "shop": _shop_name(row)}


def _shop_name(shop: Shop | None) -> str | None:
    if shop is None:
        return None
    return shop.config_id or shop.name or shop.external_id
