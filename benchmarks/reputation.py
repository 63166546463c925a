"""Reputation and weekly-report benchmark; prints JSON.

A shop of N reviews (default 50k) over L listings, posted across 90 days, with a few attacks
and text-flagged reviews, is stored; then we time, in wall and CPU seconds:

1. ``snapshot``: the post-crawl step that assesses the shop and every listing (adjusted rating,
   six tests incl. MinHash near-duplicates) and stores one row each;
2. ``report_stats`` for the last ISO week;
3. ``build_message`` for the weekly report (three matplotlib charts as inline images).

Usage: .venv/bin/python benchmarks/reputation.py [--reviews 50000] [--listings 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

import benchdb  # noqa: E402
from alerts.render import build_message  # noqa: E402
from alerts.reports import report_period, report_stats  # noqa: E402
from models import Flag, Listing, Review, Reviewer, Shop  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.db import get_engine, upgrade  # noqa: E402
from monitor.reputation.store import snapshot  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORDS = ("good", "tea", "fresh", "slow", "courier", "aroma", "bitter", "gift", "price", "tin", "leaves", "cup",
         "again", "broken", "sweet", "smoky", "green", "box", "fast", "cheap", "strong", "mild", "spring")


def _timed(fn):  # noqa: ANN001, ANN202
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def build(session: Session, n_reviews: int, n_listings: int, rng: random.Random) -> None:
    shop = Shop(platform="taobao", external_id="bench-shop", config_id="bench", name="Bench shop")
    session.add(shop)
    session.flush()
    listings = [Listing(platform="taobao", external_id=f"L{i}", shop_id=shop.id, title=f"item {i}")
                for i in range(n_listings)]
    session.add_all(listings)
    n_reviewers = max(1, n_reviews * 2 // 3)
    session.execute(insert(Reviewer), [{"platform": "taobao", "external_id": f"u{i}", "nick": f"u***{i % 10}",
                                        "extra": {}, "first_seen": NOW} for i in range(n_reviewers)])
    session.flush()
    rows = []
    for i in range(n_reviews):
        posted = NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
        rows.append({
            "platform": "taobao", "external_id": f"r{i}", "listing_id": listings[rng.randrange(n_listings)].id,
            "shop_id": shop.id, "reviewer_id": 1 + rng.randrange(n_reviewers), "rating": rng.choice((1, 2, 3, 4, 5, 5, 5, 4)),
            "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 20))), "created_at": posted,
            "first_seen": posted, "last_seen": posted, "photos": [], "raw": {},
        })
    for start in range(0, len(rows), 5000):
        session.execute(insert(Review), rows[start : start + 5000])
    # Ten attacks of 30 one-star reviews, and 1 % of reviews flagged by the text models.
    first = n_reviews
    for a in range(10):
        listing = listings[a]
        at = NOW - timedelta(days=3 + a)
        members = [{"platform": "taobao", "external_id": f"a{a}-{k}", "listing_id": listing.id, "shop_id": shop.id,
                    "reviewer_id": 1 + rng.randrange(n_reviewers), "rating": 1, "text": "fake product, scam shop, do not buy",
                    "created_at": at + timedelta(minutes=k), "first_seen": at, "last_seen": at, "photos": [], "raw": {}}
                   for k in range(30)]
        session.execute(insert(Review), members)
        ids = list(range(first + 1, first + 31))
        first += 30
        session.add(Flag(kind="attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                         shop_id=shop.id, score=0.99, model_version="bench", members=ids, reasons=["bench"]))
    for rid in rng.sample(range(1, n_reviews + 1), n_reviews // 100):
        session.add(Flag(kind="malicious", target_type="review", target_id=rid, score=0.9, model_version="bench"))
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=50_000)
    parser.add_argument("--listings", type=int, default=200)
    benchdb.add_argument(parser)
    args = parser.parse_args()
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp, benchdb.database(args.database_url) as url:
        settings = load_settings(data_dir=Path(tmp), **({"database_url": url} if url else {}))
        upgrade(settings)
        with Session(get_engine(settings), expire_on_commit=False) as session:
            _, build_s, _ = _timed(lambda: build(session, args.reviews, args.listings, rng))
            rows, snap_wall, snap_cpu = _timed(lambda: snapshot(session, settings, now=NOW))
            session.commit()
            period = report_period(settings, "weekly_report", NOW)
            payload, rep_wall, rep_cpu = _timed(lambda: report_stats(session, settings, period, now=NOW))
        msg, mail_wall, mail_cpu = _timed(
            lambda: build_message(settings, "weekly_report", [(1, payload, "low")], ["boss@bench.example"], now=NOW)
        )
    print(json.dumps({
        "backend": benchdb.backend(args.database_url),
        "reviews": args.reviews + 300, "listings": args.listings, "build_seconds": build_s,
        "snapshot": {"rows": rows, "wall_seconds": snap_wall, "cpu_seconds": snap_cpu},
        "weekly_report_stats": {"reviews_in_week": payload["reviews_new"], "wall_seconds": rep_wall, "cpu_seconds": rep_cpu},
        "weekly_email": {"bytes": len(msg.as_bytes()), "wall_seconds": mail_wall, "cpu_seconds": mail_cpu},
    }, indent=2))


if __name__ == "__main__":
    main()
