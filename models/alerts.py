"""Alert outbox, one row per delivery attempt, and silences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

ALERT_STATUSES = ("pending", "sending", "sent", "failed", "suppressed")


class Alert(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    dedup_key: str = Field(unique=True, description="the same event never alerts twice")
    group_key: str = Field(index=True, description="alerts with one key go out in one email")
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    severity: str = "medium"
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: str | None = None
    last_error: str | None = Field(default=None, sa_type=Text)


class AlertAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    transport: str
    ok: bool
    temporary: bool | None = None
    error: str | None = Field(default=None, sa_type=Text)
    message_id: str | None = None


class Silence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str | None = None
    listing_id: int | None = Field(default=None, foreign_key="listing.id")
    reviewer_id: int | None = Field(default=None, foreign_key="reviewer.id")
    shop_id: int | None = Field(default=None, foreign_key="shop.id")
    until: datetime = Field(sa_type=UTCDateTime)
    created_by: str
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
