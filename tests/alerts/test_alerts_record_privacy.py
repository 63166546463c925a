"""Phone and order numbers never leave in an email, a log line, or a list/export made by a staff role."""

from __future__ import annotations

import csv
import json
import logging
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import Session

from models import Listing, Review, Shop
from monitor.cli import main

PHONE, ORDER = "13812345678", "TB9981234567"
CONFIG = """
data_dir = "data"
[alerts]
group_window_minutes = 0
timezone = "Asia/Shanghai"
language = "zh"
[alerts.recipients]
serious_case = ["service@shop.example"]
"""


def _xlsx_text(path: Path) -> str:
    return "\n".join(str(c.value) for row in load_workbook(path).active.iter_rows() for c in row if c.value is not None)


def _eml_text(path: Path) -> str:
    raw = path.read_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    parts = [part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"]
    return raw.decode("ascii", "replace") + str(msg["Subject"]) + "".join(parts)


def test_contact_details_stay_out_of_emails_logs_and_staff_exports(tmp_path: Path, capsys, caplog) -> None:
    from monitor.config import load_settings
    from monitor.db import ensure_schema, get_engine

    (tmp_path / "shopmon.toml").write_text(CONFIG, encoding="utf-8")
    settings = load_settings(tmp_path / "shopmon.toml")
    ensure_schema(settings)
    now = datetime.now(UTC)
    with Session(get_engine(settings)) as s:
        shop = Shop(platform="taobao", external_id="s1", name="Tea House")
        s.add(shop)
        s.flush()
        listing = Listing(platform="taobao", external_id="i1", shop_id=shop.id, title="乌龙茶 100g", sales=3000)
        s.add(listing)
        s.flush()
        s.add(Review(platform="taobao", external_id="r1", listing_id=listing.id, shop_id=shop.id, rating=1,
                     reviewer_nick="c***t", text="少了一半茶叶", created_at=now, first_seen=now))
        s.commit()

    outputs: list[str] = []

    def cli(*args: str) -> str:
        assert main(["--verbose", *args]) == 0, args
        out = capsys.readouterr()
        outputs.append(out.out + out.err)
        return out.out

    caplog.set_level(logging.DEBUG)
    cli("cases", "open")
    cli("cases", "update", "1", "--phone", PHONE, "--order", ORDER, "--buyer-id", "tb_c88", "--by", "amy")
    cli("cases", "update", "1", "--contact", "wangwang", "--by", "amy")
    cli("alerts", "send")
    cli("alerts", "evaluate")
    listing_json = cli("cases", "list", "--json")
    cli("cases", "list")
    cli("cases", "show", "1", "--role", "analyst", "--json")
    cli("cases", "export", "--format", "csv", "-o", "staff.csv")
    cli("cases", "export", "--format", "xlsx", "-o", "staff.xlsx")

    emails = list((tmp_path / "data" / "outbox").glob("*.eml"))
    assert emails, "the serious case was emailed"
    seen = {
        "emails": "".join(_eml_text(p) for p in emails),
        "logs": "\n".join(r.getMessage() for r in caplog.records) + "".join(outputs),
        "csv": (tmp_path / "staff.csv").read_text(encoding="utf-8-sig"),
        "xlsx": _xlsx_text(tmp_path / "staff.xlsx"),
    }
    assert caplog.records, "debug logging was on, so there were log lines to search"
    for where, text in seen.items():
        assert PHONE not in text and ORDER not in text, f"contact details leaked into {where}"
    assert "138****5678" in seen["csv"] and "138****5678" in json.loads(listing_json)[0]["buyer_phone"]
    assert "评价时间" in seen["emails"], "emails show when the review was posted beside when the case opened"

    # The same export by a supervisor carries them: the search above would have found them.
    cli("cases", "export", "--format", "xlsx", "-o", "supervisor.xlsx", "--role", "supervisor")
    cli("cases", "export", "-o", "supervisor.csv", "--role", "supervisor")
    assert PHONE in _xlsx_text(tmp_path / "supervisor.xlsx") and ORDER in _xlsx_text(tmp_path / "supervisor.xlsx")
    header, row = list(csv.reader((tmp_path / "supervisor.csv").open(encoding="utf-8-sig")))
    assert header[:8] == ["评价时间", "买家旺旺ID", "电话", "商品", "评价内容", "严重程度", "处理情况", "处理进度"]
    assert row[1:8] == ["c***t", PHONE, "乌龙茶 100g", "少了一半茶叶", "高", "旺旺", "已联系"]
    assert cli("cases", "show", "1").count(PHONE) == 1  # the staff member making the call sees it
