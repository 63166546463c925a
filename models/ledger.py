"""The compensation ledger: every payment made in after-sales, however small, for finance to sign off."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class Compensation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    shop_id: int | None = Field(default=None, foreign_key="shop.id", index=True)
    # Integer cents: sums that finance signs off must not drift the way floats do.
    amount_cents: int = Field(gt=0)
    currency: str = "CNY"
    purpose: str = Field(description="what it was for, e.g. 'removed neutral review'")
    staff: str = Field(description="who handled the payment")
    paid_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
