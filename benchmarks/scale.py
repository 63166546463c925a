"""How post-crawl work grows with the stored history; prints JSON.

``--growth``: generate ``--reviews`` stored reviews (detect_throughput's generator: 5 shops,
200 listings, planted attacks), process them once, then measure the whole post-crawl pipeline
(``monitor.pipeline.process``) in a fresh process twice: with nothing new, and after
``--new`` (100) new reviews by existing reviewers. Every step's CPU seconds are reported
(each pipeline step is wrapped where the pipeline looks it up, so the real pipeline runs),
with the child's peak RSS. Targets (issue 18): nothing new <= 1 CPU s and <= 300 MB at 1M
stored reviews; +100 new <= 2 CPU s.

``--keep DIR`` keeps the generated history (SQLite file and model registry in DIR; on PostgreSQL
also the schema ``shopmon_<DIR's name>``): the first call generates and processes it, later calls
(new code, same data) upgrade the schema, run the pipeline once (what the upgrade left to build,
reported as ``first_run``) and measure.

``--warm`` adds a second +N measurement (another N new reviews) in a child that imported
skops.io and froze what it holds (``tasks.freeze_long_lived``) before the timed run, as the
scheduler or a queue worker has after its first pipeline run: importing skops imports every
scikit-learn module (about 0.5-0.9 CPU s), paid once per such process, not once per run. Loading
the models (hashing, checking and unpacking the files) stays inside the timed run. The same child
then has another N reviews written by another process (as a crawl writes them) and runs the
pipeline again, timed as ``new_N_worker_next_job``: what every later job of that worker costs
(statements compiled, models built, nothing imported any more).

Usage: python benchmarks/scale.py --growth [--reviews N] [--new N] [--database-url URL] [--keep DIR] [--warm]

``--workers 1,2,4``: shops crawled per hour by that many ``shopmon worker`` processes
(``benchmarks/scale_workers.py`` says how it is measured).

Usage: python benchmarks/scale.py --workers 1,2,4 [--shops 200] [--delay 1] [--per-worker 20]
       [--redis-url URL] [--database-url URL]
"""

from __future__ import annotations

import os

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
from benchmarks.detect_throughput import EN, ZH, generate  # noqa: E402

STEPS = ("run_detect", "check_listings", "open_cases", "follow_review_changes", "evaluate", "snapshot_changed")
NOW = datetime(2026, 7, 1, tzinfo=UTC)
TARGETS = {"nothing_new_cpu_s": 1.0, "nothing_new_peak_mb": 300, "new_100_cpu_s": 2.0}


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


def _child(data: str, warm: bool = False, next_seed: int | None = None, n_next: int = 0) -> None:
    """One pipeline run with per-step CPU seconds; prints JSON. ``warm``: skops (and with it
    scikit-learn) imported before the clock starts, as in a worker that ran the pipeline before.
    ``next_seed``: then another ``n_next`` reviews arrive (written by another process, as a crawl
    writes them) and the same process runs the pipeline again: a worker's next job."""
    import monitor.pipeline as pipeline
    from monitor.config import load_settings

    if warm:
        import skops.io  # noqa: F401

        from monitor.scheduler import tasks

        tasks.freeze_long_lived()  # as the scheduler or a worker has after its first pipeline run

    spent: dict[str, float] = {}

    def timed(name: str, fn):  # noqa: ANN001, ANN202
        def run(*args, **kw):  # noqa: ANN002, ANN003, ANN202
            cpu = time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                spent[name] = round(spent.get(name, 0.0) + time.process_time() - cpu, 3)
        return run

    for name in STEPS:
        setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    settings = load_settings(data_dir=Path(data), detection={"case_max_age_days": 0})

    def measured() -> dict:
        spent.clear()
        # The database's backends before and after (a local PostgreSQL server only; None on SQLite):
        # a next job reuses the first job's pooled connections, so their CPU is counted as a difference.
        server = benchdb.database_cpu_seconds(settings.database_url)
        cpu, wall = time.process_time(), time.perf_counter()
        counts = pipeline.process(settings, now=NOW)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if server is not None:
            server = benchdb.database_cpu_seconds(settings.database_url) - server
        return {
            "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2), "database_server_cpu_seconds": _rounded(server),
            "steps_cpu_seconds": dict(spent), "counts": {k: v for k, v in counts.items() if v},
            # The process's peak so far: a next job's includes the first one's.
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }

    out = measured()
    # The child's CPU including interpreter start and imports, which process() alone leaves out.
    out["process_cpu_seconds_with_imports"] = round(_own_cpu(), 2)
    if next_seed is not None:
        subprocess.run([sys.executable, __file__, "--add-reviews", data, str(n_next), str(next_seed)], check=True)
        out["next_job"] = measured()
    print(json.dumps(out))


