"""One typed settings object: TOML file, then environment variables (``SHOPMON_*``).

Secrets (the SMTP password, the model registry key, a database password) come from the
environment only; one found in the config file is rejected so it never ends up in a repository.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor.errors import ConfigError
from monitor.scheduler_settings import SchedulerConfig

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


def _check_zone(v: str | None) -> str | None:
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShopConfig(_Strict):
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
        return _check_zone(v)

    @field_validator("cron")
    @classmethod
    def _cron_fields(cls, v: str | None) -> str | None:
        if v is not None and len(v.split()) != 5:
            raise ValueError("cron must have 5 fields: minute hour day month day_of_week")
        return v


class CrawlConfig(_Strict):
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


class SMTPConfig(_Strict):
    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(default="shopmon@localhost", pattern=EMAIL_PATTERN)
    timeout_seconds: PositiveFloat = 30


class AlertsConfig(_Strict):
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
        return _check_zone(v)

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
        import re

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
        import re

        for a in v:
            if not re.match(EMAIL_PATTERN, a):
                raise ValueError(f"{a!r} is not an email address")
        return v


class DetectionConfig(_Strict):
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


class CasesConfig(_Strict):
    review_edit_days: PositiveFloat = Field(
        default=30, description="days after posting in which a buyer may still change a bad review (Taobao: 30)"
    )
    review_edit_days_by_platform: dict[Platform, PositiveFloat] = Field(default_factory=dict)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$", description="currency of the compensation ledger")

    def edit_window(self, platform: str | None) -> float:
        return self.review_edit_days_by_platform.get(platform, self.review_edit_days)  # type: ignore[call-overload]


class ListingsConfig(_Strict):
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


class WebConfig(_Strict):
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

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 32:
            raise ValueError("web.secret_key must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return v


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOPMON_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Path("shopmon-data")
    database_url: str | None = None
    database_busy_timeout: PositiveFloat = Field(
        default=30, description="seconds a writer waits for a locked SQLite database before giving up"
    )
    model_dir: Path | None = None
    registry_key: SecretStr | None = Field(
        default=None,
        description="signs model versions and live aliases (SHOPMON_REGISTRY_KEY, environment only)",
    )
    shared_dir: Path = Field(default=Path("../shared"), description="third-party data for benchmarks")
    shops: list[ShopConfig] = Field(default_factory=list)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    smtp: SMTPConfig = Field(default_factory=SMTPConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    cases: CasesConfig = Field(default_factory=CasesConfig)
    listings: ListingsConfig = Field(default_factory=ListingsConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    web: WebConfig = Field(default_factory=WebConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file; the file arrives as init kwargs.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        ids = [s.id for s in self.shops]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate shop id(s): {', '.join(dupes)}")
        if self.shops and not self.alerts.recipients.get("serious_case"):
            raise ValueError(
                "alerts.recipients.serious_case is missing: shops are configured but nobody "
                "would receive their alerts"
            )
        return self

    # Derived locations -------------------------------------------------------------
    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shopmon.db').resolve()}"

    @property
    def models_path(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def outbox_path(self) -> Path:
        return self.alerts.outbox_dir or self.data_dir / "outbox"

    @property
    def images_path(self) -> Path:
        return self.data_dir / "images"

    def locale_for(self, shop_id: str | None) -> Locale:
        """A shop's own language and time zone where it sets them, else the team's (alerts.*)."""
        shop = next((s for s in self.shops if s.id == shop_id), None) if shop_id else None
        return Locale(
            language=(shop.language if shop and shop.language else self.alerts.language),
            timezone=(shop.timezone if shop and shop.timezone else self.alerts.timezone),
        )

    def shop(self, shop_id: str) -> ShopConfig:
        for s in self.shops:
            if s.id == shop_id:
                return s
        raise ConfigError(f"no shop with id {shop_id!r} in the configuration")


DEFAULT_CONFIG_NAMES = ("shopmon.toml",)


def find_config_file(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("SHOPMON_CONFIG")
    if env:
        return Path(env)
    for name in DEFAULT_CONFIG_NAMES:
        if Path(name).is_file():
            return Path(name)
    return None


def _describe(err: ValidationError, source: str) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return f"invalid configuration in {source}: " + "; ".join(parts)


def _refuse_file_secrets(cfg_path: Path, data: dict[str, Any]) -> None:
    """Secrets come from the environment only, so a config file can be shared or committed."""
    if isinstance(data.get("smtp"), dict) and "password" in data["smtp"]:
        raise ConfigError(
            f"{cfg_path}: smtp.password must not be stored in the file; "
            "set SHOPMON_SMTP__PASSWORD in the environment"
        )
    if "registry_key" in data:
        raise ConfigError(f"{cfg_path}: registry_key must not be stored in the file; set SHOPMON_REGISTRY_KEY")
    if isinstance(data.get("web"), dict) and "secret_key" in data["web"]:
        raise ConfigError(
            f"{cfg_path}: web.secret_key must not be stored in the file; set SHOPMON_WEB__SECRET_KEY in the environment"
        )
    url = data.get("database_url")
    if isinstance(url, str) and _url_password(url):
        raise ConfigError(
            f"{cfg_path}: database_url contains a password; keep the URL without it in the file and set the "
            "full URL in SHOPMON_DATABASE_URL (or use the server's PGPASSWORD / .pgpass)"
        )


def _url_password(url: str) -> bool:
    try:
        parts = urlsplit(url)
        if parts.password:
            return True
    except ValueError:
        return False
    return "password" in {k.lower() for k in parse_qs(parts.query)}


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read the config file (if any) and the environment; raise ConfigError with one line."""
    cfg_path = find_config_file(path)
    data: dict[str, Any] = {}
    source = "environment"
    if cfg_path is not None:
        source = str(cfg_path)
        try:
            raw = cfg_path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {cfg_path}: {exc.strerror}") from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"config file {cfg_path} is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {cfg_path} is not valid TOML: {exc}") from None
        _refuse_file_secrets(cfg_path, data)
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
