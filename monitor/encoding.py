"""Where Scrapy's choice of a page's encoding is wrong, and what to use instead.

Scrapy decides a response's encoding from the Content-Type header, a BOM, the ``<meta>``
charset, then the bytes (``TextResponse.encoding``); w3lib already reads GBK/GB2312 as GB18030.
That is the right answer for every real capture in ../shared but one kind, which Chinese
marketplaces produce and the tests in tests/spiders/test_spiders_encoding.py pin down:

* **A label over bytes in another encoding.** Saved pages keep ``<meta charset="gbk">`` over
  bytes the browser re-encoded as UTF-8 (the Tmall ``utf8-original`` capture: Scrapy reads it as
  GB18030 and every Chinese character comes out as two or three wrong ones, with no U+FFFD to
  show it); servers send ``charset=ISO-8859-1`` over UTF-8. UTF-8 is self-validating: random
  GBK bytes almost never decode strictly as UTF-8, so bytes that do are UTF-8 whatever the
  label says. Such a page is reported as ``charset_mismatch``.

* **No label Scrapy can find, and bytes that are not UTF-8.** Scrapy then guesses with
  charset-normalizer, which reads GBK as Korean (cp949) or Nordic Latin (iso8859-10): the Tmall
  ``gbk`` capture, whose ``<meta charset="gbk">`` sits after 150 KB of injected scripts (w3lib
  looks at the first 4 KB), comes out unreadable. A label deeper in the page is used; the
  marketplaces that send unlabelled non-UTF-8 pages are the Chinese ones, so bytes without any
  label are read as GB18030 (GBK's superset).

Text already damaged upstream (a scraper that decoded GBK as UTF-8 left U+FFFD behind: the Tmall
``MOJIBAKE`` capture) cannot be repaired; it is counted (``decode_errors``) so that damaged text is
reported, never stored as if it were good.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

# Saved DOMs put injected <script> tags (150 KB in the real Tmall save) before the <meta>; w3lib
# reads a <meta> only in the first 4 KB.
_META = re.compile(rb"<meta[^>]{0,200}?charset", re.I)


def corrected_encoding(body: bytes, content_type: str | None, scrapy_encoding: Callable[[], str]) -> str | None:
    """The encoding to read ``body`` with instead of Scrapy's (``scrapy_encoding()``, asked only
    when needed); None when Scrapy's choice stands."""
    if body.isascii():
        return None  # every ASCII-compatible encoding reads ASCII bytes the same
    try:
        body.decode("utf-8")
        wanted = "utf-8"
    except UnicodeDecodeError:
        label = declared_encoding(body, content_type)
        wanted = (resolve_encoding(label) or label) if label else "gb18030"
        if not _label_scrapy_sees(body, content_type):
            # Scrapy would only guess (charset-normalizer: 0.1-0.6 s on a 700 KB page), and the
            # guess is overridden: skip it
            return wanted
    return None if codecs.lookup(scrapy_encoding()).name == codecs.lookup(wanted).name else wanted


def _label_scrapy_sees(body: bytes, content_type: str | None) -> str | None:
    """What TextResponse reads before guessing: the header, a BOM, a <meta> in the first 4 KB."""
    return (http_content_type_encoding(content_type) if content_type else None) or read_bom(body)[0] \
        or html_body_declared_encoding(body)


def declared_encoding(body: bytes, content_type: str | None = None) -> str | None:
    """The charset the header, a BOM or the page's first ``<meta>`` (in its first 256 KB) claims;
    not necessarily true."""
    found = _label_scrapy_sees(body, content_type)
    if found:
        return found
    m = _META.search(body, 0, 262144)
    return html_body_declared_encoding(body[m.start() : m.start() + 1024]) if m else None


def charset_mismatch(body: bytes, encoding: str, content_type: str | None = None) -> bool:
    """The page's label names another encoding than the one its bytes are in."""
    label = declared_encoding(body, content_type)
    return bool(label) and codecs.lookup(resolve_encoding(label) or label).name != codecs.lookup(encoding).name


def count_replacement(text: str | None) -> int:
    """U+FFFD characters: bytes that could not be decoded, or damage already in the page."""
    return text.count("\ufffd") if text else 0
