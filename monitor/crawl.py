"""Run a shop's spider in a subprocess with a time limit and record the CrawlRun.

The child stores items as it goes (batch commits), so a crash or a timeout keeps what was
stored; the parent only records the outcome. Which crawls are "full" (paging through every
review to catch edits and deletions) follows ShopConfig.full_recrawl_every.

One crawl per shop at a time, across processes and machines: the ``crawl:<shop id>`` lease
(``monitor.scheduler.lease.exclusive``) is held and renewed for the whole crawl. The child runs
in its own process group and dies with its parent (``monitor.child_process``, the one runner). A run whose process is
gone (its lock expired while it still says ``running``) is reaped as ``interrupted`` with the
counts of what it stored, and its job folder is removed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, func, select

from models import CrawlRun
from monitor.config import Settings, ShopConfig
from monitor.db import ensure_schema, get_engine
from monitor.child_process import JobInterrupted, jobs_dir, signal_name
from monitor.scheduler.lease import exclusive, is_held
from monitor.zygote import run_module

log = logging.getLogger(__name__)

_JOB_FIELDS = {"data_dir", "model_dir", "crawl"}


def _is_full(session: Session, shop: ShopConfig) -> bool:
    done = session.exec(
        select(func.count()).select_from(CrawlRun).where(CrawlRun.shop_config_id == shop.id, CrawlRun.status == "ok")
    ).one()
    # the first crawl sees everything anyway; then every Nth crawl re-reads all reviews
    return done == 0 or (done + 1) % shop.full_recrawl_every == 0


def _child_env(settings: Settings) -> dict[str, str]:
    # The child gets its settings from the job file; SHOPMON_* variables (the SMTP password
    # among them) stay out of it, except the database URL, which must never touch disk.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMON_") or k == "SHOPMON_SHARED"}
    if settings.database_url:
        env["SHOPMON_DATABASE_URL"] = settings.database_url
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


# What a crawl child imports before it crawls (``spiders.preload`` says what): a process running
# many crawls preloads it into its zygote (``zygote.start_zygote``). It does not install or
# start the Twisted reactor (tests/scale/test_zygote.py checks).
SPIDER_PRELOAD = ("spiders.preload",)

# Renewed every third of this while the crawl runs; after a crash the shop is free this long later.
CRAWL_LOCK_SECONDS = 60.0
INTERRUPTED = "the process running this crawl is stopping and killed it; counts are what it stored"
_ERROR_LINE = re.compile(r"Error\b|Exception\b|Traceback|CRITICAL|\bERROR\b")


def crawl_lock_name(shop_id: str) -> str:
    return f"crawl:{shop_id}"


def _job_dir(settings: Settings, run_id: int) -> Path:
    return jobs_dir(settings) / f"crawl-{run_id}"


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _exit_error(returncode: int, log_path: Path) -> str:
    """Why a child ended without a result: its signal, or the last *error* line of its log.

    A killed child's last log line is whatever it was doing (a page it fetched), not a cause.
    """
    sig = signal_name(returncode)
    if sig is not None:
        return f"crawl process was killed by {sig} (out of memory, or stopped by someone); counts are what it stored"
    errors = [ln for ln in _log_tail(log_path, 200).splitlines() if _ERROR_LINE.search(ln)]
    cause = errors[-1].strip()[:300] if errors else f"no error in its log ({log_path})"
    return f"crawl process exited with code {returncode}: {cause}"


def _stored_since(engine, shop_id: int, since: datetime) -> dict[str, int]:  # noqa: ANN001
    from models import Listing, Review

    with Session(engine) as session:
        reviews = session.exec(select(func.count()).select_from(Review).where(
            Review.shop_id == shop_id, Review.first_seen >= since)).one()
        listings = session.exec(select(func.count()).select_from(Listing).where(
            Listing.shop_id == shop_id, Listing.last_seen >= since)).one()
    return {"reviews_new": int(reviews), "listings_seen": int(listings)}


def reap_stale_runs(settings: Settings, shop_id: str | None = None, *, lock_is_mine: bool = False) -> int:
    """Mark ``running`` CrawlRuns whose process is gone as ``interrupted``; returns how many.

    A run is gone when its shop's crawl lock is not held (or, with ``lock_is_mine``, when we
    hold it ourselves: then no other crawl of that shop can be running). Counts are taken from
    the rows it stored; its job folder is removed.
    """
    engine = get_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        stmt = select(CrawlRun).where(CrawlRun.status == "running")
        if shop_id is not None:
            stmt = stmt.where(CrawlRun.shop_config_id == shop_id)
        running = list(session.exec(stmt))
    reaped = 0
    for run in running:
        if not lock_is_mine and run.shop_config_id and is_held(settings, crawl_lock_name(run.shop_config_id)):
            continue
        counts = _stored_since(engine, run.shop_id, run.started_at) if run.shop_id else {}
        with Session(engine) as session:
            row = session.get(CrawlRun, run.id)
            if row is None or row.status != "running":
                continue
            row.status, row.failure_kind = "interrupted", "interrupted"
            row.error = "crawl process gone (killed, or its machine stopped) before it finished; counts are what it stored"
            row.finished_at = datetime.now(UTC)
            for name, value in counts.items():
                setattr(row, name, value)
            session.add(row)
            session.commit()
        shutil.rmtree(_job_dir(settings, run.id), ignore_errors=True)
        log.warning("crawl run %s of %s was left running by a dead process: marked interrupted", run.id,
                    run.shop_config_id)
        reaped += 1
    return reaped


def crawl_shop(settings: Settings, shop: ShopConfig, *, full: bool | None = None,
               timeout: float | None = None) -> CrawlRun:
    """Crawl one shop in a subprocess; return the recorded CrawlRun (status ok or failed).

    Raises ``monitor.scheduler.lease.Busy`` when the shop is being crawled elsewhere (nothing is
    recorded: the caller decides whether to wait), and ``JobInterrupted`` when this process's
    ``child_process.kill_all`` killed the spider (a stopping worker; the run is recorded as
    ``interrupted`` first)."""
    ensure_schema(settings)
    with exclusive(settings, crawl_lock_name(shop.id), CRAWL_LOCK_SECONDS):
        reap_stale_runs(settings, shop.id, lock_is_mine=True)
        return _crawl_locked(settings, shop, full, timeout)


def _crawl_locked(settings: Settings, shop: ShopConfig, full: bool | None, timeout: float | None) -> CrawlRun:
    from spiders.item_rows import ensure_shop

    engine = get_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        shop_row = ensure_shop(session, shop.platform, shop.id, name=shop.name, url=str(shop.url))
        if full is None:
            full = _is_full(session, shop)
        run = CrawlRun(shop_id=shop_row.id, shop_config_id=shop.id, spider=shop.platform, full=full,
                       status="running", started_at=datetime.now(UTC))
        session.add(run)
        session.commit()
        session.refresh(run)

    data_dir = settings.data_dir.resolve()
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"crawl-{shop.id}-{run.id}.log"
    limit = timeout if timeout is not None else settings.crawl.timeout_minutes * 60
    job_settings = settings.model_dump(mode="json", include=_JOB_FIELDS)
    job_settings["data_dir"] = str(data_dir)
    # Under data_dir, not /tmp: if this process is killed the folder is found and removed by the
    # reaper (next crawl of the shop, or the scheduler), instead of piling up in /tmp.
    job_dir = _job_dir(settings, run.id)
    job_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        job_path = job_dir / "job.json"
        result_path = job_dir / "result.json"
        job = {"settings": job_settings, "shop": shop.model_dump(mode="json"), "shop_row_id": shop_row.id,
               "run_id": run.id, "full": full, "result_path": str(result_path)}
        job_path.write_text(json.dumps(job), encoding="utf-8")
        os.chmod(job_path, 0o600)
        outcome: dict = {}
        # Past the limit the child is asked to stop (Scrapy closes the spider and the store pipeline
        # commits what it holds), then killed if it does not.
        done = run_module("spiders.run", [str(job_path)], limit=limit, output=log_path, env=_child_env(settings))
        timed_out = done.timed_out
        if done.interrupted:
            outcome = {"status": "interrupted", "failure_kind": "interrupted", "error": INTERRUPTED,
                       **_stored_since(engine, shop_row.id, run.started_at)}
        elif result_path.is_file():
            outcome = json.loads(result_path.read_text(encoding="utf-8"))
        elif not timed_out:
            outcome = {"status": "failed", "failure_kind": "error", "error": _exit_error(done.returncode, log_path),
                       **_stored_since(engine, shop_row.id, run.started_at)}
        if timed_out:
            if "reviews_new" not in outcome:  # killed before it could report: count what it stored
                outcome.update(_stored_since(engine, shop_row.id, run.started_at))
            # counts from a gracefully stopped child are kept; the verdict is the timeout
            outcome.update(status="failed", failure_kind="timeout",
                           error=f"crawl stopped after the {limit:g} s limit; what was stored so far is kept")
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)

    with Session(engine, expire_on_commit=False) as session:
        run = session.get(CrawlRun, run.id)
        run.status = outcome.get("status", "failed")
        run.failure_kind = outcome.get("failure_kind")
        run.error = outcome.get("error")
        for name in ("requests", "listings_seen", "reviews_new", "reviews_updated", "reviews_deleted",
                     "reviews_missing", "items_invalid"):
            setattr(run, name, int(outcome.get(name) or 0))
        stats = dict(outcome.get("stats") or {})
        stats["page_requests"] = outcome.get("page_requests")
        stats["log"] = str(log_path)
        run.stats = stats
        run.finished_at = datetime.now(UTC)
        session.add(run)
        session.commit()
        session.refresh(run)
    log.info("crawl %s run %s: %s %s", shop.id, run.id, run.status, run.failure_kind or "")
    if done.interrupted:
        raise JobInterrupted(f"crawl of {shop.id} (run {run.id}): {INTERRUPTED}")
    return run


def crawl_all(settings: Settings, shop_ids: list[str] | None = None) -> list[CrawlRun]:
    """Crawl each configured shop (or only ``shop_ids``) one after the other."""
    shops = [settings.shop(i) for i in shop_ids] if shop_ids else list(settings.shops)
    return [crawl_shop(settings, shop) for shop in shops]
