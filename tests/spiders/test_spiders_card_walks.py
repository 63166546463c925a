"""Card parsers read a card in one Python walk; on awkward markup (repeated or nested boxes,
class lists split by tabs or NBSP) they must still find what the card XPaths find."""

from __future__ import annotations

from spiders.parsing import jd, taobao
from spiders.parsing.html import class_tokens, has_class, html_tree, xp


def test_class_tokens_split_like_xpath_normalize_space() -> None:
    assert class_tokens("a  b\tc\nd") == ["a", "b", "c", "d"]
    assert class_tokens("x\xa0tb-rev-item") == ["x\xa0tb-rev-item"]  # NBSP does not separate
    assert class_tokens(None) == [] and class_tokens("") == []
    tree = html_tree('<div><p class="x\xa0tb-rev-item"></p><p class="y\ttb-rev-item"></p></div>')
    assert [p.get("class") for p in xp(tree, f"//p[{has_class('tb-rev-item')}]")] == ["y\ttb-rev-item"]


_JD_LIST = """<html><body><ul class="gl-warp">
<li class="gl-item"><div class="gl-i-wrap" data-sku="1">
  <div class="p-img"><img data-lazy-img="//img/late.jpg" src=" //img/a.jpg "></div>
  <div class="p-price"><strong><i>12.50</i></strong></div>
  <div class="p-name"><span><em>Inner <b>name</b></em></span><a href="/x/1">Link</a></div>
  <div class="p-name"><a href="/x/2">Second</a></div>
  <span class="evaluate"><a>7</a></span><div class="p-commit"><a>9</a></div>
</div></li>
<li class="gl-item"><div class="gl-i-wrap" data-sku="2">
  <div class="p-name"><a><em>No link</em></a></div>
  <div class="p-commit"><strong>has <a>3</a></strong></div>
</div></li>
</ul></body></html>"""


def test_jd_list_cards_match_their_xpaths() -> None:
    page = jd.parse_list(_JD_LIST.encode(), "https://list.jd.com/list.html?cat=1")
    first, second = page.items
    assert (first["title"], first["url"], first["review_count"]) == ("Inner name", "https://list.jd.com/x/1", 7)
    # the union of @src | @data-lazy-img gives attributes in document order: data-lazy-img first here
    assert (first["images"], first["price"]) == (["https://img/late.jpg"], 12.5)
    assert (second["title"], second["url"], second["review_count"], second["images"]) == ("No link", None, 3, [])


_TAOBAO_CARD = """<html><body><ul>
<li id="review-9" class="J_KgRate_ReviewItem">
  <div class="from-whom"><span>skip</span><div>a***1</div></div>
  <div class="tb-rev-item-media"><img src="//img/outside_40x40.jpg"></div>
  <div class="tb-rev-item\tx" data-id="9">
    <div class="J_KgRate_ReviewContent">  good   stuff </div>
    <div class="tb-rev-item-media"><div class="tb-rev-item-media"><img src="//img/p1_40x40.jpg"></div>
      <img src="//img/p2_40x40.jpg"></div>
    <span class="tb-r-date">2026年10月01日 10:00</span>
    <div class="tb-r-info"><span class="tb-r-date">2026年10月02日 11:00</span>颜色：红</div>
    <span class="J_KgRate_UsefulNum">(5)</span>
  </div>
</li>
<li id="review-8" class="J_KgRate_ReviewItem">
  <div class="from-whom"><div class="from-whom"><div>inner</div></div><div>outer</div></div>
  <div class="tb-rev-item"><div class="J_KgRate_ReviewContent">x</div></div>
</li>
</ul></body></html>"""


