"""A page as the parsers read it: a Scrapy ``TextResponse`` (CSS/XPath through parsel, ``urljoin``,
``text`` decoded by Scrapy), with monitor.encoding's correction where Scrapy's decoding is wrong,
and the data pages embed (JSONP, JavaScript objects)."""

from __future__ import annotations

import json
import re
from typing import Any

import chompjs
from scrapy.http import Response, TextResponse

from monitor.encoding import charset_mismatch, corrected_encoding, count_replacement
from spiders.parsing.common import PageResult, ParseError

CHARSET_MISMATCH = "charset_mismatch"
"""Response flag: the page's charset label was wrong (its bytes are UTF-8)."""


def response_for(body: bytes, url: str, content_type: str | None = None) -> TextResponse:
    """A saved page or API response as the crawl would have received it."""
    headers = {"Content-Type": content_type} if content_type else {}
    return as_text(TextResponse(url, body=body, headers=headers))


def as_text(response: Response) -> TextResponse:
    """``response`` as a TextResponse read in the right encoding (a JSON API answered as
    ``application/octet-stream`` arrives as a plain Response)."""
    if not isinstance(response, TextResponse):
        response = TextResponse(response.url, body=response.body, headers=response.headers,
                                status=response.status, request=response.request)
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
    fix = corrected_encoding(response.body, content_type, lambda: response.encoding)
    if fix is not None:
        # not response.replace(encoding=fix): replace() reads every attribute of the old response
        # first, and reading its encoding runs the guess the correction exists to skip
        response = type(response)(**{a: getattr(response, a) for a in response.attributes if a != "encoding"},
                                  encoding=fix)
    if charset_mismatch(response.body, response.encoding, content_type) and not response.body.isascii():
        response = response.replace(flags=[*response.flags, CHARSET_MISMATCH])
    return response


def start(page_kind: str, response: TextResponse) -> PageResult:
    """The result every parser starts from: an empty page is refused; U+FFFD and a lying charset
    label are counted."""
    text = response.text
    if not text or text.isspace():
        raise ParseError("empty page")
    result = PageResult(page_kind=page_kind, stats={"decode_errors": count_replacement(text)})
    if CHARSET_MISMATCH in response.flags:
        result.count(CHARSET_MISMATCH)
    return result


_JSONP = re.compile(r"^\s*(?:/\*\*/)?\s*[\w$.]+\s*\(\s*", re.S)


def unwrap_jsonp(text: str) -> Any:
    """``callback({...});`` → the JSON value; a bare JSON document is accepted too. Strict JSON:
    a response cut short must fail here, not be completed by a lenient reader."""
    stripped = text.strip()
    if not stripped:
        raise ParseError("empty response")
    m = _JSONP.match(stripped)
    if m:
        end = stripped.rfind(")")
        if end < m.end():
            raise ParseError("JSONP wrapper is not closed (truncated response?)")
        stripped = stripped[m.end() : end]
        if not stripped.strip():
            raise ParseError("empty JSONP payload")
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def js_object(text: str, marker: str, start_at: int = 0) -> Any:
    """The JavaScript object or array literal after ``marker`` (``g_page_config = {...}``,
    ``TShop.Setup({...})``, ``var pageConfig = {product: {skuid: 1, ...}}``), read by chompjs."""
    pos = text.find(marker, start_at)
    if pos < 0:
        raise ParseError(f"{marker.strip()!r} not found")
    try:
        return chompjs.parse_js_object(text[pos + len(marker):])
    except ValueError as exc:
        raise ParseError(f"{marker.strip()} is not a readable object (truncated page?): {exc}") from None
