"""Page completeness, hostile numbers and walls (issue 12 items 2 and 6, parser side).

A page cut mid-list still arrives with HTTP 200: the parser must say it is incomplete (so no
review is taken as deleted) and ``shopmon parse`` must exit non-zero. The truncated pages are
cut copies of the project's own fixture pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from spiders.parsing import amazon, jd, schemaorg, taobao
from spiders.parsing.common import ParseError
from spiders.parsing.detect import parse_page
from spiders.parsing.responses import response_for

AMAZON_URL = "https://www.amazon.com/product-reviews/B0TEST0042/?pageNumber=1"
TB_URL = "https://item.taobao.com/item.htm?id=610000000042"
JD_URL = "https://club.jd.com/comment/productPageComments.action?productId=100099990001&page={page}&pageSize=10"


def page(fixtures_dir: Path, rel: str) -> bytes:
    return (fixtures_dir / "pages" / rel).read_bytes()


def cut_before_nth(body: bytes, marker: bytes, n: int) -> bytes:
    """The page as a dropped connection leaves it: everything before the n-th card (1-based)."""
    pos = -1
    for _ in range(n):
        pos = body.index(marker, pos + 1)
    return body[:pos]


def test_whole_own_pages_are_complete(fixtures_dir: Path) -> None:
    assert amazon.parse_reviews_page(response_for(page(fixtures_dir, "amazon/product-reviews_B0TEST0042.html"), AMAZON_URL)).complete
    assert taobao.parse_item_page(response_for(page(fixtures_dir, "taobao/item_610000000042_meta-gbk-utf8-bytes.html"), TB_URL)).complete
    r = schemaorg.parse_product_page(response_for(page(fixtures_dir, "schemaorg/product_jsonld_reviews.html"), "https://shop.example.com/t"))
    assert (r.complete, r.incomplete) == (True, None)
    # 23 comments declared, 10 a page: page 2 (the last of 3) holds the 3 this page holds
    r = jd.parse_comments(response_for(page(fixtures_dir, "jd/comments_100099990001_page0.jsonp"), JD_URL.format(page=2)))
    assert (r.complete, len(r.reviews)) == (True, 3)


def test_amazon_reviews_cut_mid_list(fixtures_dir: Path) -> None:
    body = page(fixtures_dir, "amazon/product-reviews_B0TEST0042.html")
    cut = cut_before_nth(body, b'data-hook="review"', 2) + b'<div id="R2TESTAAA0002" data-hook="review" class="a'
    r = amazon.parse_reviews_page(response_for(cut, AMAZON_URL))
    assert [x["review_id"] for x in r.reviews] == ["R2TESTAAA0001"]  # what arrived is kept...
    assert r.complete is False  # ...but the page cannot say the second review is gone
    assert "</html>" in r.incomplete


def test_taobao_rendered_reviews_cut_mid_list(fixtures_dir: Path) -> None:
    body = page(fixtures_dir, "taobao/item_610000000042_meta-gbk-utf8-bytes.html")
    r = taobao.parse_item_page(response_for(body[: body.index(b'data-id="420000000001"')], TB_URL))
    assert [x["review_id"] for x in r.reviews] == ["420000000003", "420000000002"]
    assert r.complete is False


def test_schemaorg_page_cut_after_its_json_ld(fixtures_dir: Path) -> None:
    body = page(fixtures_dir, "schemaorg/product_microdata.html")
    r = schemaorg.parse_product_page(response_for(body[: body.rindex(b"</div>")], "https://shop.example.com/t"))
    assert r.complete is False


def test_json_that_closes_but_holds_fewer_reviews_than_declared(fixtures_dir: Path) -> None:
    """The JSON is whole, but page 0 of 3 with 23 comments declared must hold 10, not 3."""
    r = jd.parse_comments(response_for(page(fixtures_dir, "jd/comments_100099990001_page0.jsonp"), JD_URL.format(page=0)))
    assert len(r.reviews) == 3 and r.complete is False
    assert r.incomplete == "3 reviews on page 0, expected 10 (23 declared, 10 a page)"
    r = taobao.parse_rates(response_for(page(fixtures_dir, "taobao/getitemrates_610000000042_page1.json"),
                           "https://h5api.m.taobao.com/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId=610000000042&pageNo=1"))
    assert r.complete is False and r.incomplete.startswith("2 reviews on page 1, expected 10")


def test_jd_comments_without_a_declared_total_use_max_page(fixtures_dir: Path) -> None:
    text = page(fixtures_dir, "jd/comments_100099990001_page0.jsonp").decode()
    data = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    data["productCommentSummary"]["commentCount"] = 0  # JD zeroes its counts on busy listings
    body = json.dumps(data).encode()
    assert jd.parse_comments(response_for(body, JD_URL.format(page=0))).complete is False  # page 0 of 3: 10 expected
    assert jd.parse_comments(response_for(body, JD_URL.format(page=2))).complete is True  # the last page may be short


def test_parse_exits_non_zero_on_a_truncated_page(fixtures_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    body = page(fixtures_dir, "amazon/product-reviews_B0TEST0042.html")
    cut = tmp_path / "cut.html"
    cut.write_bytes(cut_before_nth(body, b'data-hook="review"', 2))
    assert main(["parse", str(cut), "--url", AMAZON_URL]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(line)["review_id"] for line in out.splitlines()] == ["R2TESTAAA0001"]
    assert len(err.strip().splitlines()) == 1
    assert "incomplete reviews page" in err and "</html>" in err
    whole = tmp_path / "whole.html"
    whole.write_bytes(body)
    assert main(["parse", str(whole), "--url", AMAZON_URL]) == 0


JSON_LD = """<!doctype html><html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Product", "name": "Lamp", "sku": "L1",
 "offers": {"price": %(price)s, "priceCurrency": "EUR"},
 "aggregateRating": {"@type": "AggregateRating", "ratingValue": %(agg)s, "bestRating": %(best)s, "reviewCount": 3},
 "review": [{"@type": "Review", "author": "A", "reviewBody": "fine", "reviewRating": {"ratingValue": %(review)s}}]}