def test_taobao_review_cards_match_their_xpaths() -> None:
    tree = html_tree(_TAOBAO_CARD)
    first, second = taobao.rendered_reviews(tree, "https://item.taobao.com/item.htm?id=1", "1")
    assert (first["review_id"], first["reviewer_nick"], first["text"], first["helpful_votes"]) == ("9", "a***1", "good stuff", 5)
    assert first["photos"] == ["https://img/p1", "https://img/p2"]  # only the media boxes inside the card body
    assert first["raw"]["date"] == "2026年10月01日 10:00"  # the card's first date ...
    assert first["sku"] == "颜色：红"  # ... but the SKU line follows the date inside tb-r-info
    # nested from-whom blocks: the first div child of either, in document order
    assert second["reviewer_nick"] == "inner"


def test_html_tree_gives_lxml_html_element_classes() -> None:
    """html_tree picks element classes in C; they must be the ones lxml.html's parser gives."""
    import lxml.html

    from spiders.parsing.html import html_tree

    page = ("<!DOCTYPE html><html><head><?pi x?><title>t</title></head><body><!-- c --><FORM action='/x'>"
            "<INPUT name=a value=1><select name=s><option>x</select><textarea>t</textarea><label>l</label>"
            "</FORM><p>&nbsp;x</p><Div class='A'>y</Div></body></html>")
    ours = [(type(e), e.tag) for e in html_tree(page).iter()]
    theirs = [(type(e), e.tag) for e in lxml.html.fromstring(page, parser=lxml.html.HTMLParser()).iter()]
    assert ours == theirs
    assert lxml.html.FormElement in {t for t, _ in ours} and lxml.html.HtmlComment in {t for t, _ in ours}


_AMAZON_CARD = """<html><body><div id="cm_cr-review_list">
<div id="R1" data-hook="review"><!-- c --><div data-hook="review-title" class="a-profile">t</div>
  <a class="x a-profile" href="/p/1" data-hook="genome"><span class="a-profile-name">N</span></a>
  <a class="a-profile-avatar" href="/p/2"></a><img class="review-image-tile" src="/i1.jpg" data-hook="review-image-tile">
  <img class="review-image-tiles" src="/i2.jpg"><svg><path data-hook="review-date"/></svg>
  <span data-hook="">empty</span><span data-hook="review-body">b</span><span data-hook="review-body">b2</span>
</div></div></body></html>"""


def test_amazon_card_walk_matches_its_xpath() -> None:
    from spiders.parsing import amazon

    tree = html_tree(_AMAZON_CARD)
    card = xp(tree, "//@data-hook[.='review']/parent::*")[0]
    parts = xp(card, ".//*[@data-hook] | .//a[contains(@class,'a-profile')] | .//img[contains(@class,'review-image-tile')]")
    hooks: dict[str, object] = {}
    for el in parts:
        if el.get("data-hook"):
            hooks.setdefault(el.get("data-hook"), el)
    profiles = [el for el in parts if el.tag == "a" and "a-profile" in (el.get("class") or "")]
    images = [el for el in parts if el.tag == "img" and "review-image-tile" in (el.get("class") or "")]
    assert amazon._hooks(card) == (hooks, profiles, images)  # noqa: SLF001
    assert len(profiles) == 2 and len(images) == 2 and "review-date" in hooks


def test_html_tree_whole_documents_parse_as_lxml_html_fromstring() -> None:
    import lxml.html
    import pytest
    from lxml import etree

    from spiders.parsing.common import ParseError

    for page in ("<!DOCTYPE html>", "<!doctype html><html><body><p>x</p></body></html>", "  <HTML><p>y",
                 "<html></html>", "<!DOCTYPE html><!-- only a comment -->", "<div>fragment</div><p>two</p>",
                 "\n<!DOCTYPE html>\n<html><head><title>t</title></head></html>"):
        try:
            expected = etree.tostring(lxml.html.fromstring(page, parser=lxml.html.HTMLParser(huge_tree=True)))
        except (etree.ParserError, ValueError):
            with pytest.raises(ParseError):
                html_tree(page)
            continue
        assert etree.tostring(html_tree(page)) == expected
