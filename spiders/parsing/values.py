"""Values as pages write them, read in the page's locale: numbers (babel), prices (price-parser),
dates (dateparser), ratings. "12,50 €" on amazon.de is 12.5 and "12.345 Bewertungen" is 12345;
"4,1 de 5 estrellas" is 4.1; Chinese marketplace times are Beijing time."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dateparser
from babel import Locale, UnknownLocaleError
from babel.numbers import NumberFormatError, get_currency_symbol, get_decimal_symbol, get_territory_currencies
from babel.numbers import parse_decimal
from price_parser import Price
from scrapy.http import TextResponse

from spiders.parsing.common import PageResult

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Country-code top-level domains whose language a marketplace uses (amazon.co.jp, amazon.de...).
# Generic domains (.com) say nothing; the page's <html lang> decides first anyway.
_TLD_LOCALES = {"de": "de_DE", "at": "de_AT", "fr": "fr_FR", "es": "es_ES", "it": "it_IT", "jp": "ja_JP",
                "uk": "en_GB", "nl": "nl_NL", "pl": "pl_PL", "se": "sv_SE", "br": "pt_BR", "mx": "es_MX",
                "ca": "en_CA", "au": "en_AU", "in": "en_IN", "be": "fr_BE", "tr": "tr_TR", "cn": "zh_CN"}


def page_locale(response: TextResponse, default: str = "en_US") -> Locale:
    """The page's locale: ``<html lang>``, else the URL's country domain, else ``default``."""
    for tag in (response.xpath("/html/@lang").get(), _TLD_LOCALES.get(_tld(response.url))):
        if tag:
            try:
                return _locale(tag.strip().replace("-", "_"))
            except (ValueError, UnknownLocaleError):
                continue
    return _locale(default)


@lru_cache(maxsize=64)
def _locale(tag: str) -> Locale:
    return Locale.parse(tag)


def _tld(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.rsplit(".", 1)[-1]


# A number as a page writes it: digits with group or decimal separators between them
# ("12.345", "4,1", "1 234,5", "1,299.99"); the locale says which separator is which.
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f' ]\d+)*")


def number(text: Any, locale: Locale | str = "en_US") -> float | None:
    """The first number in ``text`` read in ``locale``: ``("12.345 Bewertungen", de)`` → 12345.0."""
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        try:
            return _finite(float(text))
        except OverflowError:  # an integer beyond any float
            return None
    m = _NUMBER.search(str(text))
    if not m:
        return None
    try:
        return _finite(float(parse_decimal(m.group(0), locale=locale, strict=False)))
    except NumberFormatError:
        return None


def _finite(f: float) -> float | None:
    return f if math.isfinite(f) else None


def count(text: Any, locale: Locale | str = "en_US") -> int | None:
    """A count as shown: "1,234 ratings", "12.345 Bewertungen" (de), "100万+" (zh, ten thousands)."""
    n = number(text, locale)
    if n is None:
        return None
    if isinstance(text, str) and "万" in text[_NUMBER.search(text).end():][:2]:
        n *= 10_000
    return int(n)


def machine_number(value: Any) -> float | None:
    """A number in machine form (JSON numbers, "79.00", schema.org's "4.5"), whatever the page's
    locale: schema.org and the marketplace APIs always write "." for the decimal point. A string
    that is a whole number ("1e308", "NaN") is read as one, not by its first digits."""
    if isinstance(value, str):
        try:
            return _finite(float(value))
        except ValueError:  # "￥79.00", "4.5 stars": the number inside
            pass
    return number(value, "en_US")


def price(text: Any, locale: Locale | None = None) -> tuple[float | None, str | None]:
    """Amount and ISO currency of a shown price: ``("149,00 €", es_ES)`` → (149.0, "EUR")."""
    if text is None:
        return None, None
    decimal = get_decimal_symbol(locale) if locale is not None else None
    found = Price.fromstring(str(text), decimal_separator=decimal)
    amount = _finite(float(found.amount)) if found.amount is not None else None
    return amount, _currency_code(found.currency, locale)


def _currency_code(symbol: str | None, locale: Locale | None) -> str | None:
    """The ISO code of a price's currency symbol: the page country's currency when the symbol is
    its symbol there ("$" on amazon.com is USD, "￥" on amazon.co.jp JPY), or the code itself."""
    if not symbol:
        return None
    symbol = unicodedata.normalize("NFKC", symbol.strip())
    if re.fullmatch(r"[A-Z]{3}", symbol):
        return symbol
    if locale is None or not locale.territory:
        return None
    for code in get_territory_currencies(locale.territory):
        if unicodedata.normalize("NFKC", get_currency_symbol(code, locale=locale)) in (symbol, symbol.rstrip("$")):
            return code
    return None


def rating_within(result: PageResult, name: str, value: Any, best: float = 5.0) -> float | None:
    """A rating value on a 0..``best`` scale, or None. A value the page gives but that is no
    finite number in range (JSON-LD ``NaN``, ``Infinity``, ``1e308``) is dropped with a reason."""
    if value is None or value == "":
        return None
    f = machine_number(value)
    if f is None:
        result.drop(name, value, "not a finite number")
        return None
    if not 0 <= f <= best:
        result.drop(name, value, f"outside 0-{best:g}")
        return None
    return f


def stars(value: float | None, scale: float = 5.0) -> int | None:
    """A rating on any scale as whole stars 1-5 (None when absent)."""
    if value is None or value <= 0 or not math.isfinite(value):
        return None
    return max(1, min(5, round(value * 5.0 / scale)))


def clean_text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def text_of(selection: Any) -> str | None:
    """The whitespace-normalised text of the first selected node, None when nothing is selected."""
    node = selection[0] if len(selection) else None
    return (clean_text(node.xpath("string()").get()) or None) if node is not None else None


# Dates ---------------------------------------------------------------------------------------
def cn_datetime(value: Any) -> str | None:
    """A Chinese marketplace time (Beijing time) as tz-aware ISO 8601: epoch ms/s, or text such as
    "2024-11-09 20:17:48" / "2017年04月20日 09:05"."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value  # epoch milliseconds (mtop, JD) or seconds
        return datetime.fromtimestamp(seconds, UTC).astimezone(SHANGHAI).isoformat()
    parsed = _parse_date(str(value).strip(), "zh", "Asia/Shanghai")
    return parsed.isoformat() if parsed else None


# The date inside a sentence ("Reviewed in the United States on July 1, 2024", "Rezension aus
# Deutschland vom 3. Juli 2024", "2024年7月3日に日本でレビュー済み"): dateparser reads dates, not
# sentences around them. Month names and their order are dateparser's business.
_DATE_IN_TEXT = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"
    r"|\d{1,2}\.?\s+(?:de\s+)?[^\W\d_]+\.?\s+(?:de\s+)?\d{4}"
    r"|[^\W\d_]+\.?\s+\d{1,2},?\s+\d{4}")


