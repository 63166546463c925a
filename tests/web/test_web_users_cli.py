"""`shopmon users` and the web settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from models import User
from monitor.accounts import authenticate
from monitor.cli import main
from monitor.config import load_settings
from monitor.db import session_scope
from monitor.errors import ConfigError


def _cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    import io
    import sys

    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(args))


def test_users_add_list_disable_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    assert _cli(tmp_path, monkeypatch, "users", "add", "li.wei", "--role", "supervisor", "--password-stdin",
                stdin="correct horse 1\n") == 0
    settings = load_settings(data_dir=tmp_path / "data")
    with session_scope(settings) as s:
        user = s.exec(select(User).where(User.name == "li.wei")).one()
        assert user.role == "supervisor" and user.password_hash.startswith("$argon2")
        assert "correct horse" not in user.password_hash
        assert authenticate(s, "li.wei", "correct horse 1") is not None
        assert authenticate(s, "li.wei", "wrong") is None
    assert _cli(tmp_path, monkeypatch, "users", "add", "li.wei", "--role", "staff", stdin="another pw 1\n") == 2
    assert "already exists" in capsys.readouterr().err
    assert _cli(tmp_path, monkeypatch, "users", "add", "x", "--role", "boss", stdin="another pw 1\n") == 2
    assert "unknown role" in capsys.readouterr().err
    assert _cli(tmp_path, monkeypatch, "users", "add", "y", stdin="short\n") == 2
    assert _cli(tmp_path, monkeypatch, "users", "list") == 0
    out = capsys.readouterr().out
    assert "li.wei" in out and "supervisor" in out and "active" in out
    assert _cli(tmp_path, monkeypatch, "users", "disable", "li.wei") == 0
    with session_scope(settings) as s:
        assert authenticate(s, "li.wei", "correct horse 1") is None
    assert _cli(tmp_path, monkeypatch, "users", "disable", "li.wei", "--enable") == 0
    assert _cli(tmp_path, monkeypatch, "users", "reset", "li.wei", stdin="new password 2\n") == 0
    with session_scope(settings) as s:
        assert authenticate(s, "li.wei", "new password 2") is not None
        assert authenticate(s, "li.wei", "correct horse 1") is None


def test_secret_key_only_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cfg").mkdir()
    cfg = tmp_path / "cfg" / "shopmon.toml"
    cfg.write_text('[web]\nsecret_key = "' + "s" * 40 + '"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="SHOPMON_WEB__SECRET_KEY"):
        load_settings(cfg)
    monkeypatch.setenv("SHOPMON_WEB__SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(None)
    monkeypatch.setenv("SHOPMON_WEB__SECRET_KEY", "e" * 40)
    monkeypatch.setenv("SHOPMON_WEB__BASE_URL", "https://board.example.com")
    s = load_settings(None)
    assert s.web.secret_key.get_secret_value() == "e" * 40 and "e" * 40 not in repr(s)
