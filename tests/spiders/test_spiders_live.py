"""Live crawls (subprocess + Scrapy) against the local demo marketplace on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from models import CrawlRun, Listing, ListingImage, Review, ReviewRevision
from monitor.config import Settings, ShopConfig, load_settings
from monitor.crawl import crawl_all, crawl_shop
from monitor.db import get_engine, upgrade
from monitor.image_store import open_store
from market_driver import Marketplace, serve_marketplace

pytestmark = pytest.mark.slow


@pytest.fixture
def market():
    with serve_marketplace() as m:
        yield m


@pytest.fixture
def live_settings(tmp_path: Path, market: Marketplace) -> Settings:
    s = load_settings(
        data_dir=tmp_path / "data",
        shops=market.shops(),
        alerts={"recipients": {"serious_case": ["owner@example.com"]}},
        crawl={"download_delay": 0, "autothrottle": False, "retry_times": 2},
    )
    upgrade(s)
    return s


def count(settings: Settings, stmt) -> int:  # noqa: ANN001
    with Session(get_engine(settings)) as s:
        return s.exec(stmt).one()


def test_crawl_then_unchanged_then_new_reviews(live_settings: Settings, market: Marketplace) -> None:
    shop = live_settings.shop("tb-demo")
    listings = [li for li in market.listings() if li["id"].startswith("6000")]
    total = sum(len(li["reviews"]) for li in listings)

    first = crawl_shop(live_settings, shop, timeout=120)
    assert (first.status, first.full, first.failure_kind) == ("ok", True, None)
    assert (first.listings_seen, first.reviews_new, first.items_invalid) == (4, total, 0)
    assert count(live_settings, select(func.count()).select_from(Review)) == total
    # the mismatch listing's photo is stored locally for the image checks
    with Session(get_engine(live_settings)) as s:
        hoodie = s.exec(select(Listing).where(Listing.external_id == "600000000002")).one()
        main = s.exec(select(ListingImage).where(ListingImage.listing_id == hoodie.id,
                                                 ListingImage.role == "main")).one()
        images = open_store(live_settings.image_store_uri)  # the row holds the key in the image store
        assert main.local_path and images.get(main.local_path)[:4] == b"\x89PNG"
        buyer = s.exec(select(ListingImage).where(ListingImage.role == "buyer")).all()
        assert len(buyer) == 2 and all(b.local_path and images.get(b.local_path) for b in buyer)
        attack = s.exec(select(Review).where(Review.text.contains("垃圾"))).all()
        assert len(attack) == 10

    before = len(market.page_requests())
    second = crawl_shop(live_settings, shop, timeout=120)
    made = market.page_requests()[before:]
    assert (second.status, second.full, second.reviews_new) == ("ok", False, 0)
    # the shop page, then the newest review page of each listing (crawl.recent_review_pages = 1)
    rates = "/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId={}&pageNo=1&orderType=feedbackdate"
    assert sorted(made) == sorted(["/taobao/search?shop_id=57300001", *(rates.format(li["id"]) for li in listings)])

    new_ids = market.add_reviews("600000000003", ["背包很结实，拉链顺滑。", "Great backpack, fits a 15 inch laptop.",
                                                  "颜色和图片一样，满意。"])
    before = len(market.page_requests())
    third = crawl_shop(live_settings, shop, timeout=120)
    made = market.page_requests()[before:]
    assert (third.status, third.reviews_new, third.reviews_updated, third.reviews_missing) == ("ok", 3, 0, 0)
    # page 1 of the listing with new reviews already reaches stored ones: no page 2
    assert sorted(made) == sorted(["/taobao/search?shop_id=57300001", *(rates.format(li["id"]) for li in listings)])
    with Session(get_engine(live_settings)) as s:
        stored = set(s.exec(select(Review.external_id).where(Review.external_id.in_(new_ids))).all())
        assert stored == set(new_ids)
        assert s.exec(select(func.count()).select_from(Review)).one() == total + 3
        runs = s.exec(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["ok", "ok", "ok"]


def test_full_recrawl_records_edits_and_deletions(live_settings: Settings, market: Marketplace) -> None:
    shop = live_settings.shop("jd-demo")
    assert crawl_shop(live_settings, shop, timeout=120).status == "ok"
    kettle = next(li for li in market.listings() if li["id"] == "100012345602")
    edited, deleted = kettle["reviews"][0]["id"], kettle["reviews"][1]["id"]
    market.edit_review(edited, text="用了一个月就漏水了，质量不行。", rating=1)
    market.delete_review(deleted)

    incremental = crawl_shop(live_settings, shop, timeout=120)
    # page 1 (newest first) is read: the edit there is caught ...
    # ... and the deletion too, but one crawl's word is not enough: missing, not deleted
    assert (incremental.reviews_updated, incremental.reviews_deleted, incremental.reviews_missing) == (1, 0, 1)
    full = crawl_shop(live_settings, shop, full=True, timeout=120)
    assert (full.status, full.full, full.reviews_updated, full.reviews_deleted) == ("ok", True, 0, 1)
    with Session(get_engine(live_settings)) as s:
        revs = s.exec(select(ReviewRevision).order_by(ReviewRevision.id)).all()
        assert sorted(r.change for r in revs) == ["deleted", "edited"]
        row = s.exec(select(Review).where(Review.external_id == edited)).one()
        assert (row.text, row.rating, row.revision_count) == ("用了一个月就漏水了，质量不行。", 1, 1)
        gone = s.exec(select(Review).where(Review.external_id == deleted)).one()
        assert gone.deleted_at is not None and gone.text  # kept, marked, not erased


def one_listing_shop(market: Marketplace) -> ShopConfig:
    return ShopConfig(id="amz-one", platform="amazon", url=f"{market.base_url}/dp/B0DEMO0002")


CAPTCHA = ('<html><head><title>Robot Check</title></head><body><form action="/errors/validateCaptcha">'
           '<input id="captchacharacters"></form></body></html>')


def test_captcha_served_with_200_is_a_failure(live_settings: Settings, market: Marketplace) -> None:
    market.inject("/dp/", body=CAPTCHA, times=5)
    run = crawl_shop(live_settings, one_listing_shop(market), timeout=120)
    assert (run.status, run.failure_kind) == ("failed", "captcha")
    assert "captcha page served" in run.error


def test_429_then_200_is_retried(live_settings: Settings, market: Marketplace) -> None:
    market.inject("/dp/", status=429, body="slow down", times=2)
    runs = crawl_all(live_settings, ["amz-demo"])  # only the shops asked for
    assert [(r.shop_config_id, r.status, r.reviews_new) for r in runs] == [("amz-demo", "ok", 32)]
    assert runs[0].stats["retry/count"] == 2
    assert runs[0].stats["page_requests"] == 2 + 4 + 2  # two product pages, 2+2 review pages, 2 retries
    dp = [p for p in market.page_requests() if p.startswith("/dp/")]
    assert sorted(set(dp)) == ["/dp/B0DEMO0001", "/dp/B0DEMO0002"] and len(dp) == 4  # each 429 was retried


def test_403_after_retries_is_blocked(live_settings: Settings, market: Marketplace) -> None:
    market.inject("/dp/", status=403, body="denied", times=50)
    run = crawl_shop(live_settings, one_listing_shop(market), timeout=120)
    assert (run.status, run.failure_kind) == ("failed", "blocked")
    assert count(live_settings, select(func.count()).select_from(Review)) == 0


def test_empty_shop_is_zero_items_and_robots_are_obeyed(live_settings: Settings, market: Marketplace) -> None:
    market.inject("/jd/list", body='<html><body><div id="J_goodsList"><ul class="gl-warp clearfix"></ul></div>'
                                   "</body></html>", content_type="text/html; charset=gbk")
    run = crawl_shop(live_settings, live_settings.shop("jd-demo"), timeout=120)
    assert (run.status, run.failure_kind) == ("failed", "zero_items")

    market.inject("/robots.txt", body="User-agent: *\nDisallow: /\n", content_type="text/plain")
    before = len(market.page_requests())
    run = crawl_shop(live_settings, live_settings.shop("jd-demo"), timeout=120)
    assert market.page_requests()[before:] == []  # nothing fetched but robots.txt
    assert (run.status, run.failure_kind) == ("failed", "zero_items")
    assert "robots.txt forbids 1 of its page(s)" in run.error


def test_truncated_page_is_kept_and_counted(live_settings: Settings, market: Marketplace) -> None:
    market.inject("productId=100012345603", body='fetchJSON_comment98({"comments":[{"id":1,', times=1,
                  content_type="text/html;charset=UTF-8")
    run = crawl_shop(live_settings, live_settings.shop("jd-demo"), timeout=120)
    assert run.status == "ok"  # the other listings were crawled and stored
    assert run.stats["shopmon/parse_errors"] == 1
    saved = list((live_settings.data_dir / "crawl-rejects" / "pages").glob("jd-*.bin"))
    assert len(saved) == 1 and saved[0].read_bytes().startswith(b"fetchJSON_comment98(")
    stored_listings = count(live_settings, select(func.count()).select_from(Listing))
    assert stored_listings == 4


def test_timeout_is_recorded(live_settings: Settings, market: Marketplace) -> None:
    run = crawl_shop(live_settings, live_settings.shop("tb-demo"), timeout=0.2)
    assert (run.status, run.failure_kind) == ("failed", "timeout")
    assert run.finished_at is not None


def test_crawl_stopped_mid_way_keeps_what_it_stored(live_settings: Settings, market: Marketplace,
                                                     monkeypatch) -> None:  # noqa: ANN001
    import monitor.child_process

    monkeypatch.setattr(monitor.child_process, "STOP_GRACE_SECONDS", 2.0)
    # one listing's review API hangs: the crawl is stopped at its limit while waiting for it
    market.inject("auctionNumId=600000000004", body=None, delay=600)
    others = sum(len(li["reviews"]) for li in market.listings() if li["id"] in ("600000000001", "600000000002",
                                                                                  "600000000003"))
    stored = select(func.count()).select_from(Review)
    stop_at_limit = monitor.child_process._wait

    def limit_reached_once_the_rest_is_stored(proc, limit, grace):  # noqa: ANN001, ANN202
        # The limit is made to fall while the hung request is the only work left, however slow the
        # machine: wait (bounded) for that state, then let the real wait run out at once.
        for _ in range(1200):
            if proc.poll() is not None:
                break
            hung = any("auctionNumId=600000000004" in p for p in market.request_log)
            if hung and count(live_settings, stored) == others:
                break
            time.sleep(0.25)
        return stop_at_limit(proc, 0, grace)

    monkeypatch.setattr(monitor.child_process, "_wait", limit_reached_once_the_rest_is_stored)
    run = crawl_shop(live_settings, live_settings.shop("tb-demo"), timeout=900)
    assert (run.status, run.failure_kind) == ("failed", "timeout")
    assert count(live_settings, stored) == others == run.reviews_new


def test_cli_crawl_prints_one_line_per_shop(tmp_path: Path, market: Marketplace, capsys) -> None:  # noqa: ANN001
    from monitor.cli import main

    shop = next(s for s in market.shops() if s["id"] == "amz-demo")
    cfg = tmp_path / "shopmon.toml"
    cfg.write_text(
        f'data_dir = "{(tmp_path / "cli-data").as_posix()}"\n'
        "[crawl]\ndownload_delay = 0\nautothrottle = false\n"
        "[alerts.recipients]\nserious_case = [\"o@example.com\"]\n"
        f'[[shops]]\nid = "amz-demo"\nplatform = "amazon"\nurl = "{shop["url"]}"\n'
        f'listing_urls = ["{shop["listing_urls"][0]}"]\n', encoding="utf-8")
    assert main(["--config", str(cfg), "crawl", "--shop", "amz-demo", "--no-process"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("amz-demo: ok (full) requests=") and "listings=2 new=32 updated=0 deleted=0 missing=0 invalid=0" in out
    assert "\n" not in out  # --no-process: only the crawl line
