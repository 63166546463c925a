"""``--database-url`` for every benchmark that stores data: SQLite (default) or PostgreSQL.

Without the option a benchmark keeps its fresh SQLite file in a temporary data directory. With
a PostgreSQL URL each database the benchmark makes is a private schema, dropped afterwards, so
a run never touches other data in that database. The URL reaches every ``load_settings`` call
(and every ``shopmon`` child process) through ``SHOPMON_DATABASE_URL``, as an operator sets it.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.db import dispose_engines


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url", default=None,
        help="database to benchmark on, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test "
             "(a private schema per run, dropped afterwards); default: a fresh SQLite file",
    )


def backend(url: str | None) -> str:
    return make_url(url).get_backend_name() if url else "sqlite"


@contextmanager
def database(url: str | None, name: str = "bench", *, keep: str | None = None) -> Iterator[str | None]:
    """Yields the URL to use (None: SQLite under the benchmark's data directory).

    ``keep``: a PostgreSQL schema named ``shopmon_<keep>``, created when missing and left in place,
    so a large generated history is measured again without generating it again.
    """
    if url is None or backend(url) == "sqlite":
        with _env(url):
            yield url
        return
    schema = f"shopmon_{keep}" if keep else f"shopmon_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    scoped_url = scoped.render_as_string(hide_password=False)
    try:
        with _env(scoped_url):
            yield scoped_url
    finally:
        dispose_engines()
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def vacuum_analyze(url: str | None) -> None:
    """PostgreSQL's planner needs statistics, and an index-only scan (the bounded count of a
    filtered board) needs the visibility map; autovacuum gathers both some time after a bulk load,
    so a running shop's database has them. The shared server here runs with autovacuum off, so a
    benchmark does autovacuum's work on its own schema after its bulk writes (web.py: with ANALYZE
    alone the filtered count was a bitmap heap scan of 509 pages, 3-7 ms, instead of 1001 index
    entries, 0.3 ms). SQLite is left as `shopmon` leaves it."""
    if url and backend(url) == "postgresql":
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
            conn.execute(text("VACUUM (ANALYZE) " + ", ".join(f'"{t}"' for t in tables)))
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process on this machine, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(url: str | None) -> float | None:
    """CPU of the PostgreSQL server processes now serving this database (same machine; take the
    difference around the measured work, in a database of the run's own, or other users' backends
    count too); None on SQLite, which runs inside the measured process."""
    if not url or backend(url) != "postgresql":
        return None
    engine = create_engine(url)
    with engine.connect() as conn:
        pids = conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalars().all()
    engine.dispose()
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


@contextmanager
def _env(url: str | None) -> Iterator[None]:
    old = os.environ.get("SHOPMON_DATABASE_URL")
    if url is None:
        os.environ.pop("SHOPMON_DATABASE_URL", None)
    else:
        os.environ["SHOPMON_DATABASE_URL"] = url
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SHOPMON_DATABASE_URL", None)
        else:
            os.environ["SHOPMON_DATABASE_URL"] = old
