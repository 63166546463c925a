"""Is a page whole? A review page cut mid-list still arrives with HTTP 200; read as a whole page
it says "these reviews are gone", and a full crawl would delete them and close their cases.

A page is complete only when its structure closes (a JSON value parses to its end, an HTML
document reaches ``</html>`` after its last card, a fragment closes every ``<div>`` it opens)
and, where the page declares them, its item count agrees with the declared total and page size.
Parsers report what they found through ``PageResult.settle``; callers decide what a partial page
may still be used for (new reviews: yes; "missing, so deleted": never).
"""

from __future__ import annotations

import re

_DOCUMENT = re.compile(r"<html[\s>]", re.I)
_HTML_END = re.compile(r"</html\s*>", re.I)
_DIV_OPEN = re.compile(r"<div[\s>]", re.I)
_DIV_CLOSE = re.compile(r"</div\s*>", re.I)


def html_problem(text: str, last_card: str | None = None) -> str | None:
    """Why an HTML page is not whole, or None. ``last_card``: text that starts every card of the
    page's list (the closing tag must come after the last one)."""
    if _DOCUMENT.search(text):
        start = max(text.rfind(last_card), 0) if last_card else 0
        if _HTML_END.search(text, start) is None:
            return "the page ends before </html>" + (" (cut after its last card)" if start else "")
        return None
    opened, closed = len(_DIV_OPEN.findall(text)), len(_DIV_CLOSE.findall(text))
    if closed < opened:
        return f"the fragment leaves {opened - closed} <div> open"
    return None


def count_problem(found: int, *, page: int, first_page: int, page_size: int | None,
                  total: int | None = None, last_page: int | None = None, what: str = "reviews") -> str | None:
    """Why ``found`` items on ``page`` disagree with the declared paging, or None.

    A page before the last holds a full page; the last page holds what the declared total leaves.
    A declared total of 0 (JD zeroes its counts on busy listings) declares nothing."""
    total = total or None
    if page_size is None:
        if last_page is not None and page < last_page and found == 0:
            return f"page {page} of {last_page} holds no {what}"
        return None
    if total is not None:
        expected = max(0, min(page_size, total - (page - first_page) * page_size))
    elif last_page is not None and page < last_page:
        expected = page_size
    else:
        return None  # the last page (or one without paging) may hold any count up to a page
    if found < expected:
        declared = f"{total} declared" if total is not None else f"page {page} of {last_page}"
        return f"{found} {what} on page {page}, expected {expected} ({declared}, {page_size} a page)"
    return None
