"""The ``[workers]`` section: where the scheduler's jobs go when they run on other machines.

Foundation: the settings object is built from it. Without ``redis_url`` every job runs inside
the scheduler process as before (the embedded default).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

REDIS_SCHEMES = ("redis", "rediss", "unix")


class WorkersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redis_url: str | None = Field(
        default=None,
        description="Redis of the job queue (redis://host:6379/0). Set: `shopmon schedule` puts crawls, "
        "post-crawl processing and commands on the queue and `shopmon worker` processes run them; "
        "unset: the scheduler runs them itself",
    )
    namespace: str = Field(
        default="shopmon", pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="prefix of every Redis key of the queue and the worker list (several installations, "
        "or tests, can share one Redis)",
    )
    threads: PositiveInt = Field(default=2, le=64, description="jobs one `shopmon worker` runs at the same time")
    lease_seconds: float = Field(
        default=60, ge=2, le=3600,
        description="a worker that stops heartbeating (killed, machine gone) has its running jobs put back on "
        "the queue this long after its last heartbeat",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if v is None:
            return v
        scheme = urlsplit(v).scheme
        if scheme not in REDIS_SCHEMES:
            raise ValueError(f"redis_url must start with redis://, rediss:// or unix:// (got {scheme or v!r})")
        return v
