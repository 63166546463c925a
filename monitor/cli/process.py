"""``shopmon process``: the post-crawl pipeline on demand (detect, cases, review changes, alerts)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from monitor.cli.context import ready_settings

_AFTER_DETECT = ("image_flags", "cases_opened", "cases_modified", "cases_possibly_removed", "alerts_queued",
                 "reputation_snapshots")

app = typer.Typer()


def detection_line(counts: dict[str, Any]) -> str:
    scored = {k: v for k, v in counts.items() if k not in _AFTER_DETECT}
    return f"scored {scored.get('reviews_scored', 0)} review(s): " + ", ".join(
        f"{v} {k}" for k, v in scored.items() if k != "reviews_scored")


def cases_line(counts: dict[str, Any]) -> str:
    return (f"opened {counts['cases_opened']} case(s), {counts['cases_modified']} moved to modified, "
            f"{counts['cases_possibly_removed']} possibly removed; {counts['image_flags']} image flag(s); "
            f"queued {counts['alerts_queued']} alert(s)")


def run_pipeline(ctx: typer.Context, *, rescore: bool = False, as_json: bool = False) -> None:
    from monitor.pipeline import process

    counts = process(ready_settings(ctx), rescore=rescore)
    if as_json:
        typer.echo(json.dumps(counts, indent=2))
        return
    typer.echo(detection_line(counts))
    typer.echo(cases_line(counts))


@app.command("process")
def process_cmd(
    ctx: typer.Context,
    rescore: Annotated[bool, typer.Option("--rescore", help="Score every review again, not only new ones.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Run what follows every crawl now: detect, check listing images, open cases, move cases whose
    review was edited or removed, queue alerts. Safe to repeat; `shopmon crawl` runs it itself."""
    run_pipeline(ctx, rescore=rescore, as_json=as_json)
