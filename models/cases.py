"""The after-sales record: one case per bad review or serious flag, with its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

SEVERITIES = ("low", "medium", "high", "critical")


def severity_rank(severity: str | None) -> int:
    """The one severity scale: bigger is worse; unknown values sort as medium."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 1

CONTACT_STATUSES = ("none", "wangwang", "sms", "phoned")
# Records written before 旺旺 (Wangwang) had its own name said "messaged"; it still means 旺旺.
CONTACT_ALIASES = {"messaged": "wangwang"}
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
    buyer_platform_id: str | None = Field(default=None, description="the buyer's account id as the platform shows it")
    item_title: str | None = None
    review_text: str | None = Field(default=None, sa_type=Text)
    rating: int | None = None
    severity: str = Field(default="medium", index=True)
    cause: str | None = None
    state: str = Field(default="open", index=True)
    contact_status: str = "none"
    promised_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner: str | None = None
    review_posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, description="when the buyer posted it")
    compensation_cents: int | None = Field(
        default=None, ge=0, description="amount agreed for awaiting_compensation, in cents of the shop's currency"
    )


class Case(CaseBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Entered by staff; personal data, kept out of CaseBase so no public/export model carries it by accident.
    buyer_phone: str | None = None
    order_no: str | None = None
    parent_id: int | None = Field(
        default=None, foreign_key="case.id", index=True, description="the attack case this review's case belongs to"
    )
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


class CaseEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str
    action: str = Field(description="opened, state, contact, promise, note, assign, escalated")
    note: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# The board's order (worst first, then oldest) read straight from an index, page by page.
Index("ix_case_board_order", Case.severity, Case.opened_at, Case.id)
# The same order under the board's common filters (a state, "My cases", a shop): a filtered page
# and its bounded count read only matching index entries instead of walking every case.
Index("ix_case_board_state", Case.state, Case.severity, Case.opened_at, Case.id)
Index("ix_case_board_owner", Case.owner, Case.severity, Case.opened_at, Case.id)
Index("ix_case_board_shop", Case.shop_id, Case.severity, Case.opened_at, Case.id)
