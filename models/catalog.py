"""Shops, listings and listing images."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class Shop(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    external_id: str
    config_id: str | None = Field(default=None, index=True, description="shop id in the config file")
    name: str | None = None
    url: str | None = None
    dsr: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ListingBase(SQLModel):
    platform: str = Field(index=True)
    external_id: str
    url: str | None = None
    title: str | None = None
    price: float | None = None
    currency: str | None = None
    rating_avg: float | None = None
    review_count: int | None = None
    sales: int | None = None


class Listing(ListingBase, table=True):
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int | None = Field(default=None, foreign_key="shop.id", index=True)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    skus: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str | None = None
    image_check_key: str | None = Field(
        default=None, description="what the last image check saw; unchanged, the post-crawl check skips it"
    )
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ListingImage(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("listing_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    url: str
    role: str = Field(default="gallery", description="main, gallery, sku or buyer")
    position: int = 0
    local_path: str | None = None
    checksum: str | None = None
    fetch_error: str | None = None
    fetched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
