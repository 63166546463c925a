"""Amazon product pages in five marketplace languages (fixtures/pages/amazon/dp_<lang>_*.html,
written by the project in Amazon's markup): numbers, prices, ratings, counts, helpful votes, dates
and the byline brand are read in the page's locale, the exact fields asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders.parsing import amazon
from spiders.parsing.detect import parse_page
from spiders.parsing.responses import response_for

# file, URL, listing (price, currency, rating_avg, review_count, brand), reviews
# (review_id, rating, created_at, helpful_votes, verified_purchase)
PAGES = [
    ("dp_de_B0TESTDE01.html", "https://www.amazon.de/dp/B0TESTDE01", (1299.0, "EUR", 4.1, 12345, "Bosch"),
     [("R3DETEST0001", 4, "2024-07-03T00:00:00+00:00", 1234, True),
      ("R3DETEST0002", 1, "2023-12-21T00:00:00+00:00", 1, False)]),
    ("dp_es_B0TESTES01.html", "https://www.amazon.es/dp/B0TESTES01", (149.0, "EUR", 4.1, 5182, "Philips"),
     [("R3ESTEST0001", 5, "2024-07-05T00:00:00+00:00", 2048, True),
      ("R3ESTEST0002", 2, "2023-09-12T00:00:00+00:00", 1, False)]),
    ("dp_fr_B0TESTFR01.html", "https://www.amazon.fr/dp/B0TESTFR01", (1299.99, "EUR", 4.5, 2345, "SEB"),
     [("R3FRTEST0001", 5, "2024-07-03T00:00:00+00:00", 1234, True)]),
    ("dp_it_B0TESTIT01.html", "https://www.amazon.it/dp/B0TESTIT01", (1049.9, "EUR", 4.3, 10234, "De'Longhi"),
     [("R3ITTEST0001", 4, "2024-07-12T00:00:00+00:00", 1, True)]),
    ("dp_ja_B0TESTJP01.html", "https://www.amazon.co.jp/dp/B0TESTJP01", (12800.0, "JPY", 4.1, 2345, "タイガー魔法瓶(TIGER)"),
     [("R3JPTEST0001", 5, "2024-07-03T00:00:00+00:00", 1234, True),
      ("R3JPTEST0002", 2, "2023-12-21T00:00:00+00:00", 1, False)]),
]


def body(fixtures_dir: Path, name: str) -> bytes:
    return (fixtures_dir / "pages" / "amazon" / name).read_bytes()


@pytest.mark.parametrize(("name", "url", "listing", "reviews"), PAGES, ids=[p[0][3:5] for p in PAGES])
def test_amazon_product_page_in_its_locale(fixtures_dir: Path, name: str, url: str, listing: tuple,
                                           reviews: list) -> None:
    r = amazon.parse_product_page(response_for(body(fixtures_dir, name), url))
    item = r.listings[0]
    assert (item["price"], item["currency"], item["rating_avg"], item["review_count"], item["attributes"]["brand"]) \
        == listing
    assert [(x["review_id"], x["rating"], x["created_at"], x["helpful_votes"], x["verified_purchase"])
            for x in r.reviews] == reviews
    assert r.complete


@pytest.mark.parametrize(("name", "url", "listing", "reviews"), PAGES, ids=[p[0][3:5] for p in PAGES])
def test_the_lang_attribute_decides_without_a_url(fixtures_dir: Path, name: str, url: str, listing: tuple,
                                                  reviews: list) -> None:
    r = parse_page(body(fixtures_dir, name))  # saved file, no URL: <html lang> gives the locale
    item = r.listings[0]
    assert (item["price"], item["rating_avg"], item["review_count"]) == listing[:1] + listing[2:4]


def test_same_markup_on_an_english_page_reads_english_numbers(fixtures_dir: Path) -> None:
    """The locale, not a guess per string: "1.299,00" only means 1299 where "," is the decimal mark."""
    page = body(fixtures_dir, "dp_de_B0TESTDE01.html").replace(b'lang="de-de"', b'lang="en-us"')
    item = amazon.parse_product_page(response_for(page, "https://www.amazon.com/dp/B0TESTDE01")).listings[0]
    assert item["review_count"] == 12  # "12.345" in English is twelve and a bit
