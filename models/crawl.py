"""One row per crawl of one shop."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

FAILURE_KINDS = ("blocked", "captcha", "login", "zero_items", "timeout", "error", "http", "interrupted",
                 "storage")


# The CrawlRun statuses of crawls that ended in error (crawl-health alerts, the supervisor's counts).
FAILED_CRAWL_STATUSES = ("failed", "interrupted")


class CrawlRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int | None = Field(default=None, foreign_key="shop.id", index=True)
    shop_config_id: str | None = Field(default=None, index=True)
    spider: str
    full: bool = False
    # interrupted: the crawl process died without reporting (kill -9, machine stopped); reaped later.
    status: str = Field(default="running", index=True, description="running, ok, failed or interrupted")
    failure_kind: str | None = None
    error: str | None = Field(default=None, sa_type=Text)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requests: int = 0
    listings_seen: int = 0
    reviews_new: int = 0
    reviews_updated: int = 0
    reviews_deleted: int = 0
    reviews_missing: int = Field(default=0, description="not shown by this complete crawl for the first time "
                                                        "(deleted only if the next complete crawl misses them too)")
    items_invalid: int = 0
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
