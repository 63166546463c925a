"""``shopmon worker``: run jobs from the queue of ``workers.redis_url`` (start one on each machine)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings
from monitor.errors import ConfigError

app = typer.Typer()


def queue_support(module: str = "queue") -> ModuleType:
    """``monitor.workers.<module>``, imported only when ``workers.redis_url`` is set: Dramatiq is in the
    ``distributed`` extra, and the embedded default (and every other command) never loads it."""
    try:
        return importlib.import_module(f"monitor.workers.{module}")
    except ModuleNotFoundError as exc:
        raise ConfigError(f"workers.redis_url is set but {exc.name} is not installed: "
                          "pip install 'shopmon[distributed]'") from None


@app.command("worker")
def worker(
    ctx: typer.Context,
    threads: Annotated[
        Optional[int], typer.Option("--threads", min=1, max=64, help="Jobs run at the same time (default: workers.threads).")
    ] = None,
    stop_timeout: Annotated[
        Optional[float],
        typer.Option("--stop-timeout", min=0, help="On SIGTERM wait this long for running jobs, then kill them "
                     "and put them back on the queue (default: scheduler.stop_timeout_seconds)."),
    ] = None,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Log JSON lines (one per job run) instead of text.")] = False,
) -> None:
    """Run crawls, post-crawl processing and scheduled commands that `shopmon schedule` queued.

    Start any number, on any machines with the same settings (database, workers.redis_url,
    model_dir). One crawl of a shop runs at a time across all of them; a killed worker's job is
    run by another after workers.lease_seconds. `shopmon status` lists them.
    """
    from monitor.scheduler.logs import setup_logging

    settings = ready_settings(ctx)
    if not settings.workers.redis_url:
        raise ConfigError("shopmon worker needs workers.redis_url (SHOPMON_WORKERS__REDIS_URL): the Redis of the job "
                          "queue that `shopmon schedule` fills")
    setup_logging(json_lines=json_logs or settings.scheduler.json_logs)
    service = queue_support("service").WorkerService(settings, threads=threads, stop_timeout=stop_timeout)
    service.install_signal_handlers()
    raise typer.Exit(service.run())
