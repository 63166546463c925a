"""`cases export`: any filtered list, handbook column order, buyer text never runs as a formula."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from alerts.case_export import COLUMNS, export_rows, write_export
from alerts.cases import list_cases, open_cases, update_case
from models.roles import Role
from alerts_testkit import db_cli, factory  # noqa: F401  (fixtures)


def test_export_follows_the_list_filters_and_neutralises_formulas(db_cli, tmp_path: Path, session, db_settings,
                                                                  factory) -> None:
    now = datetime.now(UTC)
    listing = factory.listing(factory.shop())
    evil = factory.review(listing, rating=1, text='=HYPERLINK("http://evil.example","click")', at=now)
    plain = factory.review(listing, rating=2, text="slow", at=now)
    open_cases(session, db_settings, now=now)
    update_case(session, factory.case_for(evil).id, actor="amy", contact="sms", owner="amy", now=now)
    update_case(session, factory.case_for(evil).id, actor="amy", promise_date=now + timedelta(days=2), now=now)
    session.commit()

    assert db_cli("cases", "export", "--owner", "amy", "-o", str(tmp_path / "amy.csv"))[1] == (
        f"wrote 1 case(s) to {tmp_path / 'amy.csv'} (phone and order numbers masked for role staff)\n")
    header, row = list(csv.reader((tmp_path / "amy.csv").open(encoding="utf-8-sig")))
    assert header[:8] == ["Review time", "Buyer (Wangwang ID)", "Phone", "Item", "Review", "Severity", "Contacts made", "Progress"]
    assert row[4] == "'" + '=HYPERLINK("http://evil.example","click")'
    assert row[6] == "SMS" and row[7].startswith("promised to update by ")

    assert db_cli("cases", "export", "--format", "xlsx", "--state", "open", "-o", str(tmp_path / "open.xlsx"))[0] == 0
    sheet = load_workbook(tmp_path / "open.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][4] == "slow"
    code, _, err = db_cli("cases", "export", "--format", "pdf")
    assert code == 2 and "unknown format 'pdf'" in err


def test_xlsx_keeps_a_formula_looking_review_as_text(tmp_path: Path, session, db_settings, factory) -> None:
    now = datetime.now(UTC)
    factory.review(factory.listing(factory.shop()), rating=1, text="=1+1", at=now)
    open_cases(session, db_settings, now=now)
    rows = export_rows(session, list_cases(session), role=Role.STAFF, language="en", timezone="UTC", currency="CNY")
    assert len(rows[0]) == len(COLUMNS)
    write_export(rows, tmp_path / "x.xlsx", "xlsx")
    cell = load_workbook(tmp_path / "x.xlsx").active.cell(row=2, column=5)
    assert (cell.value, cell.data_type) == ("=1+1", "s")
