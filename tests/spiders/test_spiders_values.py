"""Values as pages write them: dates in several languages and time zones, locale-correct numbers,
prices and counts, ratings on any scale, the brand in Amazon's byline."""

from __future__ import annotations

import pytest

from spiders.parsing.amazon import brand_of, rating_text, votes_in
from spiders.parsing.common import LISTING_FIELDS, REVIEW_FIELDS, PageResult, listing_item, review_item
from spiders.parsing.responses import unwrap_jsonp
from spiders.parsing.values import (
    cn_datetime,
    count,
    number,
    page_locale,
    price,
    rating_within,
    stars,
    western_date,
)
from spiders.parsing.responses import response_for


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2017年04月20日 09:05", "2017-04-20T09:05:00+08:00"),
        ("2024-11-09 20:17:48", "2024-11-09T20:17:48+08:00"),
        ("2019-08-21", "2019-08-21T00:00:00+08:00"),
        ("2018/3/5 7:08", "2018-03-05T07:08:00+08:00"),
        (1700000000000, "2023-11-15T06:13:20+08:00"),
        ("2024-02-30 10:00:00", None),
        ("昨天", None),  # relative: meaningless once the page is saved
        (None, None),
    ],
)
def test_chinese_dates_are_beijing_time(raw, iso) -> None:  # noqa: ANN001
    assert cn_datetime(raw) == iso


@pytest.mark.parametrize(
    ("raw", "locale", "iso"),
    [
        ("Reviewed in the United States on July 1, 2024", "en_US", "2024-07-01T00:00:00+00:00"),
        ("Reviewed in the United Kingdom on 8 April 2016", "en_GB", "2016-04-08T00:00:00+00:00"),
        ("Rezension aus Deutschland vom 3. März 2021", "de_DE", "2021-03-03T00:00:00+00:00"),
        ("Revisado en España el 12 de septiembre de 2023", "es_ES", "2023-09-12T00:00:00+00:00"),
        ("Commenté en France le 3 juillet 2024", "fr_FR", "2024-07-03T00:00:00+00:00"),
        ("Recensito in Italia il 12 luglio 2024", "it_IT", "2024-07-12T00:00:00+00:00"),
        ("2024年7月3日に日本でレビュー済み", "ja_JP", "2024-07-03T00:00:00+00:00"),
        ("2021-08-03", "en_US", "2021-08-03T00:00:00+00:00"),
        ("2021-02-30", "en_US", None),
        ("2021-08-03T10:15", "en_US", "2021-08-03T10:15:00+00:00"),
        ("sometime", "en_US", None),
    ],
)
def test_western_dates_in_the_page_language(raw, locale, iso) -> None:  # noqa: ANN001
    assert western_date(raw, locale) == iso


@pytest.mark.parametrize(
    ("raw", "locale", "n"),
    [("(12)", "en_US", 12), ("1,234 ratings", "en_US", 1234), ("12.345 Bewertungen", "de_DE", 12345),
     ("5.182 valoraciones", "es_ES", 5182), ("1 234 évaluations", "fr_FR", 1234), ("2,345個の評価", "ja_JP", 2345),
     ("1.2万+", "zh_CN", 12000), ("有用 (0)", "zh_CN", 0), ("", "en_US", None), (7, "en_US", 7)],
)
def test_counts_in_the_page_locale(raw, locale, n) -> None:  # noqa: ANN001
    assert count(raw, locale) == n


@pytest.mark.parametrize(
    ("raw", "locale", "value"),
    [("12,50 €", "de_DE", (12.5, "EUR")), ("149,00 €", "es_ES", (149.0, "EUR")), ("1.234,56 €", "de_DE", (1234.56, "EUR")),
     ("$1,299.99", "en_US", (1299.99, "USD")), ("£4.45", "en_GB", (4.45, "GBP")), ("￥1,280", "ja_JP", (1280.0, "JPY")),
     ("12,99 €", "fr_FR", (12.99, "EUR")), ("", "en_US", (None, None))],
)
def test_prices_in_the_page_locale(raw, locale, value) -> None:  # noqa: ANN001
    from babel import Locale

    assert price(raw, Locale.parse(locale)) == value


@pytest.mark.parametrize(
    ("raw", "locale", "value"),
    [("4.1 out of 5 stars", "en_US", 4.1), ("4,1 de 5 estrellas", "es_ES", 4.1), ("4,1 von 5 Sternen", "de_DE", 4.1),
     ("4,1 sur 5 étoiles", "fr_FR", 4.1), ("5つ星のうち4.1", "ja_JP", 4.1), ("4,5 su 5 stelle", "it_IT", 4.5)],
)
def test_amazon_ratings_in_five_languages(raw, locale, value) -> None:  # noqa: ANN001
    from babel import Locale

    assert rating_text(raw, Locale.parse(locale)) == value


@pytest.mark.parametrize(
    ("byline", "brand"),
    [("Visit the Gorilla Store", "Gorilla"), ("Visita la tienda de Philips", "Philips"),
     ("Besuchen Sie den Bosch-Store", "Bosch"), ("Visiter la boutique SEB", "SEB"),
     ("Visita lo Store di De'Longhi", "De'Longhi"), ("タイガー魔法瓶(TIGER)のストアを表示", "タイガー魔法瓶(TIGER)"),
     ("Brand: ChangM", "ChangM"), ("Marke: Tefal", "Tefal"), ("ChangM", "ChangM"), (None, None)],
)
def test_amazon_byline_brand_in_five_languages(byline, brand) -> None:  # noqa: ANN001
    assert brand_of(byline) == brand


@pytest.mark.parametrize(
    ("statement", "locale", "votes"),
    [("12 people found this helpful", "en_US", 12), ("One person found this helpful", "en_US", 1),
     ("0 people found this helpful", "en_US", 0), ("A 2.048 personas les ha parecido esto útil", "es_ES", 2048),
     ("Eine Person fand diese Informationen hilfreich", "de_DE", 1),
     ("1\u202f234 personnes ont trouvé cela utile", "fr_FR", 1234),
     ("1,234人のお客様がこれが役に立ったと考えています", "ja_JP", 1234), (None, "en_US", 0)],
)
def test_amazon_helpful_votes(statement, locale, votes) -> None:  # noqa: ANN001
    from babel import Locale

    assert votes_in(statement, Locale.parse(locale)) == votes


def test_page_locale_from_lang_then_domain() -> None:
    assert str(page_locale(response_for(b'<html lang="de-de"><body></body></html>', "https://www.amazon.com/x"))) == "de_DE"
    assert str(page_locale(response_for(b"<html><body></body></html>", "https://www.amazon.co.jp/dp/X"))) == "ja_JP"
    assert str(page_locale(response_for(b"<html><body></body></html>", "https://www.amazon.com/dp/X"))) == "en_US"


def test_numbers_that_are_no_numbers() -> None:
    assert [number(v) for v in (float("nan"), float("inf"), None, "n/a", 10**400)] == [None] * 5
    result = PageResult()
    assert rating_within(result, "r", "NaN") is None and rating_within(result, "r", 9) is None
    assert rating_within(result, "r", "4.5") == 4.5
    assert result.dropped == ["r 'NaN': not a finite number", "r 9: outside 0-5"]


def test_ratings_on_any_scale() -> None:
    assert [stars(v) for v in (5.0, 4, 1, 0, None)] == [5, 4, 1, None, None]
    assert [stars(v, 10) for v in (10, 8.6, 1)] == [5, 4, 1]
    assert stars(9, 5) == 5  # never outside 1-5


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
