"""``shopmon crawl``: run the spiders for configured shops (each in a subprocess)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from monitor.cli.context import progress, ready_settings
from monitor.cli.process import cases_line, detection_line

app = typer.Typer()


@app.command("crawl")
def crawl(
    ctx: typer.Context,
    shop: Annotated[
        Optional[list[str]],
        typer.Option("--shop", "-s", help="Shop id from the config (repeatable). Default: every shop."),
    ] = None,
    full: Annotated[
        Optional[bool],
        typer.Option("--full/--incremental",
                     help="Page through every review (catches edits and deletions) or stop at known ones. "
                          "Default: incremental, full every `full_recrawl_every`-th crawl."),
    ] = None,
    timeout: Annotated[
        Optional[float], typer.Option("--timeout", help="Seconds before a shop's crawl is stopped "
                                                        "(default: crawl.timeout_minutes).")
    ] = None,
    then_process: Annotated[
        bool, typer.Option("--process/--no-process",
                           help="Then run the post-crawl pipeline (detect, cases, review changes, alerts), "
                                "as `shopmon process` does.")
    ] = True,
) -> None:
    """Crawl shops' listings and reviews politely and store them (one CrawlRun per shop), then
    detect, open cases, follow edited/removed reviews into their cases and queue alerts.

    Exit status 1 when any shop's crawl failed (blocked, captcha, login wall, zero items,
    timeout or error); what was stored before the failure is kept and processed.
    """
    from monitor.crawl import crawl_shop
    from monitor.errors import ConfigError
    from monitor.pipeline import process

    settings = ready_settings(ctx)
    if not settings.shops:
        raise ConfigError("no shops configured: add [[shops]] entries to the config file")
    shops = [settings.shop(s) for s in shop] if shop else list(settings.shops)
    failed = 0
    for n, s in enumerate(shops, 1):
        progress(f"[{n}/{len(shops)}] crawling {s.id} ({s.platform}) ...")
        run = crawl_shop(settings, s, full=full, timeout=timeout)
        mode = "full" if run.full else "incremental"
        line = (f"{s.id}: {run.status} ({mode}) requests={run.requests} listings={run.listings_seen} "
                f"new={run.reviews_new} updated={run.reviews_updated} deleted={run.reviews_deleted} "
                f"missing={run.reviews_missing} invalid={run.items_invalid}")
        if run.status != "ok":
            failed += 1
            line += f" failure={run.failure_kind}: {run.error}"
        typer.echo(line)
    if then_process:
        progress("detecting, opening cases, following review changes, queueing alerts ...")
        counts = process(settings)
        typer.echo(detection_line(counts))
        typer.echo(cases_line(counts))
    if failed:
        raise typer.Exit(1)
