"""Cases as the after-sales team's spreadsheet: the handbook's columns, in its order, CSV or Excel.

The phone and order number are masked unless the role exporting may take them out of the system.
A cell that starts like a formula (``=``, ``+``, ``-``, ``@``) is written as text: review texts
are written by buyers, and a spreadsheet must not run them.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from models.cases import Case, CaseEvent
from models.ledger import Compensation
from models.roles import Role

from alerts.case_fields import contact_details, format_amount
from alerts.i18n import LABELS, RECORD, SEVERITY_NAMES
from monitor.in_lists import id_filters

COLUMNS = (
    # The handbook's daily record first ...
    "col_posted", "col_buyer", "col_phone", "col_item", "col_review", "col_severity", "col_contacts", "col_progress",
    # ... then what shopmon adds.
    "col_case", "col_rating", "col_buyer_id", "col_order", "col_cause", "col_flags", "col_owner", "col_paid",
    "col_opened", "col_attack",
)
FORMATS = ("csv", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _contacts(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Channels each case was contacted by, first use first."""
    out: dict[int, list[str]] = defaultdict(list)
    for where in id_filters(CaseEvent.case_id, ids):
        rows = session.exec(
            select(CaseEvent.case_id, CaseEvent.data)
            .where(where, CaseEvent.action == "contact")
            .order_by(CaseEvent.at, CaseEvent.id)
        ).all()
        for case_id, data in rows:
            channel = (data or {}).get("channel")
            if channel and channel not in out[case_id]:
                out[case_id].append(channel)
    return out


def _paid(session: Session, ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for where in id_filters(Compensation.case_id, ids):
        rows = session.exec(
            select(Compensation.case_id, func.sum(Compensation.amount_cents))
            .where(where)
            .group_by(Compensation.case_id)
        ).all()
        out.update({cid: int(total) for cid, total in rows})
    return out


def export_rows(
    session: Session, cases: list[Case], *, role: Role, language: str, timezone: str, currency: str
) -> list[list[str | int | None]]:
    """Header row, then one row per case, every value as the team reads it."""
    zone = ZoneInfo(timezone)
    words, labels, severities = RECORD[language], LABELS[language], SEVERITY_NAMES[language]
    ids = [c.id for c in cases if c.id is not None]
    contacts, paid = _contacts(session, ids), _paid(session, ids)
    rows: list[list[str | int | None]] = [[words[c] for c in COLUMNS]]
    for case in cases:
        details = contact_details(case, role, bulk=True)
        if case.state == "promised" and case.promised_by:
            progress = [words["promised_by"].format(date=_local(case.promised_by, zone))]
        else:
            progress = [labels.get(case.state, case.state)]
        if case.compensation_cents is not None:
            progress.append(words["agreed"].format(amount=format_amount(case.compensation_cents, currency)))
        rows.append([
            _local(case.review_posted_at, zone),
            case.buyer_nick or "",
            details["buyer_phone"] or "",
            case.item_title or "",
            case.review_text or "",
            severities.get(case.severity, case.severity),
            ", ".join(labels.get(c, c) for c in contacts.get(case.id, [])),  # type: ignore[arg-type]
            "; ".join(progress),
            case.id,
            case.rating,
            case.buyer_platform_id or "",
            details["order_no"] or "",
            labels.get(case.cause, case.cause) if case.cause else "",
            ", ".join(labels.get(k, k) for k in case.kinds),
            case.owner or "",
            format_amount(paid[case.id]) if case.id in paid else "",
            _local(case.opened_at, zone),
            case.parent_id,
        ])
    return rows


def _as_text(value: str | int | None) -> str | int | None:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_export(rows: list[list[str | int | None]], path: Path, fmt: str) -> None:
    if fmt == "csv":
        # utf-8-sig: Excel opens a CSV with a byte-order mark as UTF-8, so Chinese stays readable.
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([[_as_text(v) for v in row] for row in rows])
        return
    book = Workbook()
    sheet = book.active
    sheet.title = "cases"
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # openpyxl would store it as a formula
    sheet.freeze_panes = "A2"
    book.save(path)
