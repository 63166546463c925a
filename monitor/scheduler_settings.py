"""The ``[scheduler]`` section of the configuration (foundation: the settings object is built from it)."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator

from monitor.crontab import crontab_trigger

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _check_cron(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        crontab_trigger(v, "UTC")
    except ValueError as exc:
        raise ValueError(f"cron {v!r} is not valid: {exc}") from None
    return v


class CommandJob(BaseModel):
    """An extra command on a schedule, e.g. retraining: ``argv = ["shopmon", "model", "train"]``."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    cron: str
    argv: list[str] = Field(min_length=1)
    timeout_minutes: PositiveFloat = 120

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, v: str) -> str:
        return _check_cron(v) or v


class SchedulerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_seconds: PositiveFloat = Field(
        default=30, description="a standby takes over this long after the active scheduler stops renewing"
    )
    stop_timeout_seconds: PositiveFloat = Field(
        default=60, description="on SIGTERM, wait this long for running jobs, then kill their subprocesses"
    )
    kill_grace_seconds: PositiveFloat = Field(
        default=30, description="extra time a crawl subprocess gets beyond crawl.timeout_minutes"
    )
    send_every_seconds: PositiveInt = 60
    escalation_every_minutes: PositiveInt = 60
    digest_time: time = time(8, 0)
    weekly_day: Weekday = "mon"
    max_workers: PositiveInt = Field(default=4, description="crawls and commands that may run at the same time")
    json_logs: bool = False
    commands: list[CommandJob] = Field(default_factory=list)

    @field_validator("commands")
    @classmethod
    def _unique_ids(cls, v: list[CommandJob]) -> list[CommandJob]:
        ids = [c.id for c in v]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate scheduler command id(s): {', '.join(dupes)}")
        return v
