"""Reputation from the database: gather review facts, assess them, store one snapshot per crawl.

The reads that need no assessment (snapshots, flag marks) are in reads.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from models.base import utcnow
from models.catalog import Listing, Shop
from models.crawl import CrawlRun
from models.reputation import ReputationSnapshot
from models.reviews import Review

from monitor.config import Settings
from monitor.platform_refs import find_listing, find_shop, ref_of
from monitor.reputation.checks import ReviewFact, Verdict, assess, signatures_by_id
from monitor.reputation.reads import flag_marks, history


def shop_facts(session: Session, shop_id: int) -> dict[int | None, list[ReviewFact]]:
    """The shop's rated, not deleted reviews as facts, grouped by listing."""
    rows = session.exec(
        select(Review.id, Review.listing_id, Review.rating, Review.created_at, Review.first_seen,
               Review.reviewer_id, Review.text)
        .where(Review.shop_id == shop_id, Review.rating.is_not(None), Review.deleted_at.is_(None))
        .order_by(Review.id)
    ).all()
    review_ids = {r[0] for r in rows}
    reviewer_ids = {r[5] for r in rows if r[5] is not None}
    removed, professional = flag_marks(session, review_ids, reviewer_ids)
    # Every review each of the shop's reviewers posted anywhere: one grouped query (the database
    # walks the reviewer index), not one per 500 reviewers.
    in_shop = select(Review.reviewer_id).where(Review.shop_id == shop_id, Review.reviewer_id.is_not(None))
    counts: dict[int, int] = dict(session.exec(  # type: ignore[arg-type]
        select(Review.reviewer_id, func.count(Review.id))
        .where(Review.reviewer_id.in_(in_shop.scalar_subquery()))
        .group_by(Review.reviewer_id)
    ).all()) if reviewer_ids else {}
    out: dict[int | None, list[ReviewFact]] = defaultdict(list)
    for rid, listing_id, rating, created_at, first_seen, reviewer_id, text in rows:
        out[listing_id].append(ReviewFact(
            id=rid, rating=rating, posted=created_at or first_seen, reviewer_id=reviewer_id, text=text or "",
            removed_because=tuple(sorted(removed.get(rid, ()))), professional=reviewer_id in professional,
            reviewer_reviews=counts.get(reviewer_id, 1) if reviewer_id is not None else 1,
        ))
    return out


def assess_shop(
    session: Session, settings: Settings, shop: Shop, listing_ids: Iterable[int] | None = None
) -> tuple[Verdict, dict[int, Verdict]]:
    """The shop's verdict and one per listing that has rated reviews, or, given ``listing_ids``,
    one for each of those (a listing without rated reviews gets an empty verdict)."""
    tz = ZoneInfo(settings.locale_for(shop.config_id).timezone)
    facts = shop_facts(session, shop.id)  # type: ignore[arg-type]
    everything = [f for group in facts.values() for f in group]
    signed = signatures_by_id(everything)  # once: the listings' tests reuse the shop's signatures
    if listing_ids is None:
        listing_ids = [lid for lid in facts if lid is not None]
    listings = {lid: assess(facts.get(lid, []), tz, signed) for lid in listing_ids}
    return assess(everything, tz, signed), listings


def latest_run(session: Session, shop: Shop) -> int | None:
    return session.exec(
        select(func.max(CrawlRun.id)).where(CrawlRun.shop_id == shop.id, CrawlRun.finished_at.is_not(None))
    ).one()


def snapshot_row(scope: str, target_id: int, shop_id: int | None, run_id: int | None, v: Verdict, now: datetime) -> ReputationSnapshot:
    d = v.as_dict()
    return ReputationSnapshot(scope=scope, target_id=target_id, shop_id=shop_id, crawl_run_id=run_id,
                              computed_at=now, **{k: d[k] for k in ("reviews", "removed", "rating",
                                                                    "adjusted_rating", "grade", "checks")})


def snapshot(session: Session, settings: Settings, *, now: datetime | None = None,
             shop_ids: Iterable[int] | None = None) -> int:
    """Store a snapshot for every shop (and its listings) crawled since its last snapshot.

    One per finished crawl run, so re-running the pipeline does not pile up copies; a shop that
    was never crawled (data loaded another way) gets a fresh snapshot each time.
    Returns the number of rows written.
    """
    now = now or utcnow()
    query = select(Shop).order_by(Shop.id)
    if shop_ids is not None:
        query = query.where(Shop.id.in_(list(shop_ids)))
    written = 0
    for shop in session.exec(query).all():
        run_id = latest_run(session, shop)
        if run_id is not None and session.exec(
            select(ReputationSnapshot.id).where(ReputationSnapshot.scope == "shop", ReputationSnapshot.target_id == shop.id,
                                                ReputationSnapshot.crawl_run_id == run_id)
        ).first() is not None:
            continue
        shop_verdict, listings = assess_shop(session, settings, shop)
        session.add(snapshot_row("shop", shop.id, shop.id, run_id, shop_verdict, now))  # type: ignore[arg-type]
        session.add_all(snapshot_row("listing", lid, shop.id, run_id, v, now) for lid, v in listings.items())
        written += 1 + len(listings)
    session.flush()
    return written


def listing_titles(session: Session, ids: Iterable[int]) -> dict[int, Listing]:
    ids = list(ids)
    return {x.id: x for x in session.exec(select(Listing).where(Listing.id.in_(ids))).all()} if ids else {}  # type: ignore[misc]


def current(session: Session, settings: Settings, *, shop: str | None = None,
            listing: str | None = None) -> list[dict[str, object]]:
    """Verdicts computed now: one entry per shop (with its listings worst first), or one listing.

    ``shop`` and ``listing`` are platform references (monitor.platform_refs): a shop's config id or
    platform id, a listing's item id, URL or ``platform:id``.
    """
    shops = [find_shop(session, shop)] if shop is not None else list(session.exec(select(Shop).order_by(Shop.id)).all())
    target = find_listing(session, listing) if listing is not None else None
    if target is not None:
        shops = [s for s in shops if s.id == target.shop_id]
    out: list[dict[str, object]] = []
    for s in shops:
        shop_verdict, listings = assess_shop(session, settings, s)
        titles = listing_titles(session, listings)
        rows = [
            {"scope": "listing", "id": lid, "ref": ref_of(titles.get(lid)), "title": titles[lid].title if lid in titles else None,
             **v.as_dict()}
            for lid, v in listings.items()
            if target is None or lid == target.id
        ]
        if target is not None and not rows:
            rows = [{"scope": "listing", "id": target.id, "ref": ref_of(target), "title": target.title,
                     **assess([], ZoneInfo("UTC")).as_dict()}]
        rows.sort(key=lambda r: (r["grade"], r["removed"]), reverse=True)  # type: ignore[operator]
        history_rows = history(session, "listing" if target else "shop", target.id if target else s.id)  # type: ignore[arg-type]
        out.append({
            "scope": "shop", "id": s.id, "ref": ref_of(s), "config_id": s.config_id,
            "name": s.name or s.config_id or s.external_id,
            **({} if target is not None else shop_verdict.as_dict()),
            "listings": rows,
            "history": [{"at": h.computed_at.isoformat(), "grade": h.grade, "rating": h.rating,
                         "adjusted_rating": h.adjusted_rating, "reviews": h.reviews, "removed": h.removed}
                        for h in history_rows],
        })
    return out
