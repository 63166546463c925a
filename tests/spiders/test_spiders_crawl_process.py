"""monitor.crawl around the subprocess: full/incremental choice, crashes, what the child receives."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from models import CrawlRun
from monitor import crawl as crawl_mod
from monitor.config import Settings, ShopConfig, load_settings
from monitor.db import get_engine, upgrade

SHOP = {"id": "tb1", "platform": "taobao", "url": "http://127.0.0.1:9/taobao/search?shop_id=1", "full_recrawl_every": 3}


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    s = load_settings(data_dir=tmp_path / "data", shops=[SHOP], alerts={"recipients": {"serious_case": ["o@example.com"]}})
    upgrade(s)
    return s


def fake_child(tmp_path: Path, body: str) -> Path:
    """A stand-in for the Python interpreter that runs `body` instead of the spider."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!{sys.executable}\nimport json, os, sys\nargs = sys.argv[1:]\n{body}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_every_nth_crawl_is_full(cfg: Settings) -> None:
    shop = cfg.shop("tb1")
    with Session(get_engine(cfg)) as s:
        assert crawl_mod._is_full(s, shop) is True  # first crawl: everything is new anyway
        for n in range(1, 7):
            s.add(CrawlRun(shop_config_id="tb1", spider="taobao", status="ok"))
            s.commit()
            assert crawl_mod._is_full(s, shop) is ((n + 1) % 3 == 0), n
        s.add(CrawlRun(shop_config_id="tb1", spider="taobao", status="failed"))
        s.commit()
        assert crawl_mod._is_full(s, shop) is False  # failed crawls do not count


def test_child_crash_is_recorded_as_error(cfg: Settings, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "executable", str(fake_child(tmp_path, 'print("MemoryError: boom"); sys.exit(3)')))
    run = crawl_mod.crawl_shop(cfg, cfg.shop("tb1"), timeout=30)
    assert (run.status, run.failure_kind) == ("failed", "error")
    assert run.error == "crawl process exited with code 3: MemoryError: boom"
    assert Path(run.stats["log"]).read_text().strip() == "MemoryError: boom"


def test_child_gets_no_secrets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SHOPMON_SMTP__PASSWORD", "hunter2-secret")
    cfg = load_settings(data_dir=tmp_path / "data", shops=[SHOP], alerts={"recipients": {"serious_case": ["o@example.com"]}},
                        smtp={"host": "127.0.0.1", "username": "u"})
    assert cfg.smtp.password is not None
    upgrade(cfg)
    out = tmp_path / "seen.json"
    body = (f"job = json.load(open(args[-1]))\n"
            f"json.dump({{'job': job, 'env': dict(os.environ)}}, open({str(out)!r}, 'w'))\n"
            "json.dump({'status': 'ok', 'listings_seen': 1, 'reviews_new': 2, 'requests': 3,"
            " 'stats': {'x': 1}}, open(job['result_path'], 'w'))")
    monkeypatch.setattr(sys, "executable", str(fake_child(tmp_path, body)))
    run = crawl_mod.crawl_shop(cfg, cfg.shop("tb1"), full=False, timeout=30)
    assert run.error is None, Path(run.stats["log"]).read_text()
    assert (run.status, run.full, run.listings_seen, run.reviews_new, run.requests) == ("ok", False, 1, 2, 3)
    seen = json.loads(out.read_text())
    assert "hunter2-secret" not in json.dumps(seen)
    assert "smtp" not in seen["job"]["settings"] and "alerts" not in seen["job"]["settings"]
    assert seen["job"]["shop"]["id"] == "tb1" and seen["job"]["run_id"] == run.id
    assert Path(seen["job"]["settings"]["data_dir"]).is_absolute()
    assert not Path(seen["job"]["result_path"]).exists()  # the job folder is removed afterwards


def test_database_url_reaches_the_child_through_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    cfg = load_settings(data_dir=tmp_path / "d", database_url=url)
    env = crawl_mod._child_env(cfg)
    assert env["SHOPMON_DATABASE_URL"] == url
    assert "database_url" not in cfg.model_dump(mode="json", include=crawl_mod._JOB_FIELDS)


def test_spider_lookup() -> None:
    from spiders.run import spider_class

    assert [spider_class(p).name for p in ("taobao", "tmall", "jd", "amazon", "schemaorg", "shopify")] == [
        "taobao", "tmall", "jd", "amazon", "schemaorg", "shopify"]
    shop = ShopConfig(id="x", platform="jd", url="https://mall.jd.com/index-1.html")
    assert shop.full_recrawl_every == 12


@pytest.mark.parametrize(
    ("stats", "counts", "failure", "expected"),
    [
        ({}, {"listings_seen": 2, "reviews_new": 5}, None, ("ok", None)),
        ({}, {}, None, ("failed", "zero_items")),
        ({"shopmon/listings_unchanged": 3}, {}, None, ("ok", None)),
        ({"downloader/exception_count": 2}, {}, None, ("failed", "error")),
        ({"downloader/exception_count": 1,
          "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 1, "robotstxt/forbidden": 1}, {}, None,
         ("failed", "zero_items")),
        ({"spider_exceptions/count": 1, "spider_exceptions/KeyError": 1}, {"reviews_new": 9}, None, ("failed", "error")),
        ({"shopmon/parse_errors": 2}, {}, None, ("failed", "error")),
        ({}, {"reviews_new": 1}, ("captcha", "captcha page served"), ("failed", "captcha")),
    ],
)
def test_outcome_of_a_crawl(stats, counts, failure, expected) -> None:  # noqa: ANN001
    from types import SimpleNamespace

    from spiders.run import summarise
    from spiders.item_rows import StoreCounts

    store = SimpleNamespace(counts=StoreCounts(**counts))
    context = SimpleNamespace(store=store, failure=failure[0] if failure else None,
                              failure_detail=failure[1] if failure else None)
    out = summarise({"downloader/request_count": 4, "robotstxt/request_count": 1, **stats}, context)
    assert (out["status"], out["failure_kind"]) == expected
    assert out["page_requests"] == 3
    if expected[1] == "error" and "spider_exceptions/count" in stats:
        assert out["error"].startswith("1 callback(s) raised")
