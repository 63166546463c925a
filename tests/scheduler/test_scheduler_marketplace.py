"""With the real spiders and alert rules against the local demo marketplace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from scheduler_fixtures import doubles, make_settings  # noqa: F401  (fixtures)
from models.alerts import Alert
from models.crawl import CrawlRun
from models.scheduler import JobRun
from monitor.db import get_engine
from market_driver import serve_marketplace
from monitor.scheduler.service import run_once
from monitor.scheduler.tasks import HOOKS

pytestmark = pytest.mark.slow
CAPTCHA = "<html><head><title>验证码</title></head><body><div id='nc_1_wrapper'>请完成安全验证 captcha</div></body></html>"


def test_scheduled_crawls_store_reviews_and_a_blocked_crawl_raises_crawl_health(make_settings, doubles, monkeypatch) -> None:
    doubles(process="process_alerts_only")
    monkeypatch.setitem(HOOKS, "crawl", "monitor.scheduler.tasks:crawl_in_child")  # the real spider runner
    monkeypatch.setitem(HOOKS, "evaluate", "alerts.rules:evaluate")
    with serve_marketplace() as market:
        shop = next(s for s in market.shops() if s["platform"] == "jd")
        settings = make_settings(
            shops=[{**shop, "jitter_seconds": 0, "interval_minutes": 60}],
            crawl={"download_delay": 0, "autothrottle": False, "retry_times": 0},
        )
        now = datetime.now(UTC)
        first = run_once(settings, now=now)
        assert ("crawl:" + shop["id"], "ok") in {(r["job"], r["event"]) for r in first}
        with Session(get_engine(settings)) as s:
            crawl = s.exec(select(CrawlRun)).one()
            job = s.exec(select(JobRun).where(JobRun.job_id == "crawl:" + shop["id"])).one()
        assert crawl.status == "ok" and crawl.reviews_new > 0
        assert job.counts["crawl_run_id"] == crawl.id and job.counts["reviews_new"] == crawl.reviews_new
        assert market.page_requests()

        # An hour later the shop answers with a captcha wall.
        market.inject("/jd/", body=CAPTCHA, times=100)
        second = run_once(settings, now=now + timedelta(minutes=61))
        assert ("crawl:" + shop["id"], "ok") in {(r["job"], r["event"]) for r in second}
    with Session(get_engine(settings)) as s:
        blocked = s.exec(select(CrawlRun).order_by(CrawlRun.id)).all()[-1]
        alerts = s.exec(select(Alert).where(Alert.kind == "crawl_health")).all()
    assert blocked.status == "failed" and blocked.failure_kind in ("captcha", "blocked", "zero_items")
    assert [a.payload["run_id"] for a in alerts] == [blocked.id]
