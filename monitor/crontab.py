"""Standard crontab expressions for APScheduler 3.x triggers.

APScheduler 3 numbers weekdays from Monday = 0, while crontab (and everyone writing one)
means Sunday = 0 or 7. Numeric day-of-week fields are rewritten as day names so
``0 3 * * 0`` runs on Sunday, as it would under cron.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _day_of_week(field: str) -> str:
    names: list[str] = []
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if not (base == "*" or base.replace("-", "").isdigit()) or (step_text and not step_text.isdigit()):
            return field  # names or other syntax: APScheduler reads them the crontab way already
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = last = int(base)
            if step_text:
                last = 7
        if not (0 <= first <= 7 and 0 <= last <= 7) or step < 1:
            raise ValueError(f"day of week {part!r} is out of range 0-7")
        if first > last:
            raise ValueError(f"day-of-week range {part!r} runs backwards")
        names.extend(DAY_NAMES[i] for i in range(first, last + 1, step))
    if field == "*":
        return field
    return ",".join(dict.fromkeys(names))


def crontab_trigger(expr: str, timezone: tzinfo | str, jitter: int | None = None) -> CronTrigger:
    """A CronTrigger that means what cron means; ValueError with the reason for a bad expression."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError("cron must have 5 fields: minute hour day month day_of_week")
    minute, hour, day, month, dow = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_day_of_week(dow),
        timezone=timezone,
        jitter=jitter,
    )