</script></head><body><h1>Lamp</h1></body></html>"""


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e308", "1e999", '"NaN"', '"1e308"'])
def test_json_ld_numbers_that_are_no_ratings_are_dropped_with_a_reason(bad: str) -> None:
    body = (JSON_LD % {"price": "12.5", "agg": bad, "best": "5", "review": bad}).encode()
    r = schemaorg.parse_product_page(response_for(body, "https://shop.example.com/lamp"))
    listing, review = r.items
    assert (listing["rating_avg"], listing["price"], review["rating"]) == (None, 12.5, None)
    assert r.stats["dropped_values"] == 2
    assert any(d.startswith("aggregateRating.ratingValue") for d in r.dropped)
    assert any(d.startswith("reviewRating.ratingValue") for d in r.dropped)


def test_json_ld_bad_scale_falls_back_to_five() -> None:
    body = (JSON_LD % {"price": "10", "agg": "4.5", "best": "NaN", "review": "4"}).encode()
    r = schemaorg.parse_product_page(response_for(body, "https://shop.example.com/lamp"))
    assert (r.listings[0]["rating_avg"], r.reviews[0]["rating"]) == (4.5, 4)
    assert r.dropped == ["aggregateRating.bestRating nan: not a finite number"]


def test_parse_never_prints_nan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "lamp.html"
    f.write_text(JSON_LD % {"price": "NaN", "agg": "NaN", "best": "5", "review": "Infinity"}, encoding="utf-8")
    assert main(["parse", str(f), "--url", "https://shop.example.com/lamp"]) == 0
    out, err = capsys.readouterr()

    def reject(name: str) -> None:
        raise AssertionError(f"{name} printed: not valid JSON")

    rows = [json.loads(line, parse_constant=reject) for line in out.splitlines()]
    assert (rows[0]["price"], rows[0]["rating_avg"], rows[1]["rating"]) == (None, None, None)
    assert "dropped_values=3" in err and "aggregateRating.ratingValue nan: not a finite number" in err


@pytest.mark.parametrize(
    ("name", "url", "kind"),
    [
        # served in place of an item page (HTTP 200, the item URL kept)
        ("walls/taobao_login_form.html", "https://item.taobao.com/item.htm?id=610000000042", "login"),
        ("walls/jd_slider_captcha.html", "https://item.jd.com/100099990001.html", "captcha"),
        ("walls/jd_slider_captcha.html", None, "captcha"),
    ],
)
def test_taobao_login_form_and_jd_slider_are_walls(fixtures_dir: Path, name: str, url: str | None, kind: str) -> None:
    with pytest.raises(ParseError, match=f"this is a {kind} page"):
        parse_page(page(fixtures_dir, name), url)


def test_jd_slider_is_a_wall_in_gbk_too(fixtures_dir: Path) -> None:
    text = page(fixtures_dir, "walls/jd_slider_captcha.html").decode("utf-8").replace('charset="utf-8"', 'charset="gbk"')
    with pytest.raises(ParseError, match="this is a captcha page"):
        parse_page(text.encode("gbk"), "https://item.jd.com/100099990001.html")
