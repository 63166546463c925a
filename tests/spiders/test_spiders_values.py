"""Normalising values: dates in several locales and time zones, counts, ratings on any scale."""

from __future__ import annotations

import pytest

from spiders.parsing.common import (
    LISTING_FIELDS,
    REVIEW_FIELDS,
    clamp_rating,
    cn_datetime,
    listing_item,
    review_item,
    to_int,
    unwrap_jsonp,
    western_date,
)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2017年04月20日 09:05", "2017-04-20T09:05:00+08:00"),
        ("2024-11-09 20:17:48", "2024-11-09T20:17:48+08:00"),
        ("2019-08-21", "2019-08-21T00:00:00+08:00"),
        ("2018/3/5 7:08", "2018-03-05T07:08:00+08:00"),
        (1700000000000, "2023-11-15T06:13:20+08:00"),
        ("2024-02-30 10:00:00", None),
        ("昨天", None),
        (None, None),
    ],
)
def test_chinese_dates_are_beijing_time(raw, iso) -> None:  # noqa: ANN001
    assert cn_datetime(raw) == iso


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("July 1, 2024", "2024-07-01T00:00:00+00:00"),
        ("8 April 2016", "2016-04-08T00:00:00+00:00"),
        ("3. März 2021", "2021-03-03T00:00:00+00:00"),
        ("12 de septiembre de 2023", "2023-09-12T00:00:00+00:00"),
        ("2021-08-03", "2021-08-03T00:00:00+00:00"),
        ("2021-02-30", None),
        ("2021-08-03T10:15", "2021-08-03T10:15:00+00:00"),
        ("sometime", None),
    ],
)
def test_western_dates(raw, iso) -> None:  # noqa: ANN001
    assert western_date(raw) == iso


@pytest.mark.parametrize(
    ("raw", "n"),
    [("(12)", 12), ("1,234 ratings", 1234), ("One person found this helpful", 1), ("1.2万+", 12000),
     ("有用 (0)", 0), ("", None), (7, 7)],
)
def test_counts(raw, n) -> None:  # noqa: ANN001
    assert to_int(raw) == n


def test_ratings_on_any_scale() -> None:
    assert [clamp_rating(v) for v in ("5.0 out of 5 stars", "4", 1, 0, None)] == [5, 4, 1, None, None]
    assert [clamp_rating(v, 10) for v in (10, 8.6, 1)] == [5, 4, 1]
    assert clamp_rating("9", 5) == 5  # never outside 1-5


def test_jsonp_variants() -> None:
    assert unwrap_jsonp('jsonp123({"a": 1});') == {"a": 1}
    assert unwrap_jsonp('/**/ cb ( [1, 2] )') == [1, 2]
    assert unwrap_jsonp('{"bare": true}') == {"bare": True}


def test_item_builders_keep_the_field_order() -> None:
    review = review_item("jd", review_id="1", text="\ufffd\ufffd", title="ok\ufffd")
    assert list(review)[1 : 1 + len(REVIEW_FIELDS)] == list(REVIEW_FIELDS)
    assert review["decode_errors"] == 3 and review["photos"] == [] and review["raw"] == {}
    listing = listing_item("jd", listing_id="7", title="\ufffd")
    assert list(listing)[1 : 1 + len(LISTING_FIELDS)] == list(LISTING_FIELDS)
    assert (listing["skus"], listing["raw"], listing["decode_errors"]) == ([], {}, 1)
    assert listing_item("jd", skus=None, raw=None)["skus"] is None
    with pytest.raises(TypeError):
        review_item("jd", stars=5)


@pytest.mark.parametrize("query", ["", "a=1", "a=1&a=2", "a=&b=2", "a&b=1", "&&a=1&", "a+b=c+d", "a%20b=%E4%B8%AD",
                                   "x=%zz", "k=v=w", "=v", "pageNo=2&auctionNumId=9", "a=1;b=2", "%2B=%2b&c=%26"])
def test_query_helpers_match_parse_qs_and_urlencode(query: str) -> None:
    from urllib.parse import parse_qs, urlencode

    from spiders.parsing.common import query_first, urlencode_str

    first = query_first(query)
    assert first == {k: v[0] for k, v in parse_qs(query).items()}
    first["pageNo"] = "3"
    assert urlencode_str(first) == urlencode(first)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/h5/x/3.0/?auctionNumId=1&pageNo=1", "https://a.b/c?x=1#frag", "https://a.b/c#f?x",
    "https://a.b/c?x=1#", "HTTP://A.b/c?x", "http://a/b;p?x=1", " http://a/b?x", "http://a/b\t?x", "http:////x?y",
    "https://a.b", "https://a.b?x=1", "ftp://x/y?z", "//x/y?z", "http://a/b?x#y#z", "http://a/ b?x", "file:///d.json",
])
def test_with_query_matches_geturl(url: str) -> None:
    from urllib.parse import urlparse

    from spiders.parsing.common import with_query

    parsed = urlparse(url)
    for query in ("", "a=1", "pageNo=2&x=%C3%A9"):
        assert with_query(url, parsed, query) == parsed._replace(query=query).geturl()


@pytest.mark.parametrize("url", ["https://A.B:80/x", "http://u:p@H/x", "http://[::1]:8/x", "http://h%25z/x", "file:///x",
                                 "http://:80/", "http://Host/", "x", "//h/p", "http://h:/", "https://item.taobao.com/i?id=1"])
def test_hostname_is_the_property(url: str) -> None:
    from urllib.parse import urlparse, urlsplit

    from spiders.parsing.common import hostname

    assert hostname(urlsplit(url)) == urlsplit(url).hostname
    assert hostname(urlparse(url)) == urlparse(url).hostname


def test_page_result_decoded_is_the_constructor() -> None:
    from monitor.encoding import decode_page
    from spiders.parsing.common import PageResult

    doc = decode_page("a\ufffdb".encode())
    assert PageResult.decoded("item", doc) == PageResult(page_kind="item", stats={"decode_errors": 1})
