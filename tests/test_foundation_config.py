"""Settings validation: bad values are rejected with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_settings
from monitor.errors import ConfigError

GOOD_SHOP = """
[[shops]]
id = "demo"
platform = "taobao"
url = "https://shop105815128.taobao.com/"
interval_minutes = 60

[alerts.recipients]
serious_case = ["aftersales@example.com"]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "shopmon.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_need_no_file(tmp_path: Path) -> None:
    s = load_settings()
    assert s.shops == []
    assert s.db_url.startswith("sqlite:///")
    assert s.db_url.endswith("shopmon-data/shopmon.db")
    assert s.models_path == Path("shopmon-data/models")


def test_good_file_loads(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, GOOD_SHOP))
    assert s.shop("demo").interval_minutes == 60
    assert s.alerts.recipients["serious_case"] == ["aftersales@example.com"]


def test_a_shop_sets_its_own_language_and_time_zone(tmp_path: Path) -> None:
    text = GOOD_SHOP.replace("interval_minutes = 60", 'language = "zh"\ntimezone = "Asia/Shanghai"')
    s = load_settings(write(tmp_path, text + '\n[alerts]\ntimezone = "Europe/Berlin"\n'))
    assert (s.locale_for("demo").language, s.locale_for("demo").timezone) == ("zh", "Asia/Shanghai")
    assert (s.locale_for("other").language, s.locale_for(None).timezone) == ("en", "Europe/Berlin")


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SHOPMON_SMTP__HOST", "mail.example.com")
    monkeypatch.setenv("SHOPMON_SMTP__PASSWORD", "s3cret")
    s = load_settings(write(tmp_path, GOOD_SHOP))
    assert s.data_dir == tmp_path / "elsewhere"
    assert s.smtp.host == "mail.example.com"
    assert s.smtp.password is not None and s.smtp.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD_SHOP.replace("https://shop105815128.taobao.com/", "not a url"), "shops.0.url"),
        (GOOD_SHOP.replace("interval_minutes = 60", "interval_minutes = -5"), "shops.0.interval_minutes"),
        (GOOD_SHOP.replace('serious_case = ["aftersales@example.com"]', ""), "alerts.recipients.serious_case"),
        (GOOD_SHOP.replace('["aftersales@example.com"]', '["not-an-address"]'), "not an email address"),
        (GOOD_SHOP.replace('platform = "taobao"', 'platform = "ebay"'), "shops.0.platform"),
        (GOOD_SHOP + '\n[smtp]\npassword = "x"\n', "must not be stored in the file"),
        (GOOD_SHOP + "\nunknown_key = 1\n", "unknown_key"),
        (GOOD_SHOP + GOOD_SHOP.split("[alerts")[0], "duplicate shop id"),
        (GOOD_SHOP.replace("interval_minutes = 60", 'timezone = "Mars/Olympus"'), "unknown time zone 'Mars/Olympus'"),
        (GOOD_SHOP.replace("interval_minutes = 60", 'language = "fr"'), "shops.0.language"),
        (GOOD_SHOP + "\n[detection]\ncatch_up_slice = 0\n", "detection.catch_up_slice"),
    ],
)
def test_bad_values_are_rejected_clearly(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[[shops]\nid = 1", "not valid TOML"),
        # Issue 12 item 6: secrets never come from the file, database passwords included.
        ('database_url = "postgresql+psycopg://shop:hunter2@127.0.0.1:5432/test"\n' + GOOD_SHOP,
         "database_url contains a password"),
        ('database_url = "postgresql://127.0.0.1/test?user=shop&password=hunter2"\n' + GOOD_SHOP,
         "database_url contains a password"),
        ('registry_key = "abc"\n' + GOOD_SHOP, "registry_key must not be stored in the file"),
        (GOOD_SHOP.replace("interval_minutes = 60", "interval_minutes = -5"), "interval_minutes"),
        (GOOD_SHOP.replace("https://shop105815128.taobao.com/", "ftp//x"), "url"),
        (GOOD_SHOP.replace('serious_case = ["aftersales@example.com"]', ""), "recipients"),
    ],
)
def test_cli_reports_config_errors_with_exit_2(tmp_path: Path, capsys, text: str, needle: str) -> None:
    cfg = write(tmp_path, text)
    code = main(["--config", str(cfg), "db", "upgrade"])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_non_utf8_config_file(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "shopmon.toml"
    cfg.write_bytes("data_dir = '数据'".encode("gbk"))
    assert main(["--config", str(cfg), "db", "current"]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_missing_config_file(tmp_path: Path, capsys) -> None:
    assert main(["--config", str(tmp_path / "nope.toml"), "db", "current"]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_password_refusal_never_echoes_it_and_env_url_is_fine(tmp_path: Path, capsys, monkeypatch) -> None:
    cfg = write(tmp_path, 'database_url = "postgresql://shop:hunter2@127.0.0.1/test"\n' + GOOD_SHOP)
    assert main(["--config", str(cfg), "db", "current"]) == 2
    assert "hunter2" not in capsys.readouterr().err
    # Without a password the file may name the server; the environment may carry the full URL.
    cfg = write(tmp_path, 'database_url = "postgresql://shop@127.0.0.1/test"\n' + GOOD_SHOP)
    assert load_settings(cfg).database_url == "postgresql://shop@127.0.0.1/test"
    monkeypatch.setenv("SHOPMON_DATABASE_URL", "postgresql://shop:hunter2@127.0.0.1/test")
    assert load_settings(cfg).database_url.endswith("hunter2@127.0.0.1/test")
