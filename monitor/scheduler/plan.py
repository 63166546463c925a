"""Which jobs the configuration asks for, and bringing the job store in line with it.

Job ids are explicit and stable (``crawl:<shop>``, ``alerts:send``...). A job whose
definition did not change is left alone, so a reload or restart keeps its next run time;
the job's name spells out its whole definition, which is what "changed" is judged by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.crontab import crontab_trigger

JOB_FUNC = "monitor.scheduler.runner:run_task"
WEEKLY_GRACE = 24 * 3600
DAILY_GRACE = 6 * 3600
CRON_CRAWL_GRACE = 3600


@dataclass
class JobSpec:
    id: str
    task: str
    name: str
    trigger: BaseTrigger
    misfire_grace_time: int
    params: dict[str, Any] = field(default_factory=dict)
    period: timedelta | None = None  # interval jobs: how often

    @property
    def executor(self) -> str:
        return "crawl" if self.task in ("crawl", "command") else "default"


def scheduler_timezone(settings: Settings) -> ZoneInfo:
    # Report days follow the alerts' time zone so "daily" means the seller's day.
    return ZoneInfo(getattr(settings.alerts, "timezone", None) or "UTC")


def plan_jobs(settings: Settings, now: datetime | None = None) -> list[JobSpec]:
    now = now or datetime.now(UTC)
    tz = scheduler_timezone(settings)
    cfg = settings.scheduler
    specs: list[JobSpec] = []
    for shop in settings.shops:
        jitter = shop.jitter_seconds or None
        if shop.cron:
            try:
                trigger: BaseTrigger = crontab_trigger(shop.cron, tz, jitter)
            except ValueError as exc:
                raise ConfigError(f"shop {shop.id}: cron {shop.cron!r} is not valid: {exc}") from None
            name = f"crawl {shop.id} at cron '{shop.cron}' {tz.key}, jitter {shop.jitter_seconds} s"
            grace, period = CRON_CRAWL_GRACE, None
        else:
            period = timedelta(minutes=shop.interval_minutes)
            # start_date = now: a new shop is crawled soon (within its jitter), not one interval later.
            trigger = IntervalTrigger(minutes=shop.interval_minutes, start_date=now, timezone=tz, jitter=jitter)
            name = f"crawl {shop.id} every {shop.interval_minutes} min, jitter {shop.jitter_seconds} s"
            grace = int(period.total_seconds())
        specs.append(JobSpec(f"crawl:{shop.id}", "crawl", name, trigger, grace, {"shop_id": shop.id}, period))

    send_period = timedelta(seconds=cfg.send_every_seconds)
    specs.append(
        JobSpec(
            "alerts:send",
            "send",
            f"send pending alerts every {cfg.send_every_seconds} s",
            IntervalTrigger(seconds=cfg.send_every_seconds, start_date=now, timezone=tz),
            cfg.send_every_seconds,
            period=send_period,
        )
    )
    esc_period = timedelta(minutes=cfg.escalation_every_minutes)
    specs.append(
        JobSpec(
            "alerts:escalation",
            "escalation",
            f"check escalations every {cfg.escalation_every_minutes} min",
            IntervalTrigger(minutes=cfg.escalation_every_minutes, start_date=now, timezone=tz),
            int(esc_period.total_seconds()),
            period=esc_period,
        )
    )
    at = cfg.digest_time
    specs.append(
        JobSpec(
            "report:daily_digest",
            "report",
            f"queue the daily digest at {at:%H:%M} {tz.key}",
            CronTrigger(hour=at.hour, minute=at.minute, timezone=tz),
            DAILY_GRACE,
            {"kind": "daily_digest"},
        )
    )
    specs.append(
        JobSpec(
            "report:weekly_report",
            "report",
            f"queue the weekly report on {cfg.weekly_day} at {at:%H:%M} {tz.key}",
            CronTrigger(day_of_week=cfg.weekly_day, hour=at.hour, minute=at.minute, timezone=tz),
            WEEKLY_GRACE,
            {"kind": "weekly_report"},
        )
    )
    for cmd in cfg.commands:
        specs.append(
            JobSpec(
                f"command:{cmd.id}",
                "command",
                f"run {' '.join(cmd.argv)} at cron '{cmd.cron}' {tz.key}, limit {cmd.timeout_minutes:g} min",
                crontab_trigger(cmd.cron, tz),
                CRON_CRAWL_GRACE,
                {"command_id": cmd.id},
            )
        )
    return specs


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed, "kept": self.kept}


def sync_jobs(scheduler, specs: list[JobSpec], now: datetime | None = None) -> SyncResult:  # noqa: ANN001
    """Make the scheduler's job store hold exactly ``specs``; unchanged jobs keep their state."""
    now = now or datetime.now(UTC)
    existing = {job.id: job for job in scheduler.get_jobs()}
    result = SyncResult()
    for spec in specs:
        job = existing.pop(spec.id, None)
        options: dict[str, Any] = {}
        if job is None:
            result.added.append(spec.id)
        elif (job.name, job.args, job.kwargs, job.misfire_grace_time, job.executor) == (
            spec.name,
            (spec.task,),
            spec.params,
            spec.misfire_grace_time,
            spec.executor,
        ):
            result.kept.append(spec.id)
            continue
        else:
            result.changed.append(spec.id)
            # A shorter interval should not wait out the old, longer one.
            if spec.period is not None and job.next_run_time is not None:
                options["next_run_time"] = min(job.next_run_time.astimezone(UTC), now + spec.period)
        # Computed from our ``now`` (not APScheduler's clock) so --once with a given time is exact.
        options.setdefault("next_run_time", spec.trigger.get_next_fire_time(None, now))
        scheduler.add_job(
            JOB_FUNC,
            trigger=spec.trigger,
            args=[spec.task],
            kwargs=spec.params,
            id=spec.id,
            name=spec.name,
            replace_existing=True,
            executor=spec.executor,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=spec.misfire_grace_time,
            **options,
        )
    for job_id in existing:
        scheduler.remove_job(job_id)
        result.removed.append(job_id)
    return result
