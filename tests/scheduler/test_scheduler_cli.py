"""``shopmon schedule --once`` and ``shopmon status`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scheduler_doubles
from scheduler_fixtures import doubles, make_settings  # noqa: F401  (fixtures)
from monitor.cli import main

CONFIG = """
data_dir = "{data}"
[[shops]]
id = "alpha"
platform = "schemaorg"
url = "http://127.0.0.1:9/alpha"
jitter_seconds = 0
[alerts.recipients]
serious_case = ["owner@example.com"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "shopmon.toml"
    path.write_text(CONFIG.format(data=tmp_path / "data"))
    return path


def test_status_before_anything_ran(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "scheduler: none active" in out
    assert "crawl:alpha" in out and "not in the job store yet" in out
    assert "alpha                    never crawled" in out


def test_once_then_status_shows_results_and_last_crawl(
    config: Path, doubles, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-c", str(config), "schedule", "--once"]) == 0
    out = capsys.readouterr().out
    assert "3 job run(s)" in out and "crawl:alpha ok" in out

    assert main(["-c", str(config), "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    jobs = {j["id"]: j for j in data["jobs"]}
    assert jobs["crawl:alpha"]["last_status"] == "ok"
    assert jobs["crawl:alpha"]["last_counts"]["reviews_new"] == 2
    assert jobs["crawl:alpha"]["scheduled"] and jobs["crawl:alpha"]["next_run"]
    assert jobs["report:daily_digest"]["last_status"] is None
    assert data["scheduler"]["active"] is False  # --once released its lease

    assert main(["-c", str(config), "status"]) == 0
    text = capsys.readouterr().out
    assert "last: ok for" in text and "reviews_new=2" in text
    assert len(scheduler_doubles.events(_settings(config))) == 4  # crawl, process, send, evaluate


def test_once_exits_1_when_a_job_failed(config: Path, doubles, capsys: pytest.CaptureFixture[str]) -> None:
    doubles(send="send_boom")
    assert main(["-c", str(config), "schedule", "--once"]) == 1
    captured = capsys.readouterr()
    assert "alerts:send error" in captured.out
    assert "SMTP relay on fire" in captured.err  # the one log line for that run


def test_a_skipped_crawl_shows_as_skipped_with_its_holder(config: Path, doubles, capsys: pytest.CaptureFixture[str]) -> None:
    doubles(crawl="crawl_held")
    assert main(["-c", str(config), "schedule", "--once"]) == 0  # nothing failed
    assert "crawl:alpha skipped" in capsys.readouterr().out

    assert main(["-c", str(config), "status"]) == 0
    text = capsys.readouterr().out
    assert "last: skipped for" in text and "reason: crawl:alpha is held by host:7:other" in text
    assert main(["-c", str(config), "status", "--json"]) == 0
    jobs = {j["id"]: j for j in json.loads(capsys.readouterr().out)["jobs"]}
    assert jobs["crawl:alpha"]["last_status"] == "skipped"


def test_bad_option_is_one_clear_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(config), "schedule", "--lease-seconds", "0"]) == 2
    assert "--lease-seconds" in capsys.readouterr().err


def _settings(config: Path):  # noqa: ANN202
    from monitor.config import load_settings

    return load_settings(config)
