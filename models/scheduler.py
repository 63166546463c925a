"""Scheduler state: the leader lease, and one row per scheduled job occurrence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

# The JobRun statuses of occurrences that ran and ended in error (the job-error listener alerts on
# them). Queued and running ones have not ended; ok, skipped (held elsewhere) and missed (too late,
# never run) did not fail.
FAILED_JOB_STATUSES = ("failed", "timeout", "interrupted")


class SchedulerLease(SQLModel, table=True):
    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime = Field(sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """One occurrence of a scheduled job.

    The unique (job_id, scheduled_for) pair is the claim: whichever scheduler inserts the row
    runs that occurrence, so two schedulers on one database never run it twice, even in the
    moment a paused leader has not yet noticed that its lease was taken over.
    """

    __table_args__ = (UniqueConstraint("job_id", "scheduled_for", name="uq_jobrun_occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(index=True)
    task: str
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    holder: str
    status: str = Field(default="running", index=True,
                        description="queued, running, ok, failed, timeout, interrupted, missed or skipped "
                                    "(held elsewhere: a shop crawled by another process)")
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_s: float | None = None
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_type=Text)
