"""Reputation snapshots: a listing's or shop's adjusted rating and grade, one row per crawl."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class ReputationSnapshot(SQLModel, table=True):
    """What the reputation checks said at one moment; kept so grades have a history."""

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(index=True, description="listing or shop")
    target_id: int = Field(index=True, description="listing.id or shop.id")
    shop_id: int | None = Field(default=None, foreign_key="shop.id", index=True)
    crawl_run_id: int | None = Field(default=None, foreign_key="crawlrun.id", index=True)
    reviews: int = Field(description="rated, not deleted reviews considered")
    removed: int = Field(description="reviews left out of the adjusted rating")
    rating: float | None = None
    adjusted_rating: float | None = None
    grade: str
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ReputationFact(SQLModel, table=True):
    """One rated, not deleted review as the reputation tests see it, kept up to date by the
    pipeline's reputation step (monitor.reputation.facts) so that a shop's or a listing's
    verdict is a grouped count over these rows instead of a re-read of every review text.

    The two covering indexes hold every column the grouped counts read, so counting a shop's or
    a listing's day again (ReputationTally) walks one index range and never the table.
    """

    __table_args__ = (
        Index("ix_reputationfact_shop_tally", "shop_id", "day", "removed", "once", "dup_shop", "professional",
              "rating"),
        Index("ix_reputationfact_listing_tally", "listing_id", "day", "removed", "once", "dup_listing",
              "professional", "rating"),
    )

    review_id: int = Field(primary_key=True, foreign_key="review.id", ondelete="CASCADE")
    shop_id: int = Field(foreign_key="shop.id")
    listing_id: int | None = Field(default=None, foreign_key="listing.id")
    reviewer_id: int | None = Field(default=None, index=True, description="the account; NULL: the review is its own")
    revision_count: int = Field(description="the review's revision_count when this row was written")
    rating: int
    day: int = Field(description="date.toordinal() of the posting day in the shop's time zone")
    removed: int = Field(default=0, description="bit i set: a live flag of REMOVING_KINDS[i] removes the review")
    professional: bool = False
    once: bool = Field(description="the account has no other review anywhere we crawled")
    dup_shop: bool = Field(default=False, description="a near-duplicate of another account's review in the shop")
    dup_listing: bool = Field(default=False, description="the same, within its listing")
    sig: bytes | None = Field(default=None, sa_type=LargeBinary, description="MinHash, NUM_PERM uint32 little-endian; "
                              "NULL when the text is too short to sign")


class ReputationBand(SQLModel, table=True):
    """LSH band keys of the signed facts, per shop: where a new review's near-duplicate
    candidates are found. Rows are written and deleted with their fact (no foreign key: a cascade
    would need a second index on review_id), and every lookup joins back to the facts."""

    __table_args__ = {"sqlite_with_rowid": False}

    shop_id: int = Field(primary_key=True)
    key: int = Field(primary_key=True, sa_type=BigInteger)
    review_id: int = Field(primary_key=True)


class ReputationShop(SQLModel, table=True):
    """A shop whose facts are built, and the time zone its fact days were counted in (another
    time zone in the settings rebuilds them)."""

    shop_id: int = Field(primary_key=True, foreign_key="shop.id", ondelete="CASCADE")
    timezone: str


class ReputationTally(SQLModel, table=True):
    """The reputation facts of one shop or listing counted per day and per combination of the
    marks the tests read: a verdict reads these few hundred rows, not the target's facts. The
    groups a change touches are counted again from the facts (monitor.reputation.tallies)."""

    scope: str = Field(primary_key=True, description="shop or listing")
    target_id: int = Field(primary_key=True)
    day: int = Field(primary_key=True)
    removed: int = Field(primary_key=True)
    once: bool = Field(primary_key=True)
    dup: bool = Field(primary_key=True, description="dup_shop for a shop's rows, dup_listing for a listing's")
    professional: bool = Field(primary_key=True)
    shop_id: int = Field(index=True)
    n: int
    rating_sum: int
