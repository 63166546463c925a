"""Alert delivery benchmark; prints JSON.

1. throughput: N alerts (default 10k) for serious bad reviews spread over shops of uneven size
   are queued by the rules and then rendered and delivered by ``send_pending`` to a local
   aiosmtpd server. Reports alerts/s, emails/s and the share of alerts that went out grouped
   (in an email together with at least one other alert). Also times rendering alone.
2. latency: a new 1-star review is published on the local demo marketplace; we crawl the shop
   (real spider, subprocess), run the post-crawl steps and send, and time until the email
   arrives at the SMTP server. The end-to-end bound is one crawl interval plus this time.
3. outage: the server down for 10 simulated minutes, then a 4xx storm, then drop-after-DATA
   (see benchmarks/alerts_outage.py); prints lost and duplicated alerts (target 0 and 0).

Usage: .venv/bin/python benchmarks/alerts.py [--alerts 10000] [--outage-alerts 300] [--skip-latency]
       [--only-outage]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session, select  # noqa: E402

from alerts.cases import open_cases  # noqa: E402
from alerts.render import build_message  # noqa: E402
from alerts.rules import evaluate  # noqa: E402
from alerts.sender import send_pending  # noqa: E402
from models import Alert, Listing, Review, Reviewer, Shop  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.db import get_engine, upgrade  # noqa: E402

from benchmarks import benchdb  # noqa: E402
from benchmarks.alerts_outage import outage  # noqa: E402

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECIPIENTS = {"serious_case": ["service@bench.example"], "attack": ["security@bench.example"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[float, bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802, ANN201
        self.messages.append((time.perf_counter(), envelope.original_content or envelope.content))
        return "250 OK"


def start_smtp():  # noqa: ANN201
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, sink, port


def seed(settings, n_alerts: int, rng: random.Random) -> int:
    """Shops of uneven size (1 to 120 serious reviews) until ``n_alerts`` reviews exist."""
    with Session(get_engine(settings)) as session:
        made = s = 0
        while made < n_alerts:
            size = min(n_alerts - made, rng.choice([1, 1, 2, 3, 5, 8, 20, 50, 120]))
            shop = Shop(platform="jd", external_id=f"s{s}", name=f"Bench shop {s}")
            session.add(shop)
            session.flush()
            listing = Listing(platform="jd", external_id=f"l{s}", shop_id=shop.id, title=f"Item {s}", sales=5000,
                              url=f"https://item.bench.example/{s}")
            session.add(listing)
            session.flush()
            reviewers = [Reviewer(platform="jd", external_id=f"u{s}-{i}", nick=f"n***{i}") for i in range(size)]
            session.add_all(reviewers)
            session.flush()
            session.add_all(
                Review(platform="jd", external_id=f"r{s}-{i}", listing_id=listing.id, shop_id=shop.id,
                       reviewer_id=reviewers[i].id, reviewer_nick=f"n***{i}", rating=1,
                       text="收到的茶叶受潮了，包装也破了 <b>差评</b>", first_seen=T0, created_at=T0)
                for i in range(size)
            )
            made += size
            s += 1
        session.commit()
    return s


def throughput(n_alerts: int) -> dict:
    rng = random.Random(7)
    controller, sink, port = start_smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(
                data_dir=Path(tmp),
                alerts={"recipients": RECIPIENTS, "group_window_minutes": 5},
                smtp={"host": "127.0.0.1", "port": port, "security": "none", "sender": "shopmon@bench.example"},
            )
            upgrade(settings)
            shops = seed(settings, n_alerts, rng)
            t = time.perf_counter()
            with Session(get_engine(settings)) as session:
                cases = open_cases(session, settings, now=T0)
                session.commit()
            open_s = time.perf_counter() - t
            t = time.perf_counter()
            with Session(get_engine(settings)) as session:
                queued = evaluate(session, settings, now=T0)
                session.commit()
            evaluate_s = time.perf_counter() - t

            t = time.perf_counter()
            summary = send_pending(settings, now=T0 + timedelta(minutes=5))
            send_s = time.perf_counter() - t

            per_email = [len(message_from_bytes(raw, policy=policy.default)["X-Shopmon-Alerts"].split(",")) for _, raw in sink.messages]
            grouped = sum(n for n in per_email if n > 1)

            with Session(get_engine(settings)) as session:
                alerts = session.exec(select(Alert)).all()
                sample = [(a.id, a.payload, a.severity) for a in alerts]
            t = time.perf_counter()
            for item in sample:
                build_message(settings, "serious_case", [item], ["service@bench.example"], now=T0)
            render_s = time.perf_counter() - t
    finally:
        controller.stop()
    return {
        "alerts": n_alerts,
        "shops": shops,
        "cases_opened": cases,
        "alerts_queued": queued,
        "open_cases_seconds": round(open_s, 3),
        "evaluate_seconds": round(evaluate_s, 3),
        "send_seconds": round(send_s, 3),
        "delivered_alerts": summary.sent,
        "emails_received": len(sink.messages),
        "alerts_per_second": round(summary.sent / send_s, 1),
        "emails_per_second": round(len(sink.messages) / send_s, 1),
        "share_grouped": round(grouped / max(sum(per_email), 1), 4),
        "mean_alerts_per_email": round(sum(per_email) / max(len(per_email), 1), 2),
        "render_only_single_alert_emails_per_second": round(len(sample) / render_s, 1),
    }


def latency() -> dict:
    from monitor.crawl import crawl_shop
    from tests.market_driver import serve_marketplace

    try:
        from monitor.detection import detect  # noqa: F401

        from monitor.pipeline import process

        steps = "crawl -> monitor.pipeline.process (detect, open_cases, evaluate) -> send_pending"
    except ImportError:
        process = None
        steps = "crawl -> open_cases -> evaluate -> send_pending (monitor.detection.detect not available yet)"

    def after_crawl(settings) -> None:
        if process is not None:
            process(settings)
            return
        with Session(get_engine(settings)) as session:
            open_cases(session, settings)
            evaluate(session, settings)
            session.commit()

    controller, sink, port = start_smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp, serve_marketplace() as market:
            shop = next(s for s in market.shops() if s["platform"] == "taobao")
            settings = load_settings(
                data_dir=Path(tmp),
                shops=[shop],
                alerts={"recipients": RECIPIENTS, "group_window_minutes": 0},
                smtp={"host": "127.0.0.1", "port": port, "security": "none", "sender": "shopmon@bench.example"},
                crawl={"download_delay": 0, "autothrottle": False, "concurrency_per_domain": 8},
            )
            upgrade(settings)
            cfg = settings.shops[0]
            first = crawl_shop(settings, cfg)
            after_crawl(settings)
            send_pending(settings)
            before = len(sink.messages)

            listing = next(sh for sh in market.data["shops"] if sh["id"] == cfg.id)["listings"][0]
            marker = f"bench-{int(time.time())}: 茶叶发霉了，要求退款"
            t0 = time.perf_counter()
            market.add_reviews(listing["id"], [{"rating": 1, "text": marker, "nick": "b***h", "helpful": 12}])
            run = crawl_shop(settings, cfg)
            t_crawl = time.perf_counter()
            after_crawl(settings)
            t_rules = time.perf_counter()
            send_pending(settings)
            arrived = None
            deadline = time.perf_counter() + 30
            while arrived is None and time.perf_counter() < deadline:
                for at, raw in sink.messages[before:]:
                    if marker.encode() in raw or marker in message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content():
                        arrived = at
                        break
                else:
                    time.sleep(0.05)
    finally:
        controller.stop()
    return {
        "steps": steps,
        "shop": cfg.id,
        "first_crawl_status": first.status,
        "incremental_crawl_status": run.status,
        "incremental_crawl_full": run.full,
        "crawl_seconds": round(t_crawl - t0, 2),
        "rules_seconds": round(t_rules - t_crawl, 3),
        "crawl_end_to_email_seconds": round(arrived - t_crawl, 3) if arrived else None,
        "review_to_email_seconds": round(arrived - t0, 2) if arrived else None,
        "crawl_interval_minutes": cfg.interval_minutes,
        # Worst case: the review appears just after a crawl and waits one interval for the next.
        "worst_case_seconds": round(cfg.interval_minutes * 60 + (arrived - t0), 1) if arrived else None,
        "target_seconds": cfg.interval_minutes * 60 + 10,
        "meets_target": arrived is not None and arrived - t0 <= 10,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--outage-alerts", type=int, default=300)
    parser.add_argument("--only-outage", action="store_true")
    benchdb.add_argument(parser)
    args = parser.parse_args()
    out: dict = {"benchmark": "alerts", "database": benchdb.backend(args.database_url)}
    if not args.only_outage:
        with benchdb.database(args.database_url, "alerts_tp"):
            out["throughput"] = throughput(args.alerts)
        if not args.skip_latency:
            with benchdb.database(args.database_url, "alerts_latency"):
                out["latency"] = latency()
    with benchdb.database(args.database_url, "alerts_outage"):
        out["outage"] = outage(args.outage_alerts, seed, RECIPIENTS, T0, free_port)
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
