"""Small lxml helpers: one parse per page, then class/attribute lookups."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import lxml.html
from lxml import etree

from spiders.parsing.common import ParseError, clean_text


# Saved pages inline megabyte-long data: URIs; without huge_tree libxml2 silently stops there
# and every review below that point would be lost.
_PARSER = lxml.html.HTMLParser(huge_tree=True)


def html_tree(text: str) -> lxml.html.HtmlElement:
    if not text.strip():
        raise ParseError("empty page")
    try:
        return lxml.html.fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"not parseable as HTML: {exc}") from None


def has_class(name: str) -> str:
    """XPath predicate for an element carrying CSS class ``name``.

    The plain ``contains(@class, ...)`` test comes first: XPath's ``and`` short-circuits, so the
    costly concat/normalize-space token check only runs on the few elements that can match
    instead of on every element of the page."""
    return f"contains(@class, '{name}') and contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


@lru_cache(maxsize=512)
def _compiled(expr: str) -> etree.XPath:
    return etree.XPath(expr)


def xp(node, expr: str) -> list[Any]:  # noqa: ANN001
    """node.xpath(expr) with the expression compiled once (parsers run it for every card)."""
    return _compiled(expr)(node)


def first_text(node, xpath: str) -> str | None:  # noqa: ANN001
    found = xp(node, xpath)
    if not found:
        return None
    el = found[0]
    text = el if isinstance(el, str) else el.text_content()
    text = clean_text(text)
    return text or None


def first_attr(node, xpath: str) -> str | None:  # noqa: ANN001
    found = xp(node, xpath)
    return str(found[0]).strip() if found else None
