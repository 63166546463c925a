"""Finding and reading the config file: TOML, then the environment, one-line errors.

Secrets (the SMTP password, the model registry key, the web secret key, a database password) come from
the environment only; one found in the config file is rejected so it never ends up in a repository.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from monitor.config.settings import Settings
from monitor.errors import ConfigError

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
    workers = data.get("workers")
    if isinstance(workers, dict) and isinstance(workers.get("redis_url"), str) and _url_password(workers["redis_url"]):
        raise ConfigError(
            f"{cfg_path}: workers.redis_url contains a password; keep the URL without it in the file and set the "
            "full URL in SHOPMON_WORKERS__REDIS_URL"
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
