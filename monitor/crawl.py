"""Run a shop's spider in a subprocess with a time limit and record the CrawlRun.

The child stores items as it goes (batch commits), so a crash or a timeout keeps what was
stored; the parent only records the outcome. Which crawls are "full" (paging through every
review to catch edits and deletions) follows ShopConfig.full_recrawl_every.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, func, select

from models import CrawlRun
from monitor.config import Settings, ShopConfig
from monitor.db import ensure_schema, get_engine

log = logging.getLogger(__name__)

_JOB_FIELDS = {"data_dir", "model_dir", "shared_dir", "crawl"}


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


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


STOP_GRACE_SECONDS = 15.0


def _stored_since(engine, shop_id: int, since: datetime) -> dict[str, int]:  # noqa: ANN001
    from models import Listing, Review

    with Session(engine) as session:
        reviews = session.exec(select(func.count()).select_from(Review).where(
            Review.shop_id == shop_id, Review.first_seen >= since)).one()
        listings = session.exec(select(func.count()).select_from(Listing).where(
            Listing.shop_id == shop_id, Listing.last_seen >= since)).one()
    return {"reviews_new": int(reviews), "listings_seen": int(listings)}


def _wait(proc: subprocess.Popen, limit: float) -> bool:
    """Wait for the child; past the limit ask it to stop (Scrapy closes the spider and the store
    pipeline commits what it holds), then kill it if it does not. True when it timed out."""
    try:
        proc.wait(timeout=limit)
        return False
    except subprocess.TimeoutExpired:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return True


def crawl_shop(settings: Settings, shop: ShopConfig, *, full: bool | None = None,
               timeout: float | None = None) -> CrawlRun:
    """Crawl one shop in a subprocess; return the recorded CrawlRun (status ok or failed)."""
    from spiders.storage import ensure_shop

    ensure_schema(settings)
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
    with tempfile.TemporaryDirectory(prefix="shopmon-crawl-") as tmp:
        job_path = Path(tmp) / "job.json"
        result_path = Path(tmp) / "result.json"
        job = {"settings": job_settings, "shop": shop.model_dump(mode="json"), "shop_row_id": shop_row.id,
               "run_id": run.id, "full": full, "result_path": str(result_path)}
        job_path.write_text(json.dumps(job), encoding="utf-8")
        os.chmod(job_path, 0o600)
        outcome: dict = {}
        with log_path.open("wb") as log_fh:
            proc = subprocess.Popen([sys.executable, "-m", "spiders.run", str(job_path)], stdout=log_fh,
                                    stderr=subprocess.STDOUT, env=_child_env(settings))
            timed_out = _wait(proc, limit)
        if result_path.is_file():
            outcome = json.loads(result_path.read_text(encoding="utf-8"))
        elif not timed_out:
            tail = _log_tail(log_path, 3).strip().splitlines()
            outcome = {"status": "failed", "failure_kind": "error",
                       "error": f"crawl process exited with code {proc.returncode}: "
                                f"{tail[-1] if tail else 'no output'}"}
        if timed_out:
            if "reviews_new" not in outcome:  # killed before it could report: count what it stored
                outcome.update(_stored_since(engine, shop_row.id, run.started_at))
            # counts from a gracefully stopped child are kept; the verdict is the timeout
            outcome.update(status="failed", failure_kind="timeout",
                           error=f"crawl stopped after the {limit:g} s limit; what was stored so far is kept")

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
    return run


def crawl_all(settings: Settings, shop_ids: list[str] | None = None) -> list[CrawlRun]:
    """Crawl each configured shop (or only ``shop_ids``) one after the other."""
    shops = [settings.shop(i) for i in shop_ids] if shop_ids else list(settings.shops)
    return [crawl_shop(settings, shop) for shop in shops]
