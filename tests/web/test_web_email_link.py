"""Alert emails link each case to its page on the board when web.base_url is set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alerts.render import build_message
from monitor.config import load_settings

PAYLOAD = {"case_id": 7, "rating": 1, "buyer_nick": "买家", "item_title": "连衣裙", "state": "open",
           "contact_status": "none", "opened_at": "2026-03-02T09:00:00+00:00", "kinds": [], "review_text": "差"}


def _bodies(settings) -> tuple[str, str]:  # noqa: ANN001
    msg = build_message(settings, "serious_case", [(1, PAYLOAD, "high")], ["a@example.com"],
                        now=datetime(2026, 3, 2, 10, tzinfo=UTC))
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def test_case_link_uses_base_url(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, web={"base_url": "https://board.example.com/"})
    text, html = _bodies(settings)
    assert "https://board.example.com/cases/7" in text
    assert 'href="https://board.example.com/cases/7"' in html


def test_no_link_without_base_url(tmp_path: Path) -> None:
    text, html = _bodies(load_settings(data_dir=tmp_path))
    assert "/cases/7" not in text and "/cases/7" not in html
