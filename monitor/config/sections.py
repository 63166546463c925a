"""The sections of the settings file (``[[shops]]``, ``[crawl]``, ``[smtp]``, ``[alerts]``, ...), each a
strict model that rejects unknown keys and bad values. ``[scheduler]`` lives in monitor.scheduler_settings.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, PositiveFloat, PositiveInt, SecretStr, field_validator

from monitor.config.vocabulary import EMAIL_PATTERN, AlertKind, Language, Platform, Strict, check_zone

class ShopConfig(Strict):
    """A shop to watch."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="short slug used in the CLI")
    platform: Platform
    url: AnyHttpUrl = Field(description="shop home or search page the spider starts from")
    name: str | None = None
    listing_urls: list[AnyHttpUrl] = Field(default_factory=list)
    interval_minutes: PositiveInt = 360
    cron: str | None = Field(default=None, description="crontab expression; overrides interval")
    jitter_seconds: int = Field(default=300, ge=0)
    full_recrawl_every: PositiveInt = Field(
        default=12, description="every Nth crawl pages through all reviews to catch edits/deletions"
    )
    language: Language | None = Field(default=None, description="this shop's emails and reports; default alerts.language")
    timezone: str | None = Field(default=None, description="IANA zone for this shop's times; default alerts.timezone")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        return check_zone(v)

    @field_validator("cron")
    @classmethod
    def _cron_fields(cls, v: str | None) -> str | None:
        if v is not None and len(v.split()) != 5:
            raise ValueError("cron must have 5 fields: minute hour day month day_of_week")
        return v


class CrawlConfig(Strict):
    user_agent: str = "shopmon/0.1 (+https://github.com/shopmon/shopmon; integrity monitor)"
    obey_robots: bool = True
    autothrottle: bool = True
    download_delay: float = Field(default=1.0, ge=0)
    concurrency_per_domain: PositiveInt = 2
    retry_times: int = Field(default=3, ge=0, le=20)
    timeout_minutes: PositiveFloat = 30
    cookies_file: Path | None = None
    max_page_bytes: PositiveInt = 20 * 1024 * 1024
    recent_review_pages: int = Field(
        default=1, ge=0, le=50,
        description="incremental crawls re-read this many newest review pages of every known listing to "
                    "notice edits and deletions of recent reviews (0: only listings whose review count changed)",
    )
    redis_url: str | None = Field(
        default=None, description="scrapy-redis scheduler/dupefilter for crawling from several machines"
    )


class SMTPConfig(Strict):
    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(default="shopmon@localhost", pattern=EMAIL_PATTERN)
    timeout_seconds: PositiveFloat = 30


