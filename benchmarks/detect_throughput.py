"""Detection speed and memory on synthetic stored reviews; prints JSON.

* throughput: reviews scored per second on one core over ``--reviews`` (default 100,000)
  reviews in SQLite. Runs ``monitor.detection.detect`` (text models + reviewer/attack
  detection) when that entry point exists, and the behaviour half (``behaviour.run``) on its
  own either way, each on its own copy of the database. First-use training of the seed models
  is timed apart and reported both ways. Target >= 5,000 reviews/s.
* memory: peak resident memory of a fresh process running the same full detection (the
  behaviour half alone with ``--skip-detect``) over ``--memory-reviews`` (default 1,000,000)
  stored reviews. Target <= 1 GB. Several sizes (``--memory-reviews 1000000,3000000``) show how
  the peak grows with what is stored; each run is also reported as reviews per CPU second.

On PostgreSQL each generated database is vacuumed and analysed (``benchdb.vacuum_analyze``)
before it is measured, as autovacuum would have done after the bulk load.

The database is generated: 5 shops, 200 listings, one reviewer per ~3 reviews, Chinese and
English texts combined from phrase lists (every text different), ratings skewed positive like
real shops, a few planted attacks (template rings and bursts).

Usage: python benchmarks/detect_throughput.py [--reviews N] [--memory-reviews N[,N...]] [--skip-memory]
       [--skip-throughput] [--skip-detect] [--database-url URL]
"""

from __future__ import annotations

import os

# One core: set before numpy/scipy load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

# The repository root first: benchmarks/alerts.py would otherwise shadow the alerts package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import benchdb  # noqa: E402

ZH = ["质量很好", "物流很快", "包装完好", "颜色和图片一样", "尺码合适", "客服态度很好", "性价比高", "做工精细",
      "面料舒服", "会回购", "有色差", "发货太慢", "线头很多", "味道很大", "尺码偏小", "客服不理人", "少发了配件",
      "快递压坏了", "穿一次就破了", "和描述不符"]
