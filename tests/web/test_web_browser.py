"""The board in a real headless Chromium (Debian's, by path; nothing is downloaded).

Screenshots of each page go to the test's tmp dir (``screens/``)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright import sync_api
from sqlmodel import select

from models import Case, Flag, Silence
from monitor.db import session_scope
from web_testkit import NOW, PASSWORDS, LiveServer, add_models, seed, web_settings

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="/usr/bin/chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("board")
    settings = web_settings(root)
    seeded = seed(settings)
    good, bad = add_models(settings)
    with LiveServer(settings) as server, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield {"server": server, "browser": browser, "seeded": seeded, "screens": root / "screens",
               "models": (good, bad)}
        browser.close()


class Shots:
    def __init__(self, page, folder: Path) -> None:  # noqa: ANN001
        self.page, self.folder = page, folder
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> None:
        self.page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


def _page(board, name: str):  # noqa: ANN001, ANN202
    context = board["browser"].new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    # Bounded waits on events, generous because the CI machine may be shared and slow.
    page.set_default_timeout(90_000)
    page.set_default_navigation_timeout(90_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(board["server"].url + "/")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")
    return page, dialogs, Shots(page, board["screens"])


def test_staff_flow(board) -> None:  # noqa: ANN001
    page, dialogs, shot = _page(board, "amy")
    seeded = board["seeded"]
    shot("01-board")
    # filter to critical
    page.select_option("#filter-severity", "critical")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"severity=critical"))
    severities = page.locator("tr.case-row").evaluate_all("rows => rows.map(r => r.dataset.severity)")
    assert severities and set(severities) == {"critical"}
    shot("02-board-critical")
    # open a case (the extortion one is critical)
    page.click(f"a[href='/cases/{seeded.critical_case_id}']")
    page.wait_for_selector("#contact-form")
    shot("03-case")
    # record a 旺旺 message with a promise date
    promise = (NOW + timedelta(days=5)).date().isoformat()
    page.select_option("#channel", "wangwang")
    page.fill("#promise-date", promise)
    page.fill("#note", "旺旺留言：买家答应五天内修改评价")
    page.click("#save-contact")
    page.wait_for_selector(".flash[role=status]")
    assert "Wangwang" in page.inner_text("table.facts")
    assert "旺旺留言" in page.inner_text("#history")
    shot("04-case-after-contact")
    with session_scope(seeded.settings) as s:
        case = s.get(Case, seeded.critical_case_id)
        assert (case.contact_status, case.state) == ("wangwang", "promised")
    # a review with <script> and <img onerror> renders as text: no dialog ever opens
    page.goto(board["server"].url + f"/cases/{seeded.xss_case_id}")
    assert "<script>" in page.inner_text("#review-text")
    page.wait_for_timeout(300)  # give an injected handler its chance to fire; the check is the dialog list
    assert dialogs == []
    shot("05-case-with-markup")
    # bulk-appeal the attack
    page.goto(board["server"].url + f"/attacks/{seeded.attack_flag_id}")
    shot("06-attack")
    page.click("#bulk-appeal")
    page.wait_for_selector(".flash[role=status]")
    states = page.locator("#members .member-state").all_inner_texts()
    assert states and set(states) == {"platform appeal"}
    shot("07-attack-appealed")
    # silence the listing by its platform id
    page.goto(board["server"].url + "/alerts")
    page.fill("#silence-listing", "605258110430")
    page.fill("#silence-until", (NOW + timedelta(days=14)).date().isoformat())
    page.click("#add-silence")
    page.wait_for_selector("tr.silence")
    assert "605258110430" in page.inner_text("#silences")
    shot("08-alerts-silences")
    with session_scope(seeded.settings) as s:
        assert s.exec(select(Silence)).one().listing_id == seeded.listing_id
    page.goto(board["server"].url + "/listings")
    shot("09-listings")
    assert dialogs == []
    page.context.close()


def test_analyst_labels_and_refused_promotion(board) -> None:  # noqa: ANN001
    page, dialogs, shot = _page(board, "ann")
    page.goto(board["server"].url + "/analyst/labels")
    shot("10-label-queue")
    first = page.locator("tr.queue-row").first
    flag_id = int(first.get_attribute("id").removeprefix("flag-"))
    kind = first.locator("td").nth(1).inner_text()
    page.locator("body").press("n") if "原因" not in kind else first.locator(".label-yes").click()
    page.wait_for_selector(f"#flag-{flag_id}.labeled-row")  # htmx swapped the row in place
    shot("11-label-queue-after")
    with session_scope(board["seeded"].settings) as s:
        assert s.get(Flag, flag_id).status in ("confirmed", "rejected")
    # promote the worse model: the gate's table and the refusal are shown, live stays
    good, bad = board["models"]
    page.goto(board["server"].url + "/analyst/models")
    page.click(f"tr[data-version='{bad}'] button.promote")
    page.wait_for_selector("#gate-result")
    assert "REFUSED" in page.inner_text("#gate-result")
    assert "worse than live" in page.inner_text(".flash.error")
    assert "(live)" in page.inner_text(f"tr[data-version='{good}']")
    shot("12-models-refused")
    page.context.close()


def test_supervisor_and_language_switch(board) -> None:  # noqa: ANN001
    page, dialogs, shot = _page(board, "sam")
    page.goto(board["server"].url + "/supervisor")
    shot("13-supervisor")
    before = page.inner_text("header.top nav")
    assert "Cases" in before  # the default language (alerts.language) is English
    with page.expect_navigation():
        page.click("#switch-language")
    assert "工单" in page.inner_text("header.top nav") and "/supervisor" in page.url
    shot("14-supervisor-zh")
    with page.expect_navigation():
        page.click("#switch-language")
    assert "Supervisor" in page.inner_text("header.top nav")
    page.context.close()
