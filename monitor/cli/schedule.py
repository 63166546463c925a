"""``shopmon schedule`` (the unattended daemon) and ``shopmon status``."""

from __future__ import annotations

import json
import logging
import os
from typing import Annotated, Optional

import typer

from monitor.cli.context import AppState, ready_settings
from monitor.cli.worker import queue_support
from monitor.config import Settings, load_settings
from monitor.errors import ConfigError

# Shorter leases would be renewed more often than a busy database answers.
MIN_LEASE_SECONDS = 0.5

app = typer.Typer()


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run every job that is due now once, then exit (for cron).")] = False,
    lease_seconds: Annotated[
        Optional[float],
        typer.Option("--lease-seconds", help="Leader lease; a standby takes over this long after the active scheduler dies [default: scheduler.lease_seconds]."),
    ] = None,
    stop_timeout: Annotated[
        Optional[float],
        typer.Option("--stop-timeout", help="On SIGTERM wait this long for running jobs, then kill them [default: scheduler.stop_timeout_seconds]."),
    ] = None,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Log JSON lines (one per job run) instead of text.")] = False,
) -> None:
    """Run the monitoring schedule: crawls, detection, alert delivery, escalations, digests.

    Only one scheduler acts per database; start a second one anywhere as a hot standby.
    SIGHUP reloads the configuration, SIGTERM stops after the running job.
    """
    from monitor.scheduler.logs import setup_logging
    from monitor.scheduler.service import EXIT_FORCED, Daemon, run_once

    if lease_seconds is not None and lease_seconds < MIN_LEASE_SECONDS:
        raise ConfigError(f"--lease-seconds must be at least {MIN_LEASE_SECONDS} (got {lease_seconds:g})")
    if stop_timeout is not None and stop_timeout < 0:
        raise ConfigError(f"--stop-timeout cannot be negative (got {stop_timeout:g})")
    settings = ready_settings(ctx)
    state = ctx.find_object(AppState)
    config_path = state.config_path if state else None
    if config_path is not None:
        # Scheduled commands (`shopmon model train`...) then read the same configuration.
        os.environ["SHOPMON_CONFIG"] = str(config_path.resolve())
    setup_logging(json_lines=json_logs or settings.scheduler.json_logs)
    queue = _job_queue(settings)
    if once:
        if lease_seconds is not None:
            settings = settings.model_copy(
                update={"scheduler": settings.scheduler.model_copy(update={"lease_seconds": lease_seconds})}
            )
        ran = run_once(settings, queue=queue)
        typer.echo(f"{len(ran)} job run(s): " + (", ".join(f"{r['job']} {r['event']}" for r in ran) or "nothing was due"))
        if any(r["event"] == "error" for r in ran):
            raise typer.Exit(1)
        return
    daemon = Daemon(
        settings, reload=lambda: load_settings(config_path), lease_seconds=lease_seconds, stop_timeout=stop_timeout,
        queue=queue,
    )
    daemon.install_signal_handlers()
    code = daemon.run()
    if code == EXIT_FORCED:
        # A job thread is still stuck; the bound on stopping matters more than waiting for it.
        logging.shutdown()
        os._exit(code)
    raise typer.Exit(code)


def _job_queue(settings: Settings):  # noqa: ANN202
    """The workers' queue when ``workers.redis_url`` is set (crawls and commands then run on workers)."""
    if not settings.workers.redis_url:
        return None
    return queue_support().open_queue(settings)


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show the active scheduler, every job's next run and last result, the last crawl per shop, and the
    job queue's workers (host, pid, jobs running, last heartbeat) and depth."""
    from monitor.scheduler.status import gather, render

    settings = ready_settings(ctx)
    data = gather(settings)
    if not settings.workers.redis_url:  # the embedded default: no queue, no workers to show
        typer.echo(json.dumps(data, indent=2, default=str) if as_json else render(data))
        return
    workers_status = queue_support("status")
    workers = workers_status.gather(settings)
    if as_json:
        typer.echo(json.dumps({**data, "workers": workers}, indent=2, default=str))
        return
    typer.echo(render(data) + "\n\n" + workers_status.render(workers))
