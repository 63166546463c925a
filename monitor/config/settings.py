"""The one typed settings object: every section, the cross-section checks, and the locations derived from it.

The environment (``SHOPMON_*``, ``__`` between nested names) beats the file, which arrives as keyword arguments.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveFloat, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor.config.sections import (
    AlertsConfig,
    CasesConfig,
    CrawlConfig,
    DetectionConfig,
    ListingsConfig,
    ShopConfig,
    SMTPConfig,
    WebConfig,
)
from monitor.config.vocabulary import Locale
from monitor.errors import ConfigError
from monitor.scheduler_settings import SchedulerConfig
from monitor.workers_settings import WorkersConfig

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
    shops: list[ShopConfig] = Field(default_factory=list)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    smtp: SMTPConfig = Field(default_factory=SMTPConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    cases: CasesConfig = Field(default_factory=CasesConfig)
    listings: ListingsConfig = Field(default_factory=ListingsConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    workers: WorkersConfig = Field(default_factory=WorkersConfig)

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

    @property
    def image_store_uri(self) -> str:
        """The configured image store (monitor.image_store.open_store reads it), default images_path;
        a relative directory is taken inside data_dir."""
        store = self.listings.image_store
        if not store:
            return str(self.images_path.resolve())
        return store if store.startswith("s3://") else str((self.data_dir / store).resolve())

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
