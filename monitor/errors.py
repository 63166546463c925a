"""Errors that the CLI turns into one clear line and an exit code (no traceback)."""


class ShopmonError(Exception):
    exit_code = 1


class ConfigError(ShopmonError):
    """Bad configuration or bad command-line values."""

    exit_code = 2


class DataError(ShopmonError):
    """Input data that cannot be used (missing column, unreadable file...)."""

    exit_code = 2


class StorageError(ShopmonError):
    """The database or data directory cannot be used."""

    exit_code = 1
