"""One typed settings object: TOML file, then environment variables (``SHOPMON_*``).

Split by responsibility: ``vocabulary`` (value types every part shares), ``sections`` (one strict model per
section of the file), ``settings`` (the object, its cross-checks and derived locations), ``loading``
(finding and reading the file, refusing secrets in it). Callers import the names below from here.
"""

from monitor.config.loading import find_config_file, load_settings
from monitor.config.sections import CasesConfig, ShopConfig
from monitor.config.settings import Settings
from monitor.config.vocabulary import ALERT_KINDS, AlertKind, Language, Locale, Platform

__all__ = [
    "ALERT_KINDS",
    "AlertKind",
    "CasesConfig",
    "Language",
    "Locale",
    "Platform",
    "Settings",
    "ShopConfig",
    "find_config_file",
    "load_settings",
]
