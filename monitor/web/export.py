"""The filtered board as CSV or Excel: the handbook's columns, one row per case, board order."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

from models.cases import Case
from models.catalog import Shop
from models.reviews import Review
from monitor.web.i18n import Words
from monitor.web.pages import local_time

COLUMNS = ("case", "shop", "posted", "buyer", "item", "review", "rating", "severity", "cause", "flags",
           "contact", "progress", "promised_by", "owner", "opened")


def rows(chunks: Iterable[tuple[list[Case], dict[int, Review], dict[int, Shop]]], t: Words,
         zone: str) -> Iterator[list[object]]:
    yield [getattr(t, c, c) for c in COLUMNS]
    for cases, reviews, shops in chunks:
        for c in cases:
            review = reviews.get(c.review_id) if c.review_id else None
            shop = shops.get(c.shop_id) if c.shop_id else None
            yield [
                c.id, (shop.config_id or shop.name) if shop else "",
                local_time(review.created_at, zone) if review and review.created_at else "",
                c.buyer_nick or "", c.item_title or "", c.review_text or "", c.rating if c.rating is not None else "",
                t.label(c.severity), t.label(c.cause) if c.cause else "", ", ".join(t.label(k) for k in c.kinds),
                t.label(c.contact_status), t.label(c.state), local_time(c.promised_by, zone) if c.promised_by else "",
                c.owner or "", local_time(c.opened_at, zone),
            ]


def _cell(value: object) -> object:
    # A leading = + - @ makes spreadsheets run the cell as a formula: a buyer's text must stay text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(table: Iterable[list[object]]) -> Iterator[bytes]:
    yield "\ufeff".encode()  # Excel opens UTF-8 CSV with Chinese text correctly only with a BOM
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in table:
        writer.writerow([_cell(v) for v in row])
        if buf.tell() > 64_000:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def as_xlsx(table: Iterable[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("cases")
    for row in table:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
