"""The weekly email as a reader sees it: rendered by headless Chromium with its inline charts."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pytest
from alerts_testkit import T0, factory, make_settings  # noqa: F401
from test_alerts_report import week  # noqa: F401  (fixture)

from alerts.charts import report_charts
from monitor.fonts import cjk_font
from alerts.render import build_message

CHROMIUM = "/usr/bin/chromium"


def _as_files(msg, folder: Path) -> Path:  # noqa: ANN001
    """The HTML part with each cid: link pointing at its image saved beside it (browsers can't resolve cid:)."""
    html = msg.get_body(("html",)).get_content()
    for part in msg.walk():
        if part.get_content_type() == "image/png":
            cid = part["Content-ID"].strip("<>")
            name = part.get_filename()
            (folder / name).write_bytes(part.get_content())
            html = html.replace(f"cid:{cid}", name)
    assert "cid:" not in html
    page = folder / "report.html"
    page.write_text(html, encoding="utf-8")
    return page


def test_matplotlib_finds_a_cjk_font_and_draws_chinese_without_missing_glyphs(week):  # noqa: F811
    font = cjk_font()
    assert font is not None, "no CJK font for matplotlib: install fonts-noto-cjk (apt-get install fonts-noto-cjk)"
    _, payload = week
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts, missing = report_charts(payload, "zh")
    assert not missing and len(charts) == 3
    assert not [w for w in caught if "missing from" in str(w.message)], [str(w.message) for w in caught]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_weekly_email_renders_in_chromium_with_its_charts(week, tmp_path, language):  # noqa: F811
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    settings, payload = week
    settings = make_settings(tmp_path, language=language, timezone="Asia/Shanghai")
    msg = build_message(settings, "weekly_report", [(1, payload, "low")], ["boss@shop.example"], now=T0)
    page_file = _as_files(msg, tmp_path)
    shot = tmp_path / f"weekly-{language}.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            page.goto(page_file.as_uri())
            loaded = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            body = page.inner_text("body")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert len(loaded) == 3 and all(ok and w > 300 and h > 100 for ok, w, h in loaded), loaded
    assert shot.stat().st_size > 20_000
    if language == "zh":
        assert "本期概况" in body and "处理结果" in body and "不到 1 分钟" not in body and "9 分钟" in body
        assert not re.search(r"\b(min|Cases|median|Outcomes)\b", body), body
    else:
        assert "Outcomes" in body and "9 min" in body
