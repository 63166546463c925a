"""What a run changed, for the steps after it: post-crawl work reads only this, never history."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Outbox(SQLModel, table=True):
    """One changed row for one consumer; the consumer deletes it in the transaction that handles it."""

    id: int | None = Field(default=None, primary_key=True)
    # "cases": reviews scored, flags written or changed; "listings": listings whose images,
    # fields or reviews changed; "reputation": reviews, flags and listings whose facts changed;
    # "review_changes": reviews whose case or whose rating, deletion or absence changed (written
    # by database triggers, migration 0017).
    consumer: str = Field(index=True, description="cases or listings")
    target_type: str = Field(description="review, flag or listing")
    target_id: int