class AlertsConfig(Strict):
    recipients: dict[AlertKind, list[str]] = Field(default_factory=dict)
    supervisors: list[str] = Field(default_factory=list)
    language: Language = "en"
    group_window_minutes: int = Field(default=5, ge=0)
    escalation_hours: PositiveFloat = 48
    repeat_hours: PositiveFloat = 24
    business_hours: tuple[time, time] | None = None
    max_attempts: PositiveInt = 8
    claim_lease_seconds: PositiveInt = Field(
        default=120,
        description="a sender renews its claim before every email; rows it left in 'sending' (killed) are "
        "taken back this long after its last renewal. Keep it above smtp.timeout_seconds x 3",
    )
    outbox_dir: Path | None = None
    timezone: str = Field(default="UTC", description="IANA zone for business hours, promise dates and report days")
    appeal_limit_hours: PositiveFloat = Field(
        default=168, description="a case in platform_appeal escalates when its appeal has gone this long without a step")
    call_windows: list[tuple[time, time]] = Field(
        default_factory=lambda: [(time(10), time(12)), (time(16), time(20))],
        description="shop-local times buyers pick up the phone; escalations asking for a call are sent inside them "
                    "(empty: any time)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        return check_zone(v)

    @field_validator("call_windows")
    @classmethod
    def _ordered_windows(cls, v: list[tuple[time, time]]) -> list[tuple[time, time]]:
        for start, end in v:
            if not start < end:
                raise ValueError(f"call window {start:%H:%M}-{end:%H:%M} must end after it starts, on the same day")
        return sorted(v)

    @field_validator("recipients")
    @classmethod
    def _valid_addresses(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind, addrs in v.items():
            if not addrs:
                raise ValueError(f"alert kind {kind!r} has no recipients")
            for a in addrs:
                if not re.match(EMAIL_PATTERN, a):
                    raise ValueError(f"{a!r} is not an email address (alert kind {kind!r})")
        return v

    @field_validator("supervisors")
    @classmethod
    def _valid_supervisors(cls, v: list[str]) -> list[str]:
        for a in v:
            if not re.match(EMAIL_PATTERN, a):
                raise ValueError(f"{a!r} is not an email address")
        return v


class DetectionConfig(Strict):
    precision_target: float = Field(default=0.9, gt=0, le=1)
    min_recall: float = Field(
        default=0.2, ge=0, le=1,
        description="a trained yes/no model whose threshold reaches precision_target only below this recall "
        "is refused (or, with --allow-low-recall, registered with a warning): it would catch almost nothing",
    )
    case_max_rating: int = Field(default=3, ge=1, le=5, description="reviews at or below open a case")
    case_max_age_days: float = Field(
        default=30, ge=0,
        description="reviews dated longer ago than this open no case (a shop's first crawl brings its whole "
        "history, which is not a to-do list); 0 opens one for every bad review",
    )
    thresholds: dict[str, float] = Field(default_factory=dict)
    watchlist: list[str] = Field(default_factory=list, description="reviewer ids known to be professional")
    catch_up_slice: PositiveInt = Field(
        default=1_000_000,
        description="reviewer and attack detection take a run's newly scored reviews this many at a time, "
        "oldest first (an import, an upgrade or a big shop's first crawl): the timelines read follow the slice, "
        "not the backlog",
    )


class CasesConfig(Strict):
    review_edit_days: PositiveFloat = Field(
        default=30, description="days after posting in which a buyer may still change a bad review (Taobao: 30)"
    )
    review_edit_days_by_platform: dict[Platform, PositiveFloat] = Field(default_factory=dict)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$", description="currency of the compensation ledger")

    def edit_window(self, platform: str | None) -> float:
        return self.review_edit_days_by_platform.get(platform, self.review_edit_days)  # type: ignore[call-overload]


class ListingsConfig(Strict):
    backend: str = Field(
        default="features",
        description="image backend: 'features' (offline scikit-learn) or an entry point in shopmon.image_backends",
    )
    threshold: float = Field(default=0.5, gt=0, lt=1, description="listing mismatch score that writes a flag")
    fetch_hosts: list[str] = Field(
        default_factory=list, description="hosts (besides loopback) images may be downloaded from; '*' = any"
    )
    max_image_bytes: PositiveInt = Field(
        default=20 * 1024 * 1024, description="largest image file fetched, by a crawl or by the image check"
    )
    fetch_timeout_seconds: PositiveFloat = 10
    image_store: str | None = Field(
        default=None,
        description="where crawled images are kept: a directory every worker mounts, or "
                    "s3://bucket/prefix[?endpoint_url=...&region=...] (the s3 extra); default data_dir/images",
    )


class WebConfig(Strict):
    """The staff case board (`shopmon web`)."""

    base_url: AnyHttpUrl | None = Field(
        default=None, description="where staff open the board; alert emails link each case to it"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: SecretStr | None = Field(
        default=None, description="signs session cookies; from SHOPMON_WEB__SECRET_KEY only"
    )
    session_hours: PositiveFloat = 12
    login_attempts: PositiveInt = Field(default=5, description="failed logins per name and address ...")
    login_window_minutes: PositiveFloat = Field(default=15, description="... within this many minutes")
    page_size: int = Field(default=50, ge=5, le=500)
    workers: PositiveInt = Field(
        default=1, description="`shopmon web` worker processes (an in-memory SQLite database gets one)"
    )

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 32:
            raise ValueError("web.secret_key must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return v
