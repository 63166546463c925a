"""Numbers for the daily digest and the weekly report, computed from the database.

Every figure has one definition of "in this period": review figures (counts, causes, the
rating trend, attacks) go by when the buyer posted the review (first seen when the page shows
no date); case figures go by the case's events (see alerts.report_cases); crawl figures by when
the crawl started. Days are the team's local days.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from models.alerts import Alert
from models.catalog import Listing, Shop
from models.crawl import CrawlRun
from models.detection import Flag
from models.reviews import Review

from alerts.report_cases import case_figures
from monitor.config import Settings
from monitor.in_lists import id_filters
from monitor.reputation.reads import flag_marks, latest

WORST_LISTINGS = 5
GRADE_BADNESS = {"F": 5, "D": 4, "C": 3, "B": 2, "A": 1}


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: datetime
    end: datetime


def report_period(settings: Settings, kind: str, now: datetime) -> Period:
    """The local day (digest) or ISO week (report) that ended most recently before ``now``.

    Days are the team's local days (settings.alerts.timezone), so a digest sent at 08:00
    Beijing time covers yesterday in Beijing, not a UTC day split across two.
    """
    tz = ZoneInfo(settings.alerts.timezone)
    local = now.astimezone(tz)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "daily_digest":
        start = today - timedelta(days=1)
        end = today
        label = start.date().isoformat()
    else:
        monday = today - timedelta(days=today.weekday())
        start = monday - timedelta(days=7)
        end = monday
        year, week, _ = start.isocalendar()
        label = f"{year}-W{week:02d}"
    return Period(kind, label, start, end)


@dataclass(frozen=True)
class _Posted:
    id: int
    listing_id: int | None
    rating: int | None
    posted: datetime
    cause: str | None


def _mean(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _posted_reviews(session: Session, start: datetime, end: datetime) -> list[_Posted]:
    """Reviews the buyer posted in [start, end), each with its after-sales cause when known."""
    posted_at = func.coalesce(Review.created_at, Review.first_seen)
    rows = session.exec(
        select(Review.id, Review.listing_id, Review.rating, Review.created_at, Review.first_seen)
        .where(posted_at >= start, posted_at < end)
    ).all()
    ids = [r[0] for r in rows]
    causes: dict[int, tuple[float, str]] = {}
    for where in id_filters(Flag.target_id, ids):
        for target_id, label, score in session.exec(
            select(Flag.target_id, Flag.label, Flag.score).where(
                Flag.kind == "cause", Flag.target_type == "review", Flag.status != "rejected", where
            )
        ).all():
            if label and score > causes.get(target_id, (-1.0, ""))[0]:
                causes[target_id] = (score, label)
    return [
        _Posted(rid, listing_id, rating, created_at or first_seen, causes[rid][1] if rid in causes else None)
        for rid, listing_id, rating, created_at, first_seen in rows
    ]


def _days(start: datetime, end: datetime, tz: ZoneInfo) -> list[str]:
    day, last, out = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date(), []
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def review_figures(session: Session, settings: Settings, period: Period) -> dict[str, Any]:
    """Counts, causes per day and the rating trend (with the adjusted rating), all by posted time."""
    tz = ZoneInfo(settings.alerts.timezone)
    start, end = period.start, period.end
    max_rating = settings.detection.case_max_rating
    # The trend also shows the same span before the period, so it can say "better or worse".
    trend_start = start - (end - start)
    every = _posted_reviews(session, trend_start, end)
    removed, _ = flag_marks(session, {r.id for r in every}, set())
    current = [r for r in every if r.posted >= start]
    bad = [r for r in current if r.rating is not None and r.rating <= max_rating]

    per_day: dict[str, list[_Posted]] = defaultdict(list)
    for r in every:
        per_day[r.posted.astimezone(tz).date().isoformat()].append(r)
    trend = []
    for day in _days(trend_start, end, tz):
        rated = [r for r in per_day.get(day, []) if r.rating is not None]
        trend.append({
            "day": day,
            "current": day >= start.astimezone(tz).date().isoformat(),
            "reviews": len(per_day.get(day, [])),
            "avg_rating": _mean([r.rating for r in rated]),  # type: ignore[misc]
            "adjusted_avg": _mean([r.rating for r in rated if r.id not in removed]),  # type: ignore[misc]
        })
    daily_bad = {day: dict(Counter(r.cause or "unclassified" for r in bad if r.posted.astimezone(tz).date().isoformat() == day))
                 for day in _days(start, end, tz)}
    rated_now = [r.rating for r in current if r.rating is not None]
    rated_before = [r.rating for r in every if r.posted < start and r.rating is not None]
    return {
        "reviews_new": len(current),
        "bad_reviews_new": len(bad),
        "by_cause": dict(Counter(r.cause or "unclassified" for r in bad).most_common()),
        "daily_bad_by_cause": daily_bad,
        "rating": {
            "avg": _mean(rated_now),  # type: ignore[arg-type]
            "adjusted_avg": _mean([r.rating for r in current if r.rating is not None and r.id not in removed]),  # type: ignore[misc]
            "previous_avg": _mean(rated_before),  # type: ignore[arg-type]
            "trend": trend,
        },
        "shops": _shop_grades(session),
        "worst_listings": _worst_listings(session, bad),
        "attacks": _attacks(session, start, end),
    }


def _shop_grades(session: Session) -> list[dict[str, Any]]:
    """Each shop's latest reputation snapshot (stored after every crawl)."""
    grades = latest(session, "shop")
    shops = {s.id: s for s in session.exec(select(Shop).where(Shop.id.in_(list(grades)))).all()} if grades else {}
    return [
        {"shop_id": sid, "name": (shops[sid].name or shops[sid].config_id) if sid in shops else None,
         "grade": snap.grade, "rating": snap.rating, "adjusted_rating": snap.adjusted_rating,
         "reviews": snap.reviews, "removed": snap.removed}
        for sid, snap in sorted(grades.items())
    ]


