"""``shopmon listings``: listings whose images don't match what they say or what buyers got."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings, settings_from

app = typer.Typer(
    name="listings",
    help="Listings whose photos don't match their title, their buyers' photos or their reviews.",
    no_args_is_help=True,
)


@app.command("train")
def train(
    ctx: typer.Context,
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Catalogue CSV with columns image (path relative to the CSV), title, category, colour.",
        ),
    ],
) -> None:
    """Fit the image models (category and colour) on your own catalogue and register them.

    The first version of each model goes live; later versions wait for
    `shopmon model promote`. Unreadable images are skipped and listed.
    """
    from monitor.db import session_scope
    from monitor.listings.train import train_from_catalogue

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        result = train_from_catalogue(settings, data, session=session)
    for name, version in result.versions.items():
        m = result.metrics[name]
        acc = m.get("cv_accuracy")
        typer.echo(
            f"{version}: {m['n_train']} images, {m['classes']} classes"
            + (f", cross-validated accuracy {acc:.3f}" if acc is not None else "")
            + (" (live)" if result.live[name] else " (candidate: `shopmon model promote` to use it)")
        )
    for line in result.skipped:
        typer.echo(f"skipped: {line}", err=True)


@app.command("check")
def check(
    ctx: typer.Context,
    listing: Annotated[Optional[int], typer.Option("--listing", help="Check only this listing id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per listing.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Print every listing, not only flagged or unreadable ones.")] = False,
) -> None:
    """Score stored listings and write image_mismatch flags at or above listings.threshold.

    Uses the images the crawler saved (and buyers' photos); an image that cannot be used
    is reported with its reason and recorded on the image row.
    """
    from monitor.db import session_scope
    from monitor.listings.check import check_listings_detailed

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        checked = check_listings_detailed(session, settings, listing_id=listing)
    for c in checked:
        shown = all_ or c.flagged or c.result.problems or listing is not None
        if not shown:
            continue
        if as_json:
            typer.echo(json.dumps({**c.result.as_dict(), "flagged": c.flagged}, ensure_ascii=False))
            continue
        score = "unscored" if c.result.score is None else f"{c.result.score:.2f}"
        mark = "FLAG " if c.flagged else ""
        typer.echo(f"{mark}listing {c.listing_id} [{score}] {c.title or ''}".rstrip())
        for reason in c.result.reasons:
            typer.echo(f"  - {reason}")
    flagged = sum(c.flagged for c in checked)
    typer.echo(f"checked {len(checked)} listing(s), flagged {flagged}", err=as_json)


@app.command("score")
def score(
    ctx: typer.Context,
    in_path: Annotated[
        Path,
        typer.Option(
            "--in",
            help='JSON lines: {"listing_id", "title", "attributes": {...}, "images": [...], "buyer_photos": [...]}.',
        ),
    ],
    out_path: Annotated[
        Path, typer.Option("--out", help='JSON lines written: {"listing_id", "score", "reasons": [...]}.')
    ],
) -> None:
    """Score listings from a file without the database.

    Relative image paths resolve against the input file's folder; http(s) URLs are
    downloaded only from loopback and listings.fetch_hosts, with a size cap and timeout.
    Every input line gets an output line; unusable ones get score null and the reason.
    """
    from monitor.listings.batch import score_file

    settings = settings_from(ctx)
    summary = score_file(settings, in_path, out_path)
    typer.echo(", ".join(f"{k} {v}" for k, v in summary.as_dict().items()) + f" -> {out_path}")
