"""``shopmon parse`` and ``shopmon crawl`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main


def test_parse_prints_json_lines(fixtures_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = fixtures_dir / "pages" / "jd" / "comments_100099990001_page0.jsonp"
    # the last of 3 pages (23 comments declared, 10 a page) holds these 3: a complete page
    url = "https://club.jd.com/comment/productPageComments.action?productId=100099990001&page=2"
    assert main(["parse", str(page), "--url", url]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["review_id"] for r in rows] == ["31000000003", "31000000002", "31000000001"]
    assert list(rows[0]) == ["kind", "platform", "review_id", "listing_id", "reviewer_nick", "rating", "title", "text",
                             "created_at", "sku", "photos", "helpful_votes", "verified_purchase", "follow_up_text",
                             "seller_reply"]
    assert rows[0]["seller_reply"] == "亲，非常抱歉，已为您安排换货。"
    assert "3 review(s)" in err


def test_parse_listing_shape_and_site_option(fixtures_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = fixtures_dir / "pages" / "shopify" / "products_page1.json"
    assert main(["parse", str(page), "--site", "shopify"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert list(first) == ["kind", "platform", "listing_id", "shop_id", "title", "price", "currency", "images",
                           "attributes", "rating_avg", "review_count"]
    assert (first["kind"], first["rating_avg"]) == ("listing", None)


def test_parse_reports_decode_errors(fixtures_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = fixtures_dir / "pages" / "taobao" / "item_610000000042_mojibake.html"
    assert main(["parse", str(page)]) == 0
    out, err = capsys.readouterr()
    assert all(json.loads(line)["decode_errors"] > 0 for line in out.splitlines())
    assert "decode_errors=185" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["parse", "missing.html"], "cannot read missing.html"),
        (["parse", "{page}", "--site", "ebay"], "unknown site 'ebay'"),
        (["parse", "{wall}"], "this is a captcha page"),
    ],
)
def test_parse_errors_are_one_line(fixtures_dir: Path, capsys: pytest.CaptureFixture[str], args, message) -> None:
    pages = fixtures_dir / "pages"
    args = [a.format(page=pages / "jd" / "comments_empty.jsonp", wall=pages / "walls" / "amazon_robot_check.html")
            for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_crawl_without_shops_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl"]) == 2
    assert "no shops configured" in capsys.readouterr().err


def test_crawl_unknown_shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "shopmon.toml"
    cfg.write_text(
        '[[shops]]\nid = "a"\nplatform = "jd"\nurl = "http://127.0.0.1:9/jd/list"\n'
        '[alerts.recipients]\nserious_case = ["o@example.com"]\n', encoding="utf-8")
    assert main(["--config", str(cfg), "crawl", "--shop", "nope"]) == 2
    assert "no shop with id 'nope'" in capsys.readouterr().err


def test_crawl_exit_status_1_when_a_shop_failed(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from models import CrawlRun

    def fake_crawl(settings, shop, *, full=None, timeout=None):  # noqa: ANN001, ANN202
        if shop.id == "bad":
            return CrawlRun(spider="jd", full=False, status="failed", failure_kind="captcha",
                            error="captcha page served for http://127.0.0.1:9/jd/list", requests=2)
        return CrawlRun(spider="jd", full=True, status="ok", requests=5, listings_seen=3, reviews_new=7)

    monkeypatch.setattr("monitor.crawl.crawl_shop", fake_crawl)
    cfg = tmp_path / "shopmon.toml"
    cfg.write_text(
        "[alerts.recipients]\nserious_case = [\"o@example.com\"]\n"
        '[[shops]]\nid = "good"\nplatform = "jd"\nurl = "http://127.0.0.1:9/jd/list"\n'
        '[[shops]]\nid = "bad"\nplatform = "jd"\nurl = "http://127.0.0.1:9/jd/list"\n', encoding="utf-8")
    assert main(["--config", str(cfg), "crawl"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "good: ok (full) requests=5 listings=3 new=7 updated=0 deleted=0 missing=0 invalid=0",
        "bad: failed (incremental) requests=2 listings=0 new=0 updated=0 deleted=0 missing=0 invalid=0 "
        "failure=captcha: captcha page served for http://127.0.0.1:9/jd/list",
    ]
    # what was stored is processed even when a shop failed: then the pipeline's two lines
    assert out[2].startswith("scored ") and out[3].startswith("opened ") and len(out) == 4