EN = ["great quality", "fast shipping", "well packed", "colour as pictured", "fits well", "friendly support",
      "good value", "solid stitching", "soft fabric", "would buy again", "colour is off", "shipping was slow",
      "loose threads", "strong smell", "runs small", "seller ignored me", "missing parts", "box arrived crushed",
      "tore after one wear", "not as described"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _detail(rng: random.Random, chinese: bool) -> str:
    """What makes each real review its own: here random characters or made-up words."""
    if chinese:
        return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(10))
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randrange(3, 8))) for _ in range(5))


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def generate(settings, n_reviews: int, seed: int = 0) -> None:  # noqa: ANN001
    """Bulk-insert a synthetic shop history with SQL core (no ORM objects)."""
    from sqlalchemy import insert

    from models import Listing, Review, Reviewer, Shop
    from monitor.db import get_engine, upgrade

    upgrade(settings)
    rng = random.Random(seed)
    engine = get_engine(settings)
    n_reviewers = max(10, n_reviews // 3)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Shop), [{"platform": "taobao", "external_id": f"S{i}", "dsr": {}, "created_at": now}
                                    for i in range(5)])
        conn.execute(insert(Listing), [
            {"platform": "taobao", "external_id": f"L{i}", "shop_id": i % 5 + 1, "title": f"item {i}",
             "attributes": {}, "skus": [], "raw": {}, "first_seen": now, "last_seen": now}
            for i in range(200)
        ])
        for start in range(0, n_reviewers, 50_000):
            conn.execute(insert(Reviewer), [
                {"platform": "taobao", "external_id": f"U{i}", "nick": f"u***{i % 97}", "extra": {},
                 "watchlisted": i % 5000 == 0, "first_seen": now, "level": ("注册会员", "铜牌会员", "金牌会员")[i % 3]}
                for i in range(start, min(n_reviewers, start + 50_000))
            ])
    span_s = 180 * 86400
    ring_text = "质量太差了，客服态度恶劣还不给退款，大家千万别买，骗子店铺！"
    # Reviews go through the DB-API directly: a million rows through SQLAlchemy's type
    # processing would take longer than the detection being measured. SQLite stores the
    # UTCDateTime columns as naive UTC text, JSON as text.
    sqlite = engine.dialect.name == "sqlite"
    sql = (
        "INSERT INTO review (platform, external_id, reviewer_id, listing_id, shop_id, rating, text, created_at, "
        "photos, raw, decode_errors, first_seen, last_seen, revision_count) "
        "VALUES ('taobao', ?, ?, ?, ?, ?, ?, ?, '[]', '{}', 0, ?, ?, 0)"
    )
    if not sqlite:  # psycopg's placeholders; timestamps with their zone
        sql = sql.replace("?", "%s")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        batch: list[tuple] = []
        for i in range(n_reviews):
            r = rng.random()
            rating = 5 if r < 0.7 else 4 if r < 0.8 else 3 if r < 0.88 else 2 if r < 0.93 else 1
            bad = rating <= 3
            words = ZH if rng.random() < 0.6 else EN
            pool = words[10:] if bad else words[:10]
            text = ("，" if words is ZH else ", ").join(rng.sample(pool, 3)) + " " + _detail(rng, words is ZH)
            t = T0 + timedelta(seconds=rng.randrange(span_s))
            listing = rng.randrange(200) + 1
            # Every 20,000th review starts a planted ring: 12 accounts, one template, one hour.
            if i % 20_000 < 12 and i >= 20_000:
                rating, text, listing = 1, ring_text, (i // 20_000) % 200 + 1
                t = T0 + timedelta(days=(i // 20_000) % 170, minutes=5 * (i % 20_000))
            ts = t.strftime("%Y-%m-%d %H:%M:%S.000000" if sqlite else "%Y-%m-%d %H:%M:%S+00")
            batch.append((f"R{i}", rng.randrange(n_reviewers) + 1, listing, (listing - 1) % 5 + 1, rating, text,
                          ts, ts, ts))
            if len(batch) >= 50_000:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()


def _run_behaviour(settings) -> dict:  # noqa: ANN001
    from monitor.db import session_scope
    from monitor.detection import behaviour

    start, cpu = time.perf_counter(), time.process_time()
    with session_scope(settings) as session:
        counts = behaviour.run(session, settings)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu, "counts": counts}


def _run_detect(settings) -> dict | None:  # noqa: ANN001
    try:
        from monitor.detection import detect
    except ImportError:
        return None
    from monitor.db import session_scope
    from monitor.detection.live_models import load_models

    # First use trains the seed models; timed apart so the figure for every later run is visible.
    cpu = time.process_time()
    with session_scope(settings) as session:
        load_models(settings, session=session)
    training_cpu = time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    with session_scope(settings) as session:
        summary = detect(session, settings)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
            "training_cpu_seconds": training_cpu, "counts": summary.as_dict()}


def _rates(n: int, run: dict) -> dict:
    # CPU time is reported beside wall time: on a shared machine wall time measures the neighbours.
    return {
        "wall_seconds": round(run["seconds"], 2),
        "cpu_seconds": round(run["cpu_seconds"], 2),
        "reviews_per_second_wall": round(n / run["seconds"]),
        "reviews_per_cpu_second": round(n / max(run["cpu_seconds"], 1e-9)),
    }


def throughput(n: int, workdir: Path, *, full: bool = True, url: str | None = None) -> dict:
    from monitor.config import load_settings

    # The full run gets its own database: run after the behaviour half on the same one, it would
    # find every reviewer flag already written and do less work.
    with benchdb.database(url, "tp") as url_in:
        settings = load_settings(data_dir=workdir / "tp")
        t = time.perf_counter()
        generate(settings, n)
        gen_s = time.perf_counter() - t
        benchdb.vacuum_analyze(url_in)
        _pin_one_core()
        b = _run_behaviour(settings)
    out: dict = {"reviews": n, "database": benchdb.backend(url), "generate_seconds": round(gen_s, 1), "cores": 1}
    out["behaviour_only"] = _rates(n, b) | {"flags": b["counts"]}
    d = None
    if full:
        with benchdb.database(url, "tpfull") as url_in:
            full_settings = load_settings(data_dir=workdir / "tp-full")
            generate(full_settings, n)
            benchdb.vacuum_analyze(url_in)
            d = _run_detect(full_settings)
    if not full:
        out["full_detect"] = "skipped (--skip-detect)"
    elif d is None:
        out["full_detect"] = "monitor.detection.detect not available in this tree: behaviour half only"
    else:
        cold = {"cpu_seconds": d["cpu_seconds"] + d["training_cpu_seconds"], "seconds": d["seconds"]}
        out["full_detect"] = _rates(n, d) | {
            "seed_model_training_cpu_seconds": round(d["training_cpu_seconds"], 2),
            "reviews_per_cpu_second_incl_training": _rates(n, cold)["reviews_per_cpu_second"],
            "summary": d["counts"],
        }
    out["target_reviews_per_second"] = 5000
    return out


def memory(n: int, workdir: Path, *, full: bool = True, url: str | None = None) -> dict:
    from monitor.config import load_settings
    from monitor.db import dispose_engines

    data = workdir / f"mem{n}"
    with benchdb.database(url, "mem") as url_in:
        settings = load_settings(data_dir=data)
        t = time.perf_counter()
        generate(settings, n, seed=1)
        gen_s = time.perf_counter() - t
        benchdb.vacuum_analyze(url_in)
        dispose_engines()
        # A fresh process, so the peak is detection's alone and not the generator's.
        proc = subprocess.run([sys.executable, __file__, "--child", "full" if full else "behaviour", str(data)],
                              capture_output=True, text=True)
        if proc.returncode != 0:  # its traceback, which check=True would have dropped with the captured output
            raise SystemExit(f"detection child failed ({n} reviews):\n{proc.stderr[-3000:]}")
    child = json.loads(proc.stdout)
    # The same run read as throughput: every stored review is scored once, on one core.
    rate = {"reviews_per_cpu_second": round(n / max(child["cpu_seconds"], 1e-9)),
            "reviews_per_second_wall": round(n / max(child["wall_seconds"], 1e-9))}
    return {"reviews": n, "database": benchdb.backend(url), "generate_seconds": round(gen_s, 1), **child, **rate,
            "target_peak_mb": 1024}


def _child(mode: str, data: str) -> None:
    from monitor.config import load_settings

    _pin_one_core()
    settings = load_settings(data_dir=Path(data))
    run = _run_detect(settings) if mode == "full" else _run_behaviour(settings)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"measured": "full detect (text models + behaviour)" if mode == "full" else "behaviour half",
                      "wall_seconds": round(run["seconds"], 1), "cpu_seconds": round(run["cpu_seconds"], 1),
                      "peak_rss_mb": round(peak_kb / 1024), "flags": run["counts"]}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--memory-reviews", default="1000000",
                        help="stored reviews for the memory run; several (1000000,3000000): one fresh database each")
    parser.add_argument("--skip-throughput", action="store_true", help="the memory run(s) only")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-detect", action="store_true", help="time the behaviour half only")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    benchdb.add_argument(parser)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="shopmon-bench-") as tmp:
        result = {}
        if not args.skip_throughput:
            result["throughput"] = throughput(args.reviews, Path(tmp), full=not args.skip_detect, url=args.database_url)
        if not args.skip_memory:
            runs = [memory(int(n), Path(tmp), full=not args.skip_detect, url=args.database_url)
                    for n in args.memory_reviews.split(",")]
            result["memory"] = runs[0] if len(runs) == 1 else runs
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
