"""The after-sales record: one case per bad review or serious flag, with its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

SEVERITIES = ("low", "medium", "high", "critical")
CONTACT_STATUSES = ("none", "messaged", "sms", "phoned")
CASE_STATES = (
    "open",
    "contacted",
    "promised",
    "awaiting_compensation",
    "modified",
    "refused",
    "platform_appeal",
    "closed",
)


class CaseBase(SQLModel):
    buyer_nick: str | None = None
    item_title: str | None = None
    review_text: str | None = Field(default=None, sa_type=Text)
    rating: int | None = None
    severity: str = Field(default="medium", index=True)
    cause: str | None = None
    state: str = Field(default="open", index=True)
    contact_status: str = "none"
    promised_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner: str | None = None


class Case(CaseBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    review_id: int | None = Field(default=None, foreign_key="review.id", index=True, unique=True)
    flag_id: int | None = Field(default=None, foreign_key="flag.id", index=True)
    shop_id: int | None = Field(default=None, foreign_key="shop.id", index=True)
    listing_id: int | None = Field(default=None, foreign_key="listing.id", index=True)
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    guidance: str | None = Field(default=None, sa_type=Text)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_progress_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CasePublic(CaseBase):
    id: int
    opened_at: datetime


class CaseEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str
    action: str = Field(description="opened, state, contact, promise, note, assign, escalated")
    note: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
