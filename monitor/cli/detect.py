"""``shopmon detect``: score new reviews in the database and write flags."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from monitor.cli.context import ready_settings


def detect_cmd(
    ctx: typer.Context,
    rescore: Annotated[bool, typer.Option("--rescore", help="Score every review again, not only new ones "
                                          "(after promoting a model version).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Score reviews not scored yet: malicious, deceptive and after-sales cause, then reviewers/attacks.

    Uses the live model versions; on a fresh install the default models are trained from the seed corpus (a few seconds) and registered. A tampered model or a missing/broken live alias stops detection with one line and an ops (crawl_health) alert. Only writes flags: cases and alerts follow in `shopmon cases` / `shopmon alerts` or the scheduled pipeline.
    """  # noqa: E501
    from monitor.pipeline import run_detect

    settings = ready_settings(ctx)
    summary = run_detect(settings, rescore=rescore)
    counts = summary.as_dict()
    if as_json:
        typer.echo(json.dumps({**counts, "model_versions": summary.model_versions}, indent=2))
        return
    typer.echo(f"scored {counts['reviews_scored']} review(s): " + ", ".join(
        f"{v} {k}" for k, v in counts.items() if k != "reviews_scored"
    ))


def register(app: typer.Typer) -> None:
    app.command("detect")(detect_cmd)
