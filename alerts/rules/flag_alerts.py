"""Alerts about flags: coordinated attacks (at once) and listing pictures that do not match (grouped)."""

from __future__ import annotations

from typing import Any, Literal

from sqlmodel import Session, select

from models.catalog import Listing, Shop
from models.detection import Flag
from models.reviews import Review

from alerts.rules.queue import AlertQueue, iso
from alerts.silences import AlertSubject

MEMBER_PREVIEW = 20


def names_of(session: Session, shop_ids: set[int], listing_ids: set[int]) -> tuple[dict[int, Shop], dict[int, Listing]]:
    shops = {s.id: s for s in session.exec(select(Shop).where(Shop.id.in_(shop_ids))).all()} if shop_ids else {}
    listings = (
        {x.id: x for x in session.exec(select(Listing).where(Listing.id.in_(listing_ids))).all()} if listing_ids else {}
    )
    return shops, listings


def _preview(flag: Flag) -> list[int]:
    """The member reviews an alert shows: the first ones, or for a later incident the newest."""
    return flag.members[-MEMBER_PREVIEW:][::-1] if flag.incident else flag.members[:MEMBER_PREVIEW]


def flag_alerts(q: AlertQueue, kind: Literal["attack", "image_mismatch"]) -> None:
    if q.unrouted(kind):
        return
    flags = list(q.session.exec(select(Flag).where(Flag.kind == kind, Flag.status != "rejected").order_by(Flag.id)).all())
    # A later, separate attack on the same target (Flag.incident) is news: it gets its own key.
    keys = {f"{kind}:flag:{f.id}" + (f":incident{f.incident}" if f.incident else ""): f for f in flags}
    done = q.existing(list(keys))
    todo = [(k, f) for k, f in keys.items() if k not in done]
    if not todo:
        return
    listing_ids = {f.listing_id or (f.target_id if f.target_type == "listing" else None) for _, f in todo} - {None}
    shops, listings = names_of(q.session, {f.shop_id for _, f in todo if f.shop_id}, listing_ids)  # type: ignore[arg-type]
    member_ids = sorted({m for _, f in todo for m in _preview(f)})
    members = (
        {r.id: r for r in q.session.exec(select(Review).where(Review.id.in_(member_ids))).all()} if member_ids else {}
    )
    for key, flag in todo:
        listing_id = flag.listing_id or (flag.target_id if flag.target_type == "listing" else None)
        listing = listings.get(listing_id) if listing_id else None
        shop_id = flag.shop_id or (listing.shop_id if listing else None)
        shop = shops.get(shop_id) if shop_id else None
        payload: dict[str, Any] = {
            "flag_id": flag.id,
            "target_type": flag.target_type,
            "target_id": flag.target_id,
            "shop_id": shop_id,
            "shop_name": (shop.name or shop.config_id or shop.external_id) if shop else None,
            "shop_config_id": shop.config_id if shop else None,
            "listing_id": listing_id,
            "item_title": listing.title if listing else None,
            "listing_url": listing.url if listing else None,
            "score": round(float(flag.score), 3),
            "label": flag.label,
            "model_version": flag.model_version,
            "reasons": list(flag.reasons),
        }
        if kind == "attack":
            payload["member_count"] = len(flag.members)
            payload["members"] = [
                {
                    "review_id": m,
                    "buyer_nick": members[m].reviewer_nick,
                    "rating": members[m].rating,
                    "text": (members[m].text or "")[:200],
                    "at": iso(members[m].created_at or members[m].first_seen),
                }
                for m in _preview(flag)
                if m in members
            ]
        q.add(
            kind=kind,
            dedup_key=key,
            scope=f"shop{shop_id}",
            payload=payload,
            severity="critical" if kind == "attack" else "medium",
            subject=AlertSubject(kind, shop_id, listing_id, flag.reviewer_id),
            # An attack is worth interrupting for; a picture mismatch can wait for its group.
            immediate=kind == "attack",
        )
