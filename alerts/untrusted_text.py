"""Text from buyers and pages made safe to show: no control or bidi characters, no unsafe links.

Everything that came from a buyer or a page (review text, nicknames, titles, URLs) is untrusted.
Alert emails and the board both print it, so both use these.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

SUBJECT_MAX = 160


def strip_controls(text: object, *, keep_newlines: bool) -> str:
    """Drop control and bidi-override characters; they can forge headers or disguise text."""
    out = []
    for ch in str(text):
        if keep_newlines and ch in "\n\t":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


# Embedding/override/isolate controls and the directional marks: U+202E makes "gpj.exe" read
# "exe.jpg" and can reverse a review's words. Removed from every value a template prints (HTML
# and text), not only where a template remembered the `plain` filter.
_BIDI_CONTROLS = dict.fromkeys(
    [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)


def neutralise_bidi(value: Any) -> Any:
    """``value`` without bidi controls; Markup stays Markup (already escaped), non-strings pass."""
    if isinstance(value, Markup):
        return Markup(str.translate(value, _BIDI_CONTROLS))
    if isinstance(value, str):
        return value.translate(_BIDI_CONTROLS)
    return value


def sanitize_header(text: object, limit: int = SUBJECT_MAX) -> str:
    flat = " ".join(strip_controls(text, keep_newlines=False).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def safe_url(url: object) -> str | None:
    """The URL if it is plain http(s), else None: a ``javascript:`` link must never become clickable."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(unicodedata.category(c) in ("Cc", "Zs") for c in url):
        return None
    return url