def _worst_listings(session: Session, bad: list[_Posted]) -> list[dict[str, Any]]:
    """Listings with the most bad reviews in the period, then the worst grade, with their reputation."""
    counts = Counter(r.listing_id for r in bad if r.listing_id is not None)
    grades = latest(session, "listing")
    poor = {lid for lid, snap in grades.items() if snap.grade in ("D", "F")}
    ids = set(counts) | poor
    if not ids:
        return []
    listings = {x.id: x for x in session.exec(select(Listing).where(Listing.id.in_(ids))).all()}
    ranked = sorted(ids, key=lambda i: (-counts.get(i, 0), -GRADE_BADNESS.get(grades[i].grade if i in grades else "", 0), i))
    out = []
    for lid in ranked[:WORST_LISTINGS]:
        snap = grades.get(lid)
        listing = listings.get(lid)
        out.append({
            "listing_id": lid,
            "title": listing.title if listing else None,
            "url": listing.url if listing else None,
            "bad_reviews": counts.get(lid, 0),
            "grade": snap.grade if snap else None,
            "rating": snap.rating if snap else None,
            "adjusted_rating": snap.adjusted_rating if snap else None,
        })
    return out


def _attacks(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Attack flags with member reviews posted in the period (an attack is dated by its reviews)."""
    flags = session.exec(select(Flag).where(Flag.kind == "attack", Flag.status != "rejected").order_by(Flag.id)).all()
    member_ids = sorted({m for f in flags for m in f.members})
    posted: dict[int, datetime] = {}
    for where in id_filters(Review.id, member_ids):
        for rid, created_at, first_seen in session.exec(
            select(Review.id, Review.created_at, Review.first_seen).where(where)
        ).all():
            posted[rid] = created_at or first_seen
    listing_ids = {f.listing_id for f in flags if f.listing_id}
    titles = dict(session.exec(select(Listing.id, Listing.title).where(Listing.id.in_(listing_ids))).all()) if listing_ids else {}
    shop_ids = {f.shop_id for f in flags if f.shop_id}
    shops = {s.id: s for s in session.exec(select(Shop).where(Shop.id.in_(shop_ids))).all()} if shop_ids else {}
    out = []
    for f in flags:
        times = sorted(posted[m] for m in f.members if m in posted and start <= posted[m] < end)
        if not times:
            continue
        shop = shops.get(f.shop_id)
        out.append({
            "flag_id": f.id,
            "target_type": f.target_type,
            "target": titles.get(f.listing_id) or (shop.name or shop.config_id if shop else None) or f"{f.target_type} {f.target_id}",
            "reviews": len(times),
            "first": times[0].isoformat(),
            "last": times[-1].isoformat(),
            "reasons": list(f.reasons)[:3],
        })
    return out


def crawl_figures(session: Session, period: Period) -> dict[str, Any]:
    """Crawls started in the period: how many, how many failed and why, reviews they brought."""
    runs = session.exec(
        select(CrawlRun).where(CrawlRun.started_at >= period.start, CrawlRun.started_at < period.end)
    ).all()
    failed = [r for r in runs if r.status == "failed"]
    return {
        "runs": len(runs),
        "ok": sum(1 for r in runs if r.status == "ok"),
        "failed": len(failed),
        "failures": dict(Counter(r.failure_kind or "error" for r in failed).most_common()),
        "reviews_new": sum(r.reviews_new for r in runs),
    }


def report_stats(session: Session, settings: Settings, period: Period, *, now: datetime) -> dict[str, Any]:
    """Everything the digest and the weekly report show, as plain JSON-able values."""
    start, end = period.start, period.end
    by_flag = dict(
        session.exec(
            select(Flag.kind, func.count(Flag.id))
            .where(Flag.created_at >= start, Flag.created_at < end, Flag.status != "rejected")
            .group_by(Flag.kind)
        ).all()
    )
    sent = dict(
        session.exec(
            select(Alert.kind, func.count(Alert.id)).where(Alert.sent_at >= start, Alert.sent_at < end).group_by(Alert.kind)
        ).all()
    )
    return {
        "period": {"kind": period.kind, "label": period.label, "start": start.isoformat(), "end": end.isoformat()},
        **review_figures(session, settings, period),
        **case_figures(session, settings, start, end, now=now),
        "by_flag": dict(Counter(by_flag).most_common()),
        "crawl": crawl_figures(session, period),
        "alerts_sent": sent,
    }
