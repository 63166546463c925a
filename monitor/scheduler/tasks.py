"""What each scheduled job does. Every task takes the settings and returns a dict of counts.

The parts a task calls are named in HOOKS (``module:function``) and imported when the job
runs, so a part that is missing fails that job with a clear message instead of stopping the
scheduler, and tests can point a hook at a double.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
from collections.abc import Callable
from typing import Any

from models.base import utcnow
from monitor.config import Settings
from monitor.errors import ConfigError
from monitor import child_process
from monitor.scheduler import runs
from monitor.scheduler.lease import Busy

HOOKS: dict[str, str] = {
    # Runs inside the crawl's child process.
    "crawl": "monitor.scheduler.tasks:crawl_in_child",
    "process": "monitor.pipeline:process",
    "send": "alerts.sender:send_pending",
    "evaluate": "alerts.rules:evaluate",
    "queue_report": "alerts.rules:queue_report",
}
CRAWL_COUNTS = ("requests", "listings_seen", "reviews_new", "reviews_updated", "reviews_deleted", "reviews_missing",
               "items_invalid")


class HookMissing(ConfigError):
    pass


def hook(name: str) -> Callable[..., Any]:
    ref = HOOKS[name]
    module, _, attr = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise HookMissing(f"{name} step {ref} is not available: {exc}") from None


# Set once this process has run the pipeline and frozen what it holds for good (freeze_long_lived).
_frozen = threading.Event()


def process(settings: Settings) -> dict[str, Any]:
    """The post-crawl pipeline in this process: the scheduler's after its crawls, a queue worker's
    for its ``process`` jobs. Both processes live long, so after the first run what it imported
    stays for good and is frozen (``freeze_long_lived``); ``schedule --once`` pays that one
    collection without a later run to gain it back."""
    counts = hook("process")(settings)
    freeze_long_lived()
    return counts


def freeze_long_lived() -> None:
    """Once per process: collect garbage, then put every object alive out of the cyclic collector's
    reach for good. After a pipeline run that is mostly what its imports built (scikit-learn, SciPy,
    skops: ~240,000 objects), which every later full collection walked again: 0.1 CPU s, once per
    run over 100 new reviews at 1M stored (docs/scaling.md). Freed by reference counting as before;
    only a cycle among them would now stay."""
    if _frozen.is_set():
        return
    _frozen.set()
    gc.collect()
    gc.freeze()


def crawl_in_child(settings: Settings, shop_id: str, timeout: float) -> dict[str, Any]:
    """One crawl through the spiders' own runner: the shop's lease and its CrawlRun in this process,
    the spider in its child. The scheduler calls it in a job child (``crawl``); a queue worker
    calls it in its own process (``crawl_queued``)."""
    from monitor.crawl import crawl_shop

    run = crawl_shop(settings, settings.shop(shop_id), timeout=timeout)
    out: dict[str, Any] = {"crawl_run_id": run.id, "crawl_status": run.status}
    if run.failure_kind:
        out["failure_kind"] = run.failure_kind
    out.update({k: getattr(run, k, 0) for k in CRAWL_COUNTS})
    return out


def crawl(settings: Settings, shop_id: str) -> dict[str, Any]:
    """Crawl one shop in a child process with a hard limit, then detect, open cases, queue alerts.

    ``HeldElsewhere`` (the shop's crawl lease is taken: it is being crawled elsewhere) comes back
    from the child as itself and passes through: the CrawlRun is the holder's, nothing to close."""
    shop = settings.shop(shop_id)
    limit = settings.crawl.timeout_minutes * 60
    started = utcnow()
    try:
        counts = child_process.run_function(
            HOOKS["crawl"], settings, {"shop_id": shop_id, "timeout": limit}, limit + settings.scheduler.kill_grace_seconds
        )
    except child_process.JobTimeout as exc:
        # The child could not close its own CrawlRun: do it so the failure shows and alerts.
        runs.close_crawl(settings, shop_id, shop.platform, started, "timeout", str(exc))
        raise
    except child_process.JobInterrupted as exc:
        runs.close_crawl(settings, shop_id, shop.platform, started, "error", str(exc))
        raise
    except child_process.ChildFailed as exc:
        runs.close_crawl(settings, shop_id, shop.platform, started, "error", str(exc))
        raise
    counts.update(process(settings))
    return counts


def crawl_queued(settings: Settings, shop_id: str) -> dict[str, Any]:
    """A queue worker's crawl, without a job child around it: the spider's own child already has
    the time limit and dies with the worker, and a second Python process per crawl cost the
    workers about a second of CPU each (docs/scaling.md).

    Raises ``Busy`` when the shop is being crawled elsewhere, decided by taking its lease (the
    worker retries the job later; nothing is recorded), and ``JobInterrupted`` when a stopping
    worker killed the spider (the CrawlRun says ``interrupted``; the job goes back on the queue)."""
    shop = settings.shop(shop_id)
    started = utcnow()
    try:
        return hook("crawl")(settings, shop_id=shop_id, timeout=settings.crawl.timeout_minutes * 60)
    except (Busy, child_process.JobInterrupted):
        raise
    except Exception as exc:
        # Like a crashed job child: the CrawlRun it may have opened is closed so the failure shows.
        runs.close_crawl(settings, shop_id, shop.platform, started, "error", str(exc))
        raise


def send(settings: Settings) -> dict[str, Any]:
    summary = hook("send")(settings)
    return summary.as_dict() if hasattr(summary, "as_dict") else dict(summary)


def escalation(settings: Settings) -> dict[str, Any]:
    from monitor.db import session_scope

    evaluate = hook("evaluate")
    with session_scope(settings) as session:
        return {"alerts_queued": evaluate(session, settings)}


def report(settings: Settings, kind: str) -> dict[str, Any]:
    from monitor.db import session_scope

    queue_report = hook("queue_report")
    with session_scope(settings) as session:
        return {"alerts_queued": queue_report(session, settings, kind)}


def command(settings: Settings, command_id: str) -> dict[str, Any]:
    """A configured command (e.g. retraining) in its own process group with a time limit."""
    spec = next((c for c in settings.scheduler.commands if c.id == command_id), None)
    if spec is None:
        raise ConfigError(f"no scheduler command with id {command_id!r} in the configuration")
    argv = list(spec.argv)
    if argv[0] == "shopmon":
        # The same installation as this scheduler, whatever PATH the service manager gives us.
        argv = [sys.executable, "-m", "monitor", *argv[1:]]
    return child_process.run_command(settings, argv, spec.timeout_minutes * 60)


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "crawl": crawl,
    "send": send,
    "escalation": escalation,
    "report": report,
    "command": command,
}
