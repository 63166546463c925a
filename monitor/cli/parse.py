"""``shopmon parse``: print the items a saved page yields, as JSON lines (offline, like scrapy parse)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer()


@app.command("parse")
def parse(
    file: Annotated[Path, typer.Argument(help="Saved page or API response (HTML, JSON, JSONP, JS).")],
    url: Annotated[
        Optional[str], typer.Option("--url", "-u", help="URL the page came from (helps recognise the site).")
    ] = None,
    site: Annotated[
        Optional[str],
        typer.Option("--site", help="taobao, tmall, jd, amazon, schemaorg or shopify (default: recognised)."),
    ] = None,
) -> None:
    """Print one JSON object per listing/review found in FILE; a summary goes to stderr.

    Exits 2 with one line saying why when the page is incomplete (cut mid-list, or fewer
    items than its declared count and paging); the items found are printed first.

    Reviews carry platform, review_id, listing_id, reviewer_nick, rating (1-5), title, text,
    created_at (ISO 8601 with time zone), sku, photos, helpful_votes, verified_purchase,
    follow_up_text, seller_reply; listings carry platform, listing_id, shop_id, title, price,
    currency, images, attributes, rating_avg, review_count. Missing values are null.
    """
    from monitor.errors import DataError
    from spiders.parsing.common import ParseError, public
    from spiders.parsing.detect import SITES, parse_page

    if site is not None and site not in SITES:
        raise DataError(f"unknown site {site!r}; choose one of {', '.join(SITES)}")
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        result = parse_page(body, url, site)
    except ParseError as exc:
        raise DataError(f"{file}: {exc}") from None
    for item in result.items:
        try:
            # allow_nan=False: a NaN that slipped past a parser fails here instead of
            # printing a line no JSON reader accepts
            line = json.dumps(public(item), ensure_ascii=False, allow_nan=False)
        except ValueError as exc:
            raise DataError(f"{file}: {exc} in {item.get('kind')} {item.get('review_id') or item.get('listing_id')}") from None
        typer.echo(line)
    found = (f"{result.page_kind} page, {len(result.listings)} listing(s), {len(result.reviews)} review(s)")
    if not result.complete:
        # a truncated page must not pass for a whole one: scripts and crawls stop on this
        raise DataError(f"{file}: incomplete {found}: {result.incomplete or 'not checked'}")
    stats = ", ".join(f"{k}={v}" for k, v in sorted(result.stats.items()) if v)
    dropped = f" (dropped {'; '.join(result.dropped)})" if result.dropped else ""
    typer.echo(f"# {file.name}: {found}" + (f", {stats}" if stats else "") + dropped, err=True)
