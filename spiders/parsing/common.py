"""Shared pieces of the page parsers: the item shapes, dates, numbers, embedded JSON."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import ParseResult, quote_plus, unquote_plus, urljoin, urlsplit
from zoneinfo import ZoneInfo

from monitor.encoding import Decoded, decode_page

SHANGHAI = ZoneInfo("Asia/Shanghai")

REVIEW_FIELDS = (
    "platform",
    "review_id",
    "listing_id",
    "reviewer_nick",
    "rating",
    "title",
    "text",
    "created_at",
    "sku",
    "photos",
    "helpful_votes",
    "verified_purchase",
    "follow_up_text",
    "seller_reply",
)
LISTING_FIELDS = (
    "platform",
    "listing_id",
    "shop_id",
    "title",
    "price",
    "currency",
    "images",
    "attributes",
    "rating_avg",
    "review_count",
)


class ParseError(ValueError):
    """The page is not what its parser expects (truncated, not JSON, wrong site...)."""


@dataclass
class Follow:
    """A further page the crawl may request: ``kind`` names the callback that parses it."""

    url: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageResult:
    items: list[dict[str, Any]] = field(default_factory=list)
    follow: list[Follow] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    page_kind: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    """Page-level facts the spider needs (max page, shop ids, total counts)."""
    complete: bool = False
    """The page's structure closes and its count agrees with the declared paging (see
    spiders.parsing.completeness): only a complete page may say a review is gone."""
    incomplete: str | None = None
    """Why the page is not complete."""
    dropped: list[str] = field(default_factory=list)
    """Values the page gave that could not be used (``field value: reason``)."""

    @classmethod
    def decoded(cls, page_kind: str, doc: Decoded) -> PageResult:
        """A result for a page read through ``decode``: every page reports its U+FFFD count."""
        return cls(page_kind=page_kind, stats={"decode_errors": doc.decode_errors})

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def settle(self, *problems: str | None) -> None:
        """Record whether the page is whole: the first problem given says why not."""
        why = next((p for p in problems if p), None)
        self.complete = why is None
        self.incomplete = why

    def drop(self, name: str, value: Any, reason: str) -> None:
        self.dropped.append(f"{name} {value!r}: {reason}")
        self.count("dropped_values")

    @property
    def reviews(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] == "review"]

    @property
    def listings(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] == "listing"]


# The item builders spell every field out: parsers call them once per review or card, and a
# dict display with keyword-only arguments costs a third of the generic **values version.
# tests/spiders/test_spiders_values.py checks that the key order still follows the FIELDS tuples.
def review_item(
    platform: str, *, review_id: Any = None, listing_id: Any = None, reviewer_nick: Any = None, rating: Any = None,
    title: Any = None, text: Any = None, created_at: Any = None, sku: Any = None, photos: Any = None,
    helpful_votes: Any = None, verified_purchase: Any = None, follow_up_text: Any = None, seller_reply: Any = None,
    follow_up_at: Any = None, seller_reply_at: Any = None, raw: Any = None,
) -> dict[str, Any]:
    errors = 0
    for v in (text, title, reviewer_nick, follow_up_text):
        if v and "\ufffd" in v:
            errors += str(v).count("\ufffd")
    return {
        "kind": "review", "platform": platform, "review_id": review_id, "listing_id": listing_id,
        "reviewer_nick": reviewer_nick, "rating": rating, "title": title, "text": text, "created_at": created_at,
        "sku": sku, "photos": photos or [], "helpful_votes": helpful_votes, "verified_purchase": verified_purchase,
        "follow_up_text": follow_up_text, "seller_reply": seller_reply, "follow_up_at": follow_up_at,
        "seller_reply_at": seller_reply_at, "raw": raw or {}, "decode_errors": errors,
    }


_MISSING: Any = object()  # tells "not given" (an empty skus list or raw dict) from an explicit None


def listing_item(
    platform: str, *, listing_id: Any = None, shop_id: Any = None, title: Any = None, price: Any = None,
    currency: Any = None, images: Any = None, attributes: Any = None, rating_avg: Any = None,
    review_count: Any = None, url: Any = None, skus: Any = _MISSING, sales: Any = None, raw: Any = _MISSING,
) -> dict[str, Any]:
    return {
        "kind": "listing", "platform": platform, "listing_id": listing_id, "shop_id": shop_id, "title": title,
        "price": price, "currency": currency, "images": images or [], "attributes": attributes or {},
        "rating_avg": rating_avg, "review_count": review_count, "url": url,
        "skus": [] if skus is _MISSING else skus, "sales": sales, "raw": {} if raw is _MISSING else raw,
        "decode_errors": str(title or "").count("\ufffd"),
    }


def public(item: dict[str, Any]) -> dict[str, Any]:
    """The fields ``shopmon parse`` prints: the normalised shape without raw platform data."""
    names = REVIEW_FIELDS if item["kind"] == "review" else LISTING_FIELDS
    out = {"kind": item["kind"]}
    out.update({k: item.get(k) for k in names})
    if item.get("decode_errors"):
        out["decode_errors"] = item["decode_errors"]
    return out


_NUMBER = (int, float)  # a tuple: an ``int | float`` union is built on every call and checked slower

# Dates ---------------------------------------------------------------------------------
_CN_DATE = re.compile(
    r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?\s*(?:(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def cn_datetime(value: Any) -> str | None:
    """A Chinese marketplace timestamp (shown in Beijing time) as tz-aware ISO 8601."""
    if value in (None, ""):
        return None
    if isinstance(value, _NUMBER):
        # epoch milliseconds (mtop, JD) or seconds
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC).astimezone(SHANGHAI).isoformat()
    return _cn_text_datetime(str(value))


@lru_cache(maxsize=4096)
def _cn_text_datetime(value: str) -> str | None:
    # the API format "2024-11-09 20:17:48" is by far the most common: skip the regex for it
    if len(value) == 19 and value[4] == "-" and value[13] == ":":
        try:
            return datetime.fromisoformat(value).replace(tzinfo=SHANGHAI).isoformat()
        except ValueError:
            pass
    m = _CN_DATE.search(value)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI).isoformat()
    except ValueError:
        return None


_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan", "janvier", "januar", "enero", "gennaio"),
            ("february", "feb", "février", "februar", "febrero", "febbraio"),
            ("march", "mar", "mars", "märz", "marzo"),
            ("april", "apr", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio"),
            ("june", "jun", "juin", "juni", "junio", "giugno"),
            ("july", "jul", "juillet", "juli", "julio", "luglio"),
            ("august", "aug", "août", "agosto"),
            ("september", "sep", "sept", "septembre", "septiembre", "settembre"),
            ("october", "oct", "octobre", "oktober", "octubre", "ottobre"),
            ("november", "nov", "novembre", "noviembre"),
            ("december", "dec", "décembre", "dezember", "diciembre", "dicembre"),
        ],
        start=1,
    )
    for m in names
}
_MDY = re.compile(r"([A-Za-zéûä]+)\.?\s+(\d{1,2}),\s*(\d{4})")
_DMY = re.compile(r"(\d{1,2})\.?\s+(?:de\s+)?([A-Za-zéûä]+)\.?\s+(?:de\s+)?(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def western_date(value: str | None) -> str | None:
    """'July 1, 2024', '8 April 2016', '2021-08-03' → ISO date at UTC midnight (day precision)."""
    if not value:
        return None
    if len(value) == 10 and value[4] == value[7] == "-":
        # a bare ISO date (JSON-LD's datePublished): no month name for _MDY/_DMY to find
        y, mo, d = value[:4], value[5:7], value[8:]
        if y.isdecimal() and mo.isdecimal() and d.isdecimal():  # isdecimal() is exactly \d
            yi, moi, di = int(y), int(mo), int(d)
            try:
                date(yi, moi, di)  # the validity check datetime() makes
            except ValueError:
                return None
            # datetime(y, mo, d, tzinfo=UTC).isoformat(), spelt out
            return f"{yi:04d}-{moi:02d}-{di:02d}T00:00:00+00:00"
    y = mo = d = None
    m = _MDY.search(value)
    if m and m.group(1).lower() in _MONTHS:
        mo, d, y = _MONTHS[m.group(1).lower()], int(m.group(2)), int(m.group(3))
    else:
        m = _DMY.search(value)
        if m and m.group(2).lower() in _MONTHS:
            d, mo, y = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
        else:
            m = _ISO.search(value)
            if m:
                y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
                if m.group(4):
                    try:
                        return datetime(
                            y, mo, d, int(m.group(4)), int(m.group(5)), int(m.group(6) or 0), tzinfo=UTC
                        ).isoformat()
                    except ValueError:
                        return None
    if y is None:
        return None
    try:
        return datetime(y, mo, d, tzinfo=UTC).isoformat()
    except ValueError:
        return None


# Numbers -------------------------------------------------------------------------------
_NUM = re.compile(r"\d[\d,]*(?:\.\d+)?")


def to_float(value: Any) -> float | None:
    if value.__class__ is str:  # the common case first: prices come as strings
        if not value:
            return None
        s = value
    else:
        if value is None:  # value in (None, "") for anything but a str
            return None
        if isinstance(value, _NUMBER):
            try:
                f = float(value)
            except OverflowError:  # an integer beyond any float
                return None
            return f if math.isfinite(f) else None  # NaN and Infinity are no amounts
        if value == "":
            return None
        s = str(value)
    whole, dot, frac = s.partition(".")
    if whole.isdecimal() and (not dot or frac.isdecimal()):  # "79.00": _NUM would match all of it
        return float(s)
    m = _NUM.search(s)
    return float(m.group(0).replace(",", "")) if m else None


def to_int(value: Any) -> int | None:
    """'1,234', '(12)', '有用 (3)', '1.2万' → int; None when there is no number."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    s = str(value)
    if s.isdecimal():  # API counts come as "12": _NUM would match all of it
        return int(float(s))
    m = _NUM.search(s)
    if not m:
        words = {"one": 1, "a": 1, "an": 1, "two": 2, "three": 3}
        w = s.strip().split(" ", 1)[0].lower()
        return words.get(w)
    n = float(m.group(0).replace(",", ""))
    if "万" in s[m.end() : m.end() + 2]:
        n *= 10_000
    return int(n)


