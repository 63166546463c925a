"""Several processes writing one database at once: crawls storing the same shop into a fresh
database, then post-crawl processing in each. Every natural key is written once (INSERT ... ON
CONFLICT), nothing fails, nothing is doubled. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from models import Case, Flag, Listing, ModelVersion, Review, Reviewer, Shop
from monitor.config import load_settings
from monitor.db import dispose_engines, get_engine, upgrade
from monitor.pipeline import process
from spiders.item_rows import ensure_shop
from spiders.storage import ItemStore

WORKERS = 3
T0 = datetime(2026, 5, 1, tzinfo=UTC)
TEXTS = ["不给我退钱就天天给你差评，让你店开不下去", "质量很差，用了一天就坏了", "物流很快，东西不错，好评",
         "colour is nothing like the photo", "Great value, works as described"]


def _items() -> list[dict]:
    out = []
    for n in range(60):
        out.append({
            "platform": "taobao", "review_id": f"r{n}", "listing_id": f"L{n % 4}", "rating": 1 + n % 5,
            "text": f"{TEXTS[n % len(TEXTS)]} #{n}", "created_at": (T0 + timedelta(hours=n)).isoformat(),
            "reviewer_nick": f"u***{n % 7}", "raw": {"userMark": f"user-{n % 7}"},
        })
    return out


def _worker(url: str, data_dir: str, barrier, errors) -> None:  # noqa: ANN001
    try:
        settings = load_settings(data_dir=Path(data_dir), database_url=url)
        barrier.wait(timeout=60)
        with Session(get_engine(settings)) as session:
            shop_id = ensure_shop(session, "taobao", "tea-house", name="Tea House").id
            session.commit()
        store = ItemStore(settings, shop_id=shop_id, platform="taobao", now=T0 + timedelta(days=3))
        for item in _items():
            store.store_listing({"platform": "taobao", "listing_id": item["listing_id"], "title": "tea"})
            store.store_review(item)
        store.close()
        barrier.wait(timeout=120)  # every worker processes the same new reviews at once
        process(settings, now=T0 + timedelta(days=3))
    except BaseException:  # noqa: BLE001  (reported to the parent, which fails the test)
        errors.put(traceback.format_exc())
        barrier.abort()


def test_workers_storing_and_processing_the_same_shop_write_every_row_once(database_url: str, tmp_path: Path):
    settings = load_settings(data_dir=tmp_path / "data", database_url=database_url)
    upgrade(settings)
    dispose_engines()  # no pooled connection may be shared with the forked workers
    ctx = multiprocessing.get_context("fork")
    barrier, errors = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(database_url, str(tmp_path / "data"), barrier, errors))
             for _ in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    failures = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert not failures, failures[0]
    assert [p.exitcode for p in procs] == [0] * WORKERS

    with Session(get_engine(settings)) as s:
        count = lambda model: s.exec(select(func.count()).select_from(model)).one()  # noqa: E731
        assert (count(Shop), count(Listing), count(Reviewer), count(Review)) == (1, 4, 7, 60)
        versions = Counter(s.exec(select(ModelVersion.name)).all())
        assert versions and set(versions.values()) == {1}, versions  # one bootstrapped version per model
        flags = Counter((f.kind, f.target_type, f.target_id) for f in s.exec(select(Flag)))
        assert flags and max(flags.values()) == 1, [k for k, v in flags.items() if v > 1]
        reviews_with_case = [c.review_id for c in s.exec(select(Case).where(Case.review_id.is_not(None)))]
        assert reviews_with_case and len(reviews_with_case) == len(set(reviews_with_case))
