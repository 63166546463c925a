"""Reputation snapshots: a listing's or shop's adjusted rating and grade, one row per crawl."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
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
