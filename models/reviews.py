"""Reviewers, reviews and the history of edited or deleted reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class Reviewer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    external_id: str = Field(description="platform user id, or the masked nick when that is all there is")
    nick: str | None = None
    level: str | None = Field(default=None, description="account level / credit where the platform shows it")
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    watchlisted: bool = False
    watch_note: str | None = None
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewBase(SQLModel):
    platform: str = Field(index=True)
    external_id: str
    reviewer_nick: str | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    title: str | None = None
    text: str = Field(default="", sa_type=Text)
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    sku: str | None = None
    helpful_votes: int | None = None
    verified_purchase: bool | None = None
    follow_up_text: str | None = Field(default=None, sa_type=Text)
    follow_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seller_reply: str | None = Field(default=None, sa_type=Text)
    seller_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Review(ReviewBase, table=True):
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        # Covers the listing check's per-shop counts of buyers' words: one index range, no table rows.
        Index("ix_review_shop_words", "shop_id", "deleted_at", "says_not_as_pictured", "listing_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int | None = Field(default=None, foreign_key="listing.id", index=True)
    shop_id: int | None = Field(default=None, foreign_key="shop.id", index=True)
    reviewer_id: int | None = Field(default=None, foreign_key="reviewer.id", index=True)
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str | None = None
    decode_errors: int = Field(default=0, description="U+FFFD characters found: text was mis-decoded upstream")
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A review is marked deleted only when two complete crawls in a row miss it.
    missed_crawls: int = Field(default=0, description="complete crawls in a row that did not show this review")
    missing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revision_count: int = 0
    scored_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    says_not_as_pictured: bool | None = Field(
        default=None, description="the listing check's buyers'-words mark (cause flag or plain words); "
        "NULL until it reads the review, and again whenever the review is edited or scored")


# Serves detection's read of the touched shops' recent timelines (shop_id IN ... AND this >= since):
# without it SQLite scans every review row of the table. The expression must stay exactly the one
# the queries filter on, or neither SQLite nor PostgreSQL will use the index. The other columns are
# the ones that read needs, so it walks the index range instead of fetching rows spread over the table.
Index("ix_review_shop_when", Review.shop_id, func.coalesce(Review.created_at, Review.first_seen), Review.deleted_at,
      Review.rating, Review.reviewer_id, Review.listing_id,
      # The read also names id, created_at and first_seen: SQLite has the id (rowid) in every index
      # entry and the time from the expression; PostgreSQL reads an index alone only when it holds
      # every column named, else it scans the table (migration 0019).
      postgresql_include=["id", "created_at", "first_seen"])


class ReviewRevision(SQLModel, table=True):
    """What a review said before it was edited or deleted (never overwritten)."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    change: str = Field(description="edited or deleted")
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    old_rating: int | None = None
    old_text: str | None = Field(default=None, sa_type=Text)
    old_follow_up_text: str | None = Field(default=None, sa_type=Text)
    old_seller_reply: str | None = Field(default=None, sa_type=Text)
