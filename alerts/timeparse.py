"""Dates and durations typed on the command line."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90m``, ``24h``, ``7d``, ``2w``."""
    m = _DURATION.match(text or "")
    if not m:
        raise ConfigError(f"{text!r} is not a duration; use a number and m, h, d or w (e.g. 24h, 7d)")
    value = timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
    if value <= timedelta(0):
        raise ConfigError(f"duration {text!r} must be positive")
    return value


def parse_when(text: str, timezone: str, *, option: str, end_of_day: bool = True) -> datetime:
    """A date (``2026-03-05``: the end of that day in the team's zone) or an ISO time.

    An ISO time without an offset is read in the team's zone, never as the machine's.
    """
    tz = ZoneInfo(timezone)
    raw = (text or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            day = datetime.fromisoformat(raw).date()
            return datetime.combine(day, time(23, 59, 59) if end_of_day else time(0), tzinfo=tz)
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date (YYYY-MM-DD) or ISO time (YYYY-MM-DDTHH:MM[+08:00])") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)