def western_date(value: str | None, locale: Locale | str = "en_US") -> str | None:
    """The date in ``value`` in the page's language as ISO 8601 at UTC (day precision unless a time
    is given): "8 April 2016" (en_GB), "3. Juli 2024" (de), "2024年7月3日" (ja), "2021-08-03"."""
    if not value:
        return None
    m = _DATE_IN_TEXT.search(value)
    if not m:
        return None
    lang = locale.language if isinstance(locale, Locale) else str(locale).split("_")[0]
    parsed = _parse_date(m.group(0), lang, "UTC")
    return parsed.isoformat() if parsed else None


# Forms the standard library reads without a language (strptime's month names are the C
# locale's English ones): English pages and Chinese numeric dates skip dateparser, whose first
# call in a language compiles its patterns for about a second.
_PLAIN_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%Y年%m月%d日 %H:%M",
                  "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d")


@lru_cache(maxsize=4096)
def _parse_date(text: str, lang: str, zone: str) -> datetime | None:
    try:  # ISO 8601, the machine form, needs no language
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        pass
    if lang in ("en", "zh"):
        spaced = " ".join(text.split())
        for form in _PLAIN_FORMATS:
            try:
                return datetime.strptime(spaced, form).replace(tzinfo=ZoneInfo(zone))
            except ValueError:
                continue
    # absolute dates only: "昨天" (yesterday) means nothing once the page is saved
    settings = {"TIMEZONE": zone, "RETURN_AS_TIMEZONE_AWARE": True, "REQUIRE_PARTS": ["day", "month", "year"],
                "PARSERS": ["custom-formats", "absolute-time"]}
    try:
        return dateparser.parse(text, languages=[lang], settings=settings)
    except ValueError:  # a language dateparser does not know: let it detect one
        return dateparser.parse(text, settings=settings)
