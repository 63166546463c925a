"""Builders for behaviour tests: a shop with listings, reviewers and reviews at chosen times."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from models import Listing, Review, Reviewer, Shop

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class World:
    """Adds rows with unique external ids; times are offsets in hours from T0."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._n = itertools.count(1)
        self.shop = Shop(platform="taobao", external_id="shop-1", name="Test shop")
        session.add(self.shop)
        session.flush()
        self.listings: list[Listing] = []

    def listing(self, title: str = "item", skus: list[dict] | None = None) -> Listing:
        n = next(self._n)
        row = Listing(platform="taobao", external_id=f"L{n}", shop_id=self.shop.id, title=f"{title} {n}",
                      skus=skus or [])
        self.session.add(row)
        self.session.flush()
        self.listings.append(row)
        return row

    def reviewer(self, nick: str | None = None, **kw) -> Reviewer:
        n = next(self._n)
        row = Reviewer(platform="taobao", external_id=f"U{n}", nick=nick or f"user{n}", **kw)
        self.session.add(row)
        self.session.flush()
        return row

    def review(self, reviewer: Reviewer | None, listing: Listing, hours: float, rating: int,
               text: str = "ok", **kw) -> Review:
        n = next(self._n)
        row = Review(
            platform="taobao", external_id=f"R{n}", reviewer_id=reviewer.id if reviewer else None,
            listing_id=listing.id, shop_id=self.shop.id, rating=rating, text=text,
            created_at=T0 + timedelta(hours=hours), reviewer_nick=reviewer.nick if reviewer else None, **kw,
        )
        self.session.add(row)
        return row

    def commit(self) -> None:
        self.session.commit()


@pytest.fixture
def world(session: Session) -> World:
    return World(session)
