"""Message templates (话术) a supervisor edits: what staff send or say, per case kind, language and use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

# wangwang/sms/phoned: contacting the buyer; public_reply: the shop's answer under the review.
TEMPLATE_USES = ("wangwang", "sms", "phoned", "public_reply")


class MessageTemplate(SQLModel, table=True):
    """A supervisor's wording; where none is stored the product's default wording is used."""

    __table_args__ = (UniqueConstraint("kind", "language", "use"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(description="extortion, attack, professional or a cause (quality, missing_item, ...)")
    language: str
    use: str
    text: str = Field(sa_type=Text)
    updated_by: str
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
