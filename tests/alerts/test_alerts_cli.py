"""`shopmon cases ...` and `shopmon alerts ...` through the real entry point."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from models import Listing, Review, Shop
from monitor.cli import main

BOTH_DATABASES = True  # storage, pipeline, case and alert behaviour must hold on SQLite and PostgreSQL

CONFIG = """
data_dir = "data"
[alerts]
group_window_minutes = 0
timezone = "Asia/Shanghai"
[alerts.recipients]
serious_case = ["service@shop.example"]
escalation = ["lead@shop.example"]
"""


@pytest.fixture
def cli(tmp_path: Path, capsys):
    (tmp_path / "shopmon.toml").write_text(CONFIG, encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def seeded(cli, tmp_path: Path) -> Path:
    from monitor.config import load_settings
    from monitor.db import ensure_schema, get_engine

    settings = load_settings(tmp_path / "shopmon.toml")
    ensure_schema(settings)
    with Session(get_engine(settings)) as s:
        shop = Shop(platform="tmall", external_id="s1", name="Tea House")
        s.add(shop)
        s.flush()
        listing = Listing(platform="tmall", external_id="i1", shop_id=shop.id, title="Oolong 100g", sales=3000)
        s.add(listing)
        s.flush()
        now = datetime.now(UTC)
        s.add(Review(platform="tmall", external_id="r1", listing_id=listing.id, shop_id=shop.id, rating=1,
                     reviewer_nick="c***t", text="Half the tea was missing", first_seen=now))
        s.add(Review(platform="tmall", external_id="r2", listing_id=listing.id, shop_id=shop.id, rating=3,
                     reviewer_nick="d***g", text="ok-ish", first_seen=now))
        s.commit()
    return tmp_path


def test_cases_open_list_show_update_flow(cli, seeded):
    assert cli("cases", "open") == (0, "opened 2 case(s)\n", "")
    code, out, _ = cli("cases", "list", "--json")
    cases = json.loads(out)
    assert code == 0 and [c["severity"] for c in cases] == ["high", "medium"]  # worst first
    worst = cases[0]["id"]
    code, out, _ = cli("cases", "list", "--severity", "high")
    assert code == 0 and "c***t" in out and "d***g" not in out

    code, out, err = cli("cases", "update", str(worst), "--contact", "phoned", "--owner", "amy", "--by", "amy",
                         "--note", "buyer will re-check")
    assert (code, err) == (0, "")
    assert out.strip() == f"case #{worst}: state contacted, contact phoned, owner amy"
    # A promise lies ahead (a past one is refused): three days from today in alerts.timezone.
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)).date().isoformat()
    code, out, _ = cli("cases", "update", str(worst), "--promise-date", day, "--by", "amy")
    assert f"promised by {day} 23:59 CST" in out  # end of day in alerts.timezone, printed there too

    code, out, _ = cli("cases", "show", str(worst))
    assert code == 0
    assert "state: promised" in out and "Half the tea was missing" in out
    assert re.search(r"Opened:   \d{4}-\d\d-\d\d \d\d:\d\d CST", out)  # the configured zone, not UTC
    assert re.search(r"\d\d:\d\d CST\n", cli("cases", "list")[1])
    assert "What to do:" in out and "buyer will re-check" in out
    assert "contact" in out and "amy" in out
    data = json.loads(cli("cases", "show", str(worst), "--json")[1])
    assert [e["action"] for e in data["events"]] == ["opened", "assign", "contact", "state", "note", "promise", "state"]


def test_cases_update_errors_are_one_line_with_exit_code_2(cli, seeded):
    cli("cases", "open")
    code, out, err = cli("cases", "update", "1", "--state", "promised", "--by", "amy")
    assert code == 2 and out == ""
    assert err == "shopmon: error: case 1 cannot go from 'open' to 'promised' (allowed: contacted, platform_appeal, modified, closed)\n"
    code, _, err = cli("cases", "update", "1", "--promise-date", "next week", "--by", "amy")
    assert code == 2 and "is not a date" in err and err.count("\n") == 1
    code, _, err = cli("cases", "show", "42")
    assert (code, err) == (2, "shopmon: error: no case with id 42\n")
    code, _, err = cli("cases", "list", "--state", "bogus")
    assert code == 2 and "unknown state 'bogus'" in err


def test_alerts_send_writes_outbox_and_list_shows_status(cli, seeded):
    cli("cases", "open")
    code, out, _ = cli("alerts", "send")
    assert code == 0 and out.startswith("claimed 1, sent 1, emails 1") and "outbox" in out
    [eml] = list((seeded / "data" / "outbox").glob("*.eml"))
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "service@shop.example" and "c***t" in msg["Subject"]
    code, out, _ = cli("alerts", "list")
    assert code == 0 and "serious_case" in out and " sent " in out
    rows = json.loads(cli("alerts", "list", "--json", "--status", "sent")[1])
    assert len(rows) == 1 and rows[0]["payload"]["buyer_nick"] == "c***t"
    assert cli("alerts", "list", "--status", "lost")[0] == 2


def test_alerts_silence_add_list_remove(cli, seeded):
    # The listing as staff know it: its item id on the platform, not a database id.
    code, out, _ = cli("alerts", "silence", "add", "--listing", "i1", "--for", "24h", "--reason", "supplier issue", "--by", "amy")
    assert code == 0 and out.startswith("silence #1 (listing=tmall:i1) until ")
    code, out, _ = cli("alerts", "silence", "list")
    assert "listing=tmall:i1" in out and "supplier issue" in out
    cli("cases", "open")
    assert cli("alerts", "evaluate") == (0, "queued 0 alert(s)\n", "")
    assert cli("alerts", "silence", "remove", "1")[0] == 0
    assert cli("alerts", "silence", "list")[1] == "no silences\n"
    code, _, err = cli("alerts", "silence", "add", "--for", "1h")
    assert code == 2 and "at least one of kind, listing, reviewer or shop" in err
    for option, ref in (("--listing", "6123456"), ("--shop", "tmall:s9"), ("--reviewer", "nobody")):
        code, out, err = cli("alerts", "silence", "add", option, ref, "--for", "1h")
        what = option.removeprefix("--")
        assert (code, out) == (2, "") and err == (
            f"shopmon: error: no {what} {ref!r} (give its id as the platform shows it, optionally as platform:id)\n"
        )
    code, out, _ = cli("alerts", "silence", "add", "--shop", "s1", "--kind", "attack", "--for", "1h")
    assert code == 0 and "(kind=attack, shop=tmall:s1)" in out
    code, _, err = cli("alerts", "silence", "add", "--kind", "attack", "--for", "soon")
    assert code == 2 and "is not a duration" in err
    code, _, err = cli("alerts", "silence", "add", "--kind", "attack")
    assert code == 2 and "exactly one of --until or --for" in err


def test_alerts_report_queues_once_and_sends(cli, seeded):
    code, out, _ = cli("alerts", "report", "daily", "--send")
    assert code == 0 and out.splitlines()[0] == "queued 1 daily_digest"
    assert "emails 1" in out
    assert cli("alerts", "report", "daily")[1] == "daily_digest for this period was already queued\n"
    assert cli("alerts", "report", "monthly")[0] == 2
    [eml] = list((seeded / "data" / "outbox").glob("*.eml"))
    # no daily_digest recipients configured: falls back to the serious-case list
    assert message_from_bytes(eml.read_bytes(), policy=policy.default)["To"] == "service@shop.example"


def test_alerts_send_with_smtp_down_warns_and_keeps_alerts(cli, seeded):
    from alerts_testkit import free_port

    (seeded / "shopmon.toml").write_text(
        CONFIG + f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\ntimeout_seconds = 2\n',
        encoding="utf-8",
    )
    cli("cases", "open")
    code, out, err = cli("alerts", "send")
    assert code == 0 and "retrying 1" in out and "SMTP 127.0.0.1" in out
    assert err.startswith("warning: 1 alert(s) will be retried, 0 failed for good")
    rows = json.loads(cli("alerts", "list", "--json")[1])
    assert [(r["status"], r["attempts"]) for r in rows] == [("pending", 1)]
    assert "cannot reach SMTP server" in rows[0]["last_error"]


def test_bulk_update_of_several_cases_from_the_command_line(cli, seeded):
    cli("cases", "open")
    code, out, err = cli("cases", "update", "1", "2", "--contact", "wangwang", "--note", "sent the edit link", "--by", "amy")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "case #1: state contacted, contact wangwang, owner unassigned",
        "case #2: state contacted, contact wangwang, owner unassigned",
    ]
    for case_id in ("1", "2"):
        events = json.loads(cli("cases", "show", case_id, "--json")[1])["events"]
        assert [(e["action"], e["actor"]) for e in events][-3:] == [("contact", "amy"), ("state", "amy"), ("note", "amy")]
    code, out, err = cli("cases", "update", "1", "2", "--phone", "13812345678", "--by", "amy")
    assert code == 2 and "belong to one buyer" in err
    code, _, err = cli("cases", "update", "--state", "closed", "--by", "amy")
    assert code == 2 and "name at least one case id" in err
