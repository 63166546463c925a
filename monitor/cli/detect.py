"""``shopmon detect``: score new reviews, then the rest of the post-crawl pipeline."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.process import run_pipeline

app = typer.Typer()


@app.command("detect")
def detect(
    ctx: typer.Context,
    rescore: Annotated[bool, typer.Option("--rescore", help="Score every review again, not only new ones "
                                          "(after promoting a model version).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Score reviews not scored yet: malicious, deceptive and after-sales cause, then reviewers/attacks;
    then the rest of the post-crawl pipeline (cases, review changes, alerts), as `shopmon process` does.

    Uses the live model versions; on a fresh install the default models are trained from the seed
    corpus (a few seconds) and registered. A tampered model or a missing/broken live alias stops
    detection with one line and an ops (crawl_health) alert.
    """
    run_pipeline(ctx, rescore=rescore, as_json=as_json)
