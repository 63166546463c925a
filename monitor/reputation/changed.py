"""The pipeline's reputation step: new rows only for the shops and listings whose facts changed.

Whatever changes a review fact writes an outbox row for the consumer ``reputation``: detection
(the reviews it scored, new or edited; the reviewer and attack flags it wrote or changed), the
crawl (reviews confirmed deleted) and analysts' labels (a flag confirmed or rejected); a writer
that knows only the listing names the listing. A run with nothing new reads nothing else; a
touched listing gets a new listing row, its shop a new shop row, and every other listing keeps
its latest row (``store.latest``). The rows are summed from the stored per-review facts
(``facts``, counted in ``tallies``), which this step first brings up to date from the same outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from models.base import utcnow
from models.catalog import Listing, Shop
from models.detection import Flag
from models.reviews import Review

from monitor import outbox
from monitor.config import Settings
from monitor.in_lists import id_filters
from monitor.reputation import facts, tallies
from monitor.reputation.checks import assess_tally
from monitor.reputation.store import latest_run, snapshot_row

CONSUMER = "reputation"


def _listings_of_reviews(session: Session, column: Any, ids: Iterable[int]) -> set[int]:
    out: set[int] = set()
    for where in id_filters(column, ids):
        out.update(session.exec(select(Review.listing_id).where(where).distinct()).all())
    return out


def touched_listings(session: Session, changed: dict[str, set[int]]) -> set[int]:
    """The listings whose review facts the outbox rows touch."""
    listings = set(changed.get("listing", ()))
    reviewers: set[int] = set()
    members: set[int] = set(changed.get("review", ()))
    for where in id_filters(Flag.id, changed.get("flag", ())):
        for target_type, target_id, listing_id, flag_members in session.exec(
            select(Flag.target_type, Flag.target_id, Flag.listing_id, Flag.members).where(where)
        ):
            listings.add(listing_id)
            if target_type == "reviewer":  # a professional mark changes every listing the account reviewed
                reviewers.add(target_id)
            elif target_type == "review":
                members.add(target_id)
            members.update(flag_members or [])  # an attack's reviews
    listings |= _listings_of_reviews(session, Review.reviewer_id, reviewers)
    listings |= _listings_of_reviews(session, Review.id, members)
    listings.discard(None)  # type: ignore[arg-type]
    return listings


def update_facts(session: Session, settings: Settings, changed: dict[str, set[int]]) -> set[int]:
    """Bring the stored facts up to date with the outbox; returns listings that held a changed
    review before the change (a moved or deleted review's old listing)."""
    reviews = set(changed.get("review", ()))
    reviews |= facts.reviews_of_listings(session, changed.get("listing", ()))
    flag_reviews, flag_reviewers = facts.flag_targets(session, set(changed.get("flag", ())))
    dirty = tallies.Dirty()
    moved = facts.update_reviews(session, settings, reviews, dirty)
    facts.refresh_flags(session, flag_reviews, flag_reviewers, dirty)
    tallies.recount(session, dirty)
    return moved


def snapshot_changed(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """Rows for the listings the outbox names and for their shops; returns the rows written.

    Shops without stored facts (the first run after the upgrade that added them, a new shop)
    are built first, whether or not the outbox names them; an untouched shop costs nothing.
    """
    changed = outbox.take(session, CONSUMER)
    facts.build_missing(session, settings)
    if not changed:
        session.flush()
        return 0
    now = now or utcnow()
    listing_ids = touched_listings(session, changed) | update_facts(session, settings, changed)
    session.flush()
    listing_shop: dict[int, int] = {}
    for where in id_filters(Listing.id, listing_ids):
        listing_shop.update(session.exec(select(Listing.id, Listing.shop_id).where(where)).all())
    shop_ids = set(changed.get("shop", ())) | set(listing_shop.values())
    shop_ids.discard(None)  # type: ignore[arg-type]
    written = 0
    for where in id_filters(Shop.id, shop_ids):
        for shop in session.exec(select(Shop).where(where).order_by(Shop.id)).all():
            # A touched listing left without rated reviews gets its empty row too, not a stale one.
            mine = sorted(lid for lid, sid in listing_shop.items() if sid == shop.id)
            listing_tallies = tallies.tally_listings(session, mine)
            run_id = latest_run(session, shop)
            session.add(snapshot_row("shop", shop.id, shop.id, run_id,  # type: ignore[arg-type]
                                     assess_tally(tallies.tally_shop(session, shop.id)), now))  # type: ignore[arg-type]
            session.add_all(snapshot_row("listing", lid, shop.id, run_id, assess_tally(listing_tallies[lid]), now)  # type: ignore[arg-type]
                            for lid in mine)
            written += 1 + len(mine)
    session.flush()
    return written