def rating_within(result: PageResult, name: str, value: Any, best: float = 5.0) -> float | None:
    """A rating value on a 0..``best`` scale, or None. A value the page gives but that is no
    finite number in range (JSON-LD ``NaN``, ``Infinity``, ``1e308``) is dropped with a reason."""
    if value is None or value == "":
        return None
    f = to_float(value)
    if f is None or not math.isfinite(f):
        result.drop(name, value, "not a finite number")
        return None
    if not 0 <= f <= best:
        result.drop(name, value, f"outside 0-{best:g}")
        return None
    return f


def clamp_rating(value: Any, scale: float = 5.0) -> int | None:
    """A rating on any scale as an integer 1-5 (None when absent or not a number)."""
    f = to_float(value)
    if f is None or f <= 0:
        return None
    r = round(f * 5.0 / scale)
    return max(1, min(5, r))


def clean_text(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def abs_url(url: str | None, base: str) -> str | None:
    if not url:
        return None
    url = url.strip()
    if url.startswith(("https://", "http://")):
        return url
    if url.startswith("//"):
        scheme = base.split(":", 1)[0] if "://" in base else "https"
        return f"{scheme}:{url}"
    if url.startswith("/") and "/." not in url and not _URLJOIN_REWRITES.search(url):
        # a root-relative path without dot segments (the common case on listing pages): what
        # urljoin returns is the base's origin + the path, without urljoin's parse/unparse work
        origin = _origin(base)
        if origin:
            return origin + url
    return urljoin(base, url)


_URLJOIN_REWRITES = re.compile(r"[\\\t\r\n]")  # characters urljoin drops or treats specially


def hostname(parts: Any) -> str | None:
    """``parts.hostname`` of a urlsplit/urlparse result; a plain ``host[:port]`` without the
    property's partitions for user info, brackets and zone ids."""
    netloc = parts.netloc
    if "@" in netloc or "[" in netloc or "%" in netloc:
        return parts.hostname
    return netloc.partition(":")[0].lower() or None


@lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """``scheme://netloc`` of an http(s) base URL; None for anything urljoin must handle."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


# Query strings ---------------------------------------------------------------------------
# parse_qs/urlencode/geturl cost more than parsing a small JSON page; these give the same strings.
def unquote_qs(raw: str) -> str:
    return unquote_plus(raw) if "%" in raw or "+" in raw else raw  # unquote_plus's own shortcut


def query_first(query: str) -> dict[str, str]:
    """``{k: v[0] for k, v in parse_qs(query).items()}``: the first non-empty value of each name."""
    out: dict[str, str] = {}
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        if eq and value:  # parse_qs (keep_blank_values=False) skips "a", "a=" and ""
            key = unquote_qs(name)
            if key not in out:
                out[key] = unquote_qs(value)
    return out


def quote_value(value: object) -> str:
    """``quote_plus(str(value))``; ASCII letters and digits (ids, page numbers) need no call."""
    s = str(value)
    return s if s.isascii() and s.isalnum() else quote_plus(s)


def urlencode_str(query: dict[str, str]) -> str:
    """``urlencode(query)`` for a dict of str names and values."""
    return "&".join([f"{quote_value(k)}={quote_value(v)}" for k, v in query.items()])


def with_query(url: str, parsed: ParseResult, query: str) -> str:
    """``parsed._replace(query=query).geturl()`` where ``parsed = urlparse(url)``. For a plain
    http(s) URL that urlparse leaves as it is (lower-case scheme, a host, no ``;params``, no
    control characters or whitespace it would drop) the URL's own text before the query is what
    geturl rebuilds; anything else goes through geturl."""
    head, _, fragment = url.partition("#")
    head = head.partition("?")[0]
    if head.startswith(("http://", "https://")) and parsed.netloc and ";" not in head and url.isprintable() \
            and " " not in url:
        out = f"{head}?{query}" if query else head
        return f"{out}#{fragment}" if fragment else out
    return parsed._replace(query=query).geturl()


# Embedded data -------------------------------------------------------------------------
_JSONP = re.compile(r"^\s*(?:/\*\*/)?\s*[\w$.]+\s*\(\s*", re.S)


def unwrap_jsonp(text: str) -> Any:
    """``callback({...});`` → the JSON value; a bare JSON document is accepted too."""
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


_DECODER = json.JSONDecoder()
_VALUE_START = re.compile(r"[{\[]")


def json_after(text: str, marker: str, start: int = 0) -> Any:
    """Parse the JSON literal that follows ``marker`` (the first one from ``start``) in a script
    (``g_page_config = {...}``)."""
    pos = text.find(marker, start)
    if pos < 0:
        raise ParseError(f"{marker!r} not found")
    start = pos + len(marker)
    m = _VALUE_START.search(text, start)
    if not m:
        raise ParseError(f"no JSON value after {marker.strip()}")
    try:
        # raw_decode stops at the end of the value: no scan for the closing brace in Python
        return _DECODER.raw_decode(text, m.start())[0]
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text) - 1:
            raise ParseError(f"{marker.strip()} is not closed (truncated page?)") from None
        raise ParseError(f"{marker.strip()} is not valid JSON: {exc.msg}") from None


# quoted values as "runs of plain characters between escapes": the same strings as
# (?:[^'\\]|\\.)*, without one alternation per character
_FIELD_VALUE = r"""\s*:\s*(?:'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"|(-?[\d.]+))"""


@lru_cache(maxsize=64)
def _field_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(name)}{_FIELD_VALUE}")


@lru_cache(maxsize=64)
def _bare_field_pattern(name: str) -> re.Pattern[str]:
    # no leading \b: a pattern that starts with a literal lets the regex engine jump from one
    # occurrence of the name to the next instead of trying every position (10x on a page)
    return re.compile(rf"{re.escape(name)}{_FIELD_VALUE}")


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what \w (and so \b) means for str patterns


@lru_cache(maxsize=64)
def _field_searcher(name: str) -> tuple[re.Pattern[str], bool]:
    """The pattern for ``name`` and whether the word boundary before it is checked by hand."""
    if not name or not _is_word(name[0]):
        return _field_pattern(name), False
    return _bare_field_pattern(name), True


def _field_match(text: str, name: str) -> re.Match[str] | None:
    """``_field_pattern(name).search(text)``, faster: the word boundary is checked by hand."""
    pattern, by_hand = _field_searcher(name)
    return search_after_boundary(pattern, text) if by_hand else pattern.search(text)


def search_after_boundary(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` (which starts with a word character) that has a word
    boundary before it, i.e. what a leading ``\\b`` would find. A pattern that starts with a
    literal lets the regex engine jump from one occurrence to the next; a leading ``\\b`` makes
    it try every position of the text."""
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return None
        start = m.start()
        if start == 0 or not _is_word(text[start - 1]):
            return m
        pos = start + 1


def js_field(text: str, name: str) -> str | None:
    """A scalar from a JS object literal: ``name : 'value'`` / ``"value"`` / ``123``."""
    m = _field_match(text, name)
    if not m:
        return None
    single, double, number = m.groups()
    value = single if single is not None else double if double is not None else number
    if "\\" in value:
        try:
            value = json.loads('"' + value.replace('"', '\\"').replace("\\'", "'") + '"')
        except json.JSONDecodeError:
            pass
    return value


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    return decode_page(body, content_type)
