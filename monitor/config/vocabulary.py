"""The words the settings are written in: platforms, alert kinds, languages, time zones, a shop's locale.

Every section module and the settings object share these, so they live apart from both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

Platform = Literal["taobao", "tmall", "jd", "amazon", "schemaorg", "shopify"]
AlertKind = Literal[
    "serious_case",
    "attack",
    "escalation",
    "image_mismatch",
    "crawl_health",
    "daily_digest",
    "weekly_report",
]
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)
EMAIL_PATTERN = r"^[^@\s<>,;\r\n]+@[^@\s<>,;\r\n]+$"
Language = Literal["en", "zh"]


def check_zone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from None
    return v


@dataclass(frozen=True)
class Locale:
    """The language and time zone people of one shop read things in."""

    language: Language
    timezone: str

    def show(self, when: datetime | None) -> str:
        """A time as people here read it: ``2026-03-02 17:00 CST`` in this zone, ``-`` for none."""
        if when is None:
            return "-"
        local = when.astimezone(ZoneInfo(self.timezone))
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
