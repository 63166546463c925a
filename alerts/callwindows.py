"""When a phone call may be asked for: buyers pick up around 10:00 or after 16:00 their time,
never at 3 am. Escalations whose next step is a call are sent at the next call window."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def next_call_time(now: datetime, windows: list[tuple[time, time]], timezone: str) -> datetime:
    """``now`` when it falls inside a window (shop-local), else the start of the next one (in UTC
    like ``now``). No windows: any time is a call time."""
    if not windows:
        return now
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    for days in range(2):  # sorted windows: today's later ones, else tomorrow's first
        day = local.date() + timedelta(days=days)
        for start, end in windows:
            opens = datetime.combine(day, start, zone)
            closes = datetime.combine(day, end, zone)
            if opens <= local < closes:
                return now
            if local < opens:
                return opens.astimezone(now.tzinfo)
    raise AssertionError("unreachable: every day has a first window")