def _pipeline_run(data: Path, *, warm: bool = False, next_job: tuple[int, int] | None = None) -> dict:
    from monitor.db import dispose_engines

    dispose_engines()
    extra = ["--warm"] if warm else []
    if next_job is not None:
        extra += ["--next-job", str(next_job[0]), str(next_job[1])]
    proc = subprocess.run([sys.executable, __file__, "--child", str(data), *extra], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"pipeline child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def add_reviews(settings, n: int, seed: int = 99) -> None:  # noqa: ANN001
    """``n`` new reviews by existing reviewers on existing listings, a fifth of them bad."""
    from sqlalchemy import func, insert, select

    from models import Review, Reviewer
    from monitor.db import session_scope

    rng = random.Random(seed)
    with session_scope(settings) as session:
        n_reviewers = session.execute(select(func.max(Reviewer.id))).scalar_one()
        rows = []
        for i in range(n):
            bad = i % 5 == 0
            words = ZH if i % 2 else EN
            pool = words[10:] if bad else words[:10]
            t = NOW - timedelta(hours=rng.randrange(1, 48))
            listing = rng.randrange(200) + 1
            rows.append({"platform": "taobao", "external_id": f"N{seed}-{i}", "reviewer_id": rng.randrange(n_reviewers) + 1,
                         "listing_id": listing, "shop_id": (listing - 1) % 5 + 1, "rating": 1 if bad else 5,
                         "text": ", ".join(rng.sample(pool, 3)) + f" new {seed}-{i}", "created_at": t,
                         "photos": [], "raw": {}, "decode_errors": 0, "first_seen": NOW, "last_seen": NOW,
                         "revision_count": 0})
        session.execute(insert(Review), rows)


def _stored_reviews(settings) -> int:  # noqa: ANN001
    from sqlalchemy import func, inspect, select

    from models import Review
    from monitor.db import get_engine, session_scope

    if not inspect(get_engine(settings)).has_table("review"):
        return 0
    with session_scope(settings) as session:
        return session.execute(select(func.count(Review.id))).scalar_one()


def growth(n: int, n_new: int, workdir: Path, url: str | None, keep: Path | None = None, warm: bool = False) -> dict:
    from monitor.config import load_settings
    from monitor.db import upgrade

    data = keep or workdir / "growth"
    with benchdb.database(url, "growth", keep=keep.name if keep else None) as scoped:
        settings = load_settings(data_dir=data)
        stored = _stored_reviews(settings)
        first = gen_s = vacuum_s = None
        if stored == 0:
            t = time.perf_counter()
            generate(settings, n)
            gen_s = round(time.perf_counter() - t, 1)
            # Bulk-loaded: on PostgreSQL autovacuum would analyse it before the next crawl.
            benchdb.vacuum_analyze(scoped)
            first = _pipeline_run(data)  # scores the whole history once: the steady state the rest starts from
            stored = n
        else:
            upgrade(settings)  # a kept history from an older checkout: as an operator upgrades before running
            # Whatever the upgrade left to build (stored facts of a new revision, reviews an
            # interrupted first run did not score) is built now, once, as the operator's first run after it.
            first = _pipeline_run(data)
        # The first run writes a row or more per stored review (scores, facts, flags): autovacuum's
        # work again (the server here runs without it); the +N new rows below stay far under
        # autovacuum's threshold (20% of a table), so they are measured unvacuumed, as in production.
        t = time.perf_counter()
        benchdb.vacuum_analyze(scoped)
        vacuum_s = round(time.perf_counter() - t, 1) if benchdb.backend(url) == "postgresql" else None
        nothing = _pipeline_run(data)
        add_reviews(settings, n_new, seed=stored)  # the stored count keeps new ids unique across kept runs
        new = _pipeline_run(data)
        if warm:
            add_reviews(settings, n_new, seed=stored + n_new)
            new_warm = _pipeline_run(data, warm=True, next_job=(n_new, stored + 2 * n_new))
            next_job = new_warm.pop("next_job")
    extra = {f"new_{n_new}_warm_worker": new_warm, f"new_{n_new}_worker_next_job": next_job} if warm else {}
    return {
        "stored_reviews": stored, "database": benchdb.backend(url), "generate_seconds": gen_s,
        "vacuum_analyze_seconds": vacuum_s,
        # Over everything when this call generated the history, else the first run after the upgrade.
        "first_run": first and {k: first[k] for k in ("cpu_seconds", "wall_seconds", "peak_rss_mb")},
        "nothing_new": nothing, f"new_{n_new}": new, **extra, "targets_at_1M": TARGETS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--growth", action="store_true", help="measure the pipeline with nothing new and +N new")
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="data directory kept between runs (PostgreSQL: also a schema named "
                        "after it): generated and processed once, later runs only measure")
    parser.add_argument("--workers", help="worker counts to measure crawls per hour with, e.g. 1,2,4")
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--delay", type=float, default=1.0, help="politeness delay between a crawl's requests (s)")
    parser.add_argument("--per-worker", type=int, default=20, help="measure over the first N x workers crawls")
    parser.add_argument("--redis-url", default=None, help="Redis of the job queue [default: 127.0.0.1:6379/0]")
    parser.add_argument("--warm", action="store_true", help="also measure +N in a child with skops imported "
                        "beforehand, as a long-lived worker runs the pipeline")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--next-job", nargs=2, type=int, help=argparse.SUPPRESS)  # N, seed
    parser.add_argument("--add-reviews", nargs=3, help=argparse.SUPPRESS)  # DIR, N, seed
    benchdb.add_argument(parser)
    args = parser.parse_args()
    if args.child:
        n_next, seed = args.next_job or (0, None)
        _child(args.child, warm=args.warm, next_seed=seed, n_next=n_next)
        return 0
    if args.add_reviews:
        from monitor.config import load_settings

        data, n, seed = args.add_reviews
        add_reviews(load_settings(data_dir=Path(data)), int(n), seed=int(seed))
        return 0
    if not (args.growth or args.workers):
        parser.error("choose a measurement: --growth or --workers 1,2,4")
    out: dict = {"benchmark": "scale"}
    with tempfile.TemporaryDirectory(prefix="shopmon-scale-") as tmp:
        if args.growth:
            out["growth"] = growth(args.reviews, args.new, Path(tmp), args.database_url, args.keep, args.warm)
        if args.workers:
            from benchmarks import scale_workers  # needs the distributed extra (Dramatiq)

            counts = [int(n) for n in args.workers.split(",")]
            out["workers"] = scale_workers.measure(
                counts, shops=args.shops, delay=args.delay, per_worker=args.per_worker,
                redis_url=args.redis_url or scale_workers.redis_default(), url=args.database_url, workdir=Path(tmp))
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
