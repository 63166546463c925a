"""`shopmon demo` end to end: crawl → store → detect → case → alert email, then run it again."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from monitor.cli import main


@pytest.mark.slow
def test_demo_runs_end_to_end_and_again(tmp_path: Path, capsys) -> None:
    target = tmp_path / "demo"
    assert main(["demo", "--data-dir", str(target)]) == 0
    out = capsys.readouterr().out
    assert "shopmon demo finished" in out
    for needle in ("reviews", "malicious", "attack", "cases:", "emails written"):
        assert needle in out

    emails = sorted((target / "outbox").glob("**/*.eml"))
    assert emails, "the demo wrote no alert email"
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in emails]
    assert all(m["To"] and m["Subject"] for m in messages)
    assert any(m.get_body(("html",)) is not None and m.get_body(("plain",)) is not None for m in messages)

    # The Chinese shops' team reads Chinese: their case emails are in Chinese.
    serious = [m.get_body(("plain",)).get_content() for m in messages if m["X-Shopmon-Kind"] == "serious_case"]
    assert any("处理建议" in body for body in serious)

    # The config it leaves behind lets the CLI keep working on the same database.
    assert main(["--config", str(target / "shopmon.toml"), "cases", "list"]) == 0
    capsys.readouterr()
    assert main(["--config", str(target / "shopmon.toml"), "reputation", "--shop", "tb-demo"]) == 0
    assert "调整后评分" in capsys.readouterr().out

    # It ends by saying how to open the board, with a login that works; emails link to the board.
    import re

    from monitor.accounts import authenticate
    from monitor.config import load_settings
    from monitor.db import session_scope

    assert f"shopmon --config {target / 'shopmon.toml'} web" in out
    name, password = re.search(r"sign in as (\S+) \(password (\S+), role admin\)", out).groups()
    settings = load_settings(target / "shopmon.toml")
    assert str(settings.web.base_url).startswith("http://127.0.0.1:8000")
    with session_scope(settings) as s:
        assert authenticate(s, name, password) is not None
    assert any("http://127.0.0.1:8000/cases/" in m.get_body(("plain",)).get_content() for m in messages
               if m.get_body(("plain",)) is not None)

    # Running again starts from a fresh directory instead of piling onto the old one.
    assert main(["demo", "--data-dir", str(target)]) == 0
    assert len(list((target / "outbox").glob("**/*.eml"))) == len(emails)


def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path, capsys) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    assert main(["demo", "--data-dir", str(tmp_path / "precious")]) == 1
    assert "was not made by `shopmon demo`" in capsys.readouterr().err
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
def test_demo_keeps_its_own_database_and_says_where_it_is(tmp_path: Path, capsys, monkeypatch) -> None:
    elsewhere = tmp_path / "real-work.db"
    monkeypatch.setenv("SHOPMON_DATABASE_URL", f"sqlite:///{elsewhere}")  # left set for real work
    target = tmp_path / "demo"
    assert main(["demo", "--data-dir", str(target)]) == 0
    out = capsys.readouterr().out
    [line] = [ln for ln in out.splitlines() if ln.strip().startswith("database:")]
    shown = Path(line.split(":", 1)[1].strip())
    assert shown == (target / "shopmon.db").resolve() and shown.is_file()
    assert not elsewhere.exists()  # the environment's database got no demo shops

    # Told otherwise, it uses that database (and refuses one that already holds reviews).
    named = tmp_path / "named.db"
    assert main(["demo", "--data-dir", str(target), "--database-url", f"sqlite:///{named}"]) == 0
    assert f"database:    {named.resolve()}" in capsys.readouterr().out
    assert main(["demo", "--data-dir", str(target), "--database-url", f"sqlite:///{named}"]) == 1
    assert "already holds reviews" in capsys.readouterr().err
