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


class HeldElsewhere(ShopmonError):
    """Not done because another process holds the right to do it (a lease on a shop's crawl...):
    nothing was changed, and the same work later can succeed. Not a failure: the scheduler records
    the occurrence as skipped, a queue worker retries it. Crosses a job child's boundary as itself
    (``child_process.run_function``)."""

    exit_code = 1

    def __init__(self, message: str, held_by: str | None = None) -> None:
        super().__init__(message)
        self.held_by = held_by
