"""Small lxml helpers: one parse per page, then class/attribute lookups."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import lxml.html
from lxml import etree

from spiders.parsing.common import ParseError, clean_text


# Saved pages inline megabyte-long data: URIs; without huge_tree libxml2 silently stops there
# and every review below that point would be lost.
_PARSER = etree.HTMLParser(huge_tree=True)
# The element classes lxml.html.HTMLParser gives (HtmlElement; FormElement, InputElement... for
# the form tags; HtmlComment...), chosen in C: lxml.html's own lookup is a Python method called
# for every element proxy, which on card-heavy pages cost more than the rest of a card's reading.
_LOOKUP = etree.ElementNamespaceClassLookup(etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity))
_LOOKUP.get_namespace(None).update(lxml.html.HtmlElementClassLookup._default_element_classes)  # noqa: SLF001
_PARSER.set_element_class_lookup(_LOOKUP)


def html_tree(text: str) -> lxml.html.HtmlElement:
    if not text or text.isspace():  # what "not text.strip()" says, without copying the page
        raise ParseError("empty page")
    try:
        if _FULL_HTML(text):
            # what lxml.html.fromstring does with a whole document (document_fromstring), without
            # its Python wrappers; fragments still go through it
            root = etree.fromstring(text, _PARSER)
            if root is None:
                raise etree.ParserError("Document is empty")
            return root
        return lxml.html.fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"not parseable as HTML: {exc}") from None


_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.I).match  # lxml.html's own test


def has_class(name: str) -> str:
    """XPath predicate for an element carrying CSS class ``name``.

    The plain ``contains(@class, ...)`` test comes first: XPath's ``and`` short-circuits, so the
    costly concat/normalize-space token check only runs on the few elements that can match
    instead of on every element of the page."""
    return f"contains(@class, '{name}') and contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_XML_SPACE = re.compile(r"[ \t\n\r]+")


def class_tokens(cls: str | None) -> list[str]:
    """The class names ``has_class`` matches, for parsers that read a card in one Python walk
    (a relative XPath per field costs more than the walk). ``str.split()`` alone would also cut
    at NBSP, form feeds and other whitespace that XPath's normalize-space() keeps."""
    if not cls:
        return []
    if cls.isascii() and cls.isprintable():  # no whitespace but the space: split() is exact
        return cls.split()
    return [t for t in _XML_SPACE.split(cls) if t]


def carries_class(el, name: str) -> bool:  # noqa: ANN001
    """``el`` has class ``name``, token-exact as ``has_class``; the substring test first skips
    the split for nearly every element a walk meets."""
    cls = el.get("class")
    return bool(cls) and name in cls and name in class_tokens(cls)


def walk_classes(root, wanted: dict[str, str | None]) -> dict[str, list[Any]]:  # noqa: ANN001
    """The descendants of ``root`` carrying each class of ``wanted`` (class -> required tag, or
    None for any tag), in document order: ``.//tag[has_class(name)]`` for all names in one walk."""
    found: dict[str, list[Any]] = {name: [] for name in wanted}
    for el in root.iterdescendants():
        cls = el.get("class")
        if not cls:
            continue
        # class_tokens(cls), its common case inline: this runs for every element of every card
        for name in cls.split() if cls.isascii() and cls.isprintable() else class_tokens(cls):
            if name in wanted:
                tag = wanted[name]
                hits = found[name]
                if (tag is None or el.tag == tag) and (not hits or hits[-1] is not el):
                    hits.append(el)
    return found


def within(el, ancestor) -> bool:  # noqa: ANN001
    """``el`` is a descendant of ``ancestor`` (lxml hands out one proxy per node: ``is`` is exact)."""
    for a in el.iterancestors():  # a loop, not any() over a generator: cards call this a lot
        if a is ancestor:
            return True
    return False


def text_or_none(el) -> str | None:  # noqa: ANN001
    """What ``first_text`` returns for a found element."""
    if el is None:
        return None
    # text_content() is an XPath string() call; a leaf's text is the same string without it
    return clean_text(el.text_content() if len(el) else el.text) or None


@lru_cache(maxsize=512)
def _compiled(expr: str) -> etree.XPath:
    # plain str results: a "smart" string also builds a reference back to its element, which no
    # parser uses
    return etree.XPath(expr, smart_strings=False)


def xp(node, expr: str) -> list[Any]:  # noqa: ANN001
    """node.xpath(expr) with the expression compiled once (parsers run it for every card)."""
    return _compiled(expr)(node)


def first_text(node, xpath: str) -> str | None:  # noqa: ANN001
    found = xp(node, xpath)
    if not found:
        return None
    el = found[0]
    return (clean_text(el) or None) if isinstance(el, str) else text_or_none(el)


def first_attr(node, xpath: str) -> str | None:  # noqa: ANN001
    found = xp(node, xpath)
    return str(found[0]).strip() if found else None
