"""Engine, sessions and schema upgrades. Alembic owns the schema; nothing calls create_all."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.sql import Executable
from sqlmodel import Session, SQLModel, create_engine

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from monitor.config import Settings
from monitor.errors import ConfigError, StorageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def is_memory_sqlite(url: str) -> bool:
    """An in-memory SQLite database: one per process (and per connection), nothing on disk."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _prepare_sqlite_dir(url: str) -> None:
    if is_memory_sqlite(url):
        return
    db_path = make_url(url).database
    folder = Path(db_path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create data directory {folder}: {exc.strerror}") from None
    target = Path(db_path) if Path(db_path).exists() else folder
    if not os.access(target, os.W_OK):
        raise StorageError(f"data directory {folder} is not writable (check its permissions or set data_dir)")


def _sqlite_pragmas(busy_ms: int):  # noqa: ANN202
    def on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        cur = dbapi_conn.cursor()
        # WAL lets the scheduler, a crawl subprocess and the CLI read while one writes;
        # busy_timeout turns "database is locked" into a wait instead of an instant failure.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


# One engine (and connection pool) per database per process; the oldest is forgotten past
# the bound (not disposed: a caller may still hold it), so test runs don't pile up pools.
_engines: dict[tuple[str, float], Engine] = {}
_MAX_ENGINES = 16
# Connections each engine keeps open. The web app lets this many requests in at once per process
# (monitor.web.app.InFlightCap): past it every request opened and closed a connection of its own.
POOL_SIZE = 5


def _create_engine(url: str, busy_timeout: float) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database_url {url!r} is not a valid SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_dir(url)
        engine = create_engine(url, pool_size=POOL_SIZE, connect_args={"timeout": busy_timeout})
        event.listen(engine, "connect", _sqlite_pragmas(int(busy_timeout * 1000)))
    else:
        try:
            engine = create_engine(url, pool_size=POOL_SIZE, pool_pre_ping=True, connect_args=_connect_args(parsed))
        except (ModuleNotFoundError, ArgumentError) as exc:
            raise ConfigError(f"cannot use database_url {parsed.render_as_string()}: {exc}") from None
    return engine


def _connect_args(parsed) -> dict:  # noqa: ANN001
    if parsed.get_backend_name() == "postgresql":
        return {"connect_timeout": 10}
    return {}


def get_engine(settings: Settings) -> Engine:
    key = (settings.db_url, settings.database_busy_timeout)
    if key not in _engines:
        if len(_engines) >= _MAX_ENGINES:
            del _engines[next(iter(_engines))]
        _engines[key] = _create_engine(*key)
    return _engines[key]


def dispose_engines() -> None:
    """Close every pooled connection (before a database file is deleted or replaced)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def error_line(exc: BaseException) -> str:
    """The driver's own first line of a database error (SQLAlchemy wraps it in paragraphs)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def safe_url(url: str) -> str:
    """A database or Redis URL with its password shown as ``***``, for messages and logs
    (SQLAlchemy's URL parser reads any ``scheme://user:password@host`` URL)."""
    return make_url(url).render_as_string(hide_password=True)


def describe_db_error(exc: SQLAlchemyError, settings: Settings) -> str:
    shown = safe_url(settings.db_url)
    first = error_line(exc)
    if isinstance(exc, OperationalError) and "locked" in first:
        return (
            f"database {shown} is locked by another process and stayed locked for "
            f"{settings.database_busy_timeout:g} s; nothing was written, try again"
        )
    return f"database {shown} cannot be used: {first}"


def upsert(session: Session, model: type):  # noqa: ANN201
    """``INSERT`` for this session's database (SQLite or PostgreSQL) with ``on_conflict_do_nothing``
    and ``on_conflict_do_update``: the database decides between two processes writing the same
    natural key, where a look-up followed by an insert lets both insert and one of them fail.
    Through the model's table, as ``insert_rows``: callers pass complete rows, often thousands."""
    dialect = session.get_bind().dialect.name
    if dialect not in _DIALECT_INSERTS:
        raise StorageError(f"database backend {dialect} is not supported (use SQLite or PostgreSQL)")
    return _DIALECT_INSERTS[dialect](model.__table__)  # type: ignore[attr-defined]


_DIALECT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_rows(session: Session, model: type, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert complete rows of a table model in one executemany, through its table (Core): the
    ORM's bulk INSERT passes every row through the mapper first, which cost more than SQLite's own
    writing (200,000 band rows: 1.58 -> 0.72 CPU s)."""
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


def insert_missing(session: Session, row: SQLModel, keys: Sequence[str]) -> int | None:
    """Insert ``row`` (a table model, not added to the session) unless one with the same ``keys``
    exists; the new id, or None when it existed (perhaps written a moment ago by another process)."""
    model = type(row)
    stmt = upsert(session, model).values(**row.model_dump(exclude={"id"}))
    stmt = stmt.on_conflict_do_nothing(index_elements=list(keys)).returning(model.id)
    return session.execute(stmt).scalar()


def plain_rows(session: Session, stmt: Executable) -> list[tuple]:
    """The rows of a Core SELECT as the DBAPI cursor's plain tuples, without a SQLAlchemy Row each:
    for reads of tens of thousands of narrow rows the Rows cost more than the query. No result
    processing either: only for columns the driver returns as wanted (ints, bytes; on SQLite a
    boolean is 0 or 1 and a datetime a string)."""
    if session.autoflush:
        session.flush()  # as session.execute would: the query sees what the session holds
    result = session.connection().execute(stmt)
    try:
        return result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    engine = get_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


#: Rows one transaction writes into a table before it reads them back by key, from which on
#: PostgreSQL the table is analysed first (see ``analyze_written``).
ANALYZE_AFTER_ROWS = 10_000


def analyze_written(session: Session, tables: Sequence[str], rows: int) -> None:
    """On PostgreSQL, ANALYZE ``tables`` inside the current transaction when it wrote ``rows``
    (>= ``ANALYZE_AFTER_ROWS``) into them and is about to look them up by key.

    The planner knows a table only from its last ANALYZE; autovacuum runs one some time after a
    commit, never inside the transaction that wrote the rows. Detection's first run over a large
    history (an import, a first crawl of a big shop) signs every bad review and then walks their
    LSH bands by key in the same transaction: planned without statistics (a band table analysed
    while empty), each look-up of 900 keys was a parallel sequential scan of every band row and
    review (0.3 s or more each, thousands of them at 1M reviews) instead of an index search. ANALYZE
    in a transaction counts the rows that transaction inserted; it samples a bounded number of rows
    (about 0.1-0.5 s here). It holds a SHARE UPDATE EXCLUSIVE lock on the tables until the commit,
    which blocks only another ANALYZE or VACUUM of them, not reads or writes. SQLite needs none:
    its planner takes the index for an equality look-up without statistics."""
    if rows >= ANALYZE_AFTER_ROWS and session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(f'"{t}"' for t in tables)))


def alembic_config(settings: Settings):  # noqa: ANN201
    from alembic.config import Config

    # Config's default stdout is whatever sys.stdout was when alembic was first imported; a
    # captured stream that has since closed makes `alembic check` fail on its own message.
    cfg = Config(stdout=sys.stdout)
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", settings.db_url.replace("%", "%%"))
    cfg.attributes["engine"] = get_engine(settings)
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    from alembic import command

    try:
        command.upgrade(alembic_config(settings), revision)
    except SQLAlchemyError as exc:
        raise StorageError(describe_db_error(exc, settings)) from None


def current_revision(settings: Settings) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(settings).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_schema(settings: Settings) -> None:
    """Upgrade to head if needed; every command that touches data calls this first."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(settings)).get_current_head()
    try:
        current = current_revision(settings)
    except SQLAlchemyError as exc:
        raise StorageError(describe_db_error(exc, settings)) from None
    if current != head:
        upgrade(settings)
