"""Silences and watchlist entries by the ids the platform shows; unknown ones refused with one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.silences import add_silence, describe, silence_by_refs
from monitor.errors import DataError
from monitor.platform_refs import find_listing, find_reviewer, find_shop
from alerts_testkit import db_cli, factory  # noqa: F401  (fixtures)

BOTH_DATABASES = True  # savepoints, time windows and lookups behave the same on both
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_refs_by_platform_id_url_config_id_and_nick(session, factory) -> None:
    shop = factory.shop()
    listing = factory.listing(shop, url="https://item.taobao.com/item.htm?id=652311")
    reviewer = factory.reviewer("t***a")
    assert find_shop(session, "tea") is shop  # the id in the configuration
    assert find_shop(session, f"taobao:{shop.external_id}") is shop
    assert find_listing(session, listing.external_id) is listing
    assert find_listing(session, "https://item.taobao.com/item.htm?id=652311") is listing
    assert find_reviewer(session, "t***a") is reviewer
    factory.reviewer("t***a")
    with pytest.raises(DataError, match=r"reviewer 't\*\*\*a' is ambiguous \(taobao:u\d, taobao:u\d\)"):
        find_reviewer(session, "t***a")
    with pytest.raises(DataError, match="no listing 'jd:652311'"):
        find_listing(session, "jd:652311")


def test_silence_by_platform_listing_id_works_and_unknown_database_ids_are_refused(session, factory) -> None:
    listing = factory.listing(factory.shop())
    s = silence_by_refs(session, listing=listing.external_id, until=T0 + timedelta(days=1), created_by="amy", now=T0)
    assert s.listing_id == listing.id and describe(session, s) == f"listing=taobao:{listing.external_id}"
    with pytest.raises(DataError, match="no listing with database id 999"):
        add_silence(session, listing_id=999, until=T0 + timedelta(days=1), created_by="amy", now=T0)


def test_watchlist_commands_take_the_platform_account(db_cli, session, factory) -> None:
    reviewer = factory.reviewer("p***o")
    session.commit()
    cli = db_cli
    assert cli("watchlist", "add", f"taobao:{reviewer.external_id}", "--note", "asked for money") == (
        0, f"watching taobao:{reviewer.external_id} (p***o)\n", "")
    code, out, _ = cli("watchlist", "list")
    assert code == 0 and f"taobao:{reviewer.external_id}" in out and "asked for money" in out
    assert cli("watchlist", "add", "ghost") == (
        2, "", "shopmon: error: no reviewer 'ghost' (give its id as the platform shows it, optionally as platform:id)\n")
    assert cli("watchlist", "remove", "p***o")[0] == 0
    assert cli("watchlist", "list")[1] == "nobody on the watchlist\n"
