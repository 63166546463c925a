"""What detection found (Flag), what analysts said (Label) and which model said it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

FLAG_KINDS = ("malicious", "deceptive", "professional", "attack", "cause", "image_mismatch", "watchlist")
#: After-sales causes: the labels of "cause" flags, and what analysts may label a review with.
CAUSES = (
    "quality",
    "not_as_pictured",
    "missing_item",
    "late_delivery",
    "transport_damage",
    "service_attitude",
    "other",
)


#: What makes a flag one flag: detection writes it once per target and model version.
FLAG_KEY = ("kind", "target_type", "target_id", "model_version")


class Flag(SQLModel, table=True):
    __table_args__ = (UniqueConstraint(*FLAG_KEY),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    target_type: str = Field(description="review, reviewer, listing or shop")
    target_id: int = Field(index=True)
    label: str | None = Field(default=None, description="predicted class, e.g. the after-sales cause")
    score: float
    model_version: str
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    members: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False), description="review ids of an attack"
    )
    shop_id: int | None = Field(default=None, foreign_key="shop.id", index=True)
    listing_id: int | None = Field(default=None, foreign_key="listing.id", index=True)
    review_id: int | None = Field(default=None, foreign_key="review.id", index=True)
    reviewer_id: int | None = Field(default=None, foreign_key="reviewer.id", index=True)
    status: str = Field(default="open", description="open, confirmed or rejected by an analyst")
    incident: int = Field(
        default=0, sa_column_kwargs={"server_default": "0"},
        description="attack flags: later, separate bursts on the same target (each is alerted again)",
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)

    def attack_reviews(self) -> list[int]:
        """An attack's reviews: its members, else the one review the flag names."""
        return list(self.members or ()) or ([self.review_id] if self.review_id else [])


class Label(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("target_type", "target_id", "task", "labeler"),)

    id: int | None = Field(default=None, primary_key=True)
    target_type: str
    target_id: int = Field(index=True)
    task: str = Field(index=True, description="malicious, deceptive, professional, cause, image_mismatch")
    value: str
    labeler: str
    source: str | None = Field(default=None, description="file or flag the label came from")
    note: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ModelVersion(SQLModel, table=True):
    """Mirror of the registry directory, so flags can join to the model that wrote them."""

    __table_args__ = (UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: str
    path: str
    live: bool = False
    data_fingerprint: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewSignature(SQLModel, table=True):
    """MinHash signature of a bad review's text (written when the review is scored).

    Lets a run find the near-duplicates of its new reviews anywhere in the database without
    re-reading every stored text: the bands are looked up by key, the signatures compared. The
    review's near-duplicate cluster is kept here too, merged as reviews arrive, so a run reads a
    cluster's members by id instead of walking its buckets again.
    """

    review_id: int = Field(primary_key=True, foreign_key="review.id", ondelete="CASCADE")
    sig: bytes = Field(sa_type=LargeBinary, description="NUM_PERM uint32 minhashes, little-endian")
    cluster: int | None = Field(default=None, index=True,
                                description="lowest review id of its near-duplicate cluster; null: none")
    similarity: float | None = Field(default=None, description="highest estimated Jaccard similarity of its "
                                     "links; null: written before clusters were kept (not yet clustered)")


# Signatures written before clusters were kept: an empty index once they are clustered, so the
# check each run makes is one probe (monitor.detection.neighbours clusters them on first use).
Index("ix_reviewsignature_unclustered", ReviewSignature.review_id,
      sqlite_where=text("similarity IS NULL"), postgresql_where=text("similarity IS NULL"))


class ReviewBand(SQLModel, table=True):
    """One LSH bucket of a signed review: reviews sharing a key are near-duplicate candidates."""

    key: int = Field(primary_key=True, sa_type=BigInteger, description="band hash, band number mixed in")
    review_id: int = Field(primary_key=True, foreign_key="review.id", ondelete="CASCADE", index=True)
