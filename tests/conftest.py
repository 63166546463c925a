"""Shared fixtures: an isolated settings object + migrated SQLite database per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import Settings, load_settings
from monitor.paths import FIXTURES, shared_dir


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests never read the developer's own config or environment.
    for var in list(__import__("os").environ):
        if var.startswith("SHOPMON_") and var != "SHOPMON_SHARED":
            monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def db_settings(settings: Settings) -> Settings:
    from monitor.db import upgrade

    upgrade(settings)
    return settings


@pytest.fixture
def session(db_settings: Settings):
    from sqlmodel import Session

    from monitor.db import get_engine

    with Session(get_engine(db_settings), expire_on_commit=False) as s:
        yield s


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared() -> Path:
    """The third-party ../shared folder; tests that need it skip with a reason when it is absent."""
    path = shared_dir()
    if not (path / "README.md").is_file():
        pytest.skip(f"shared data not found at {path} (set SHOPMON_SHARED)")
    return path


@pytest.fixture
def pg_url():
    """A SQLAlchemy URL to a private schema in the local PostgreSQL; skips when none answers."""
    import uuid

    psycopg = pytest.importorskip("psycopg", reason="psycopg not installed")
    try:
        admin = psycopg.connect("host=127.0.0.1 port=5432 dbname=test", connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 db test not reachable: {str(exc).splitlines()[0]}")
    # A private schema per test: the database is shared with other suites and xdist workers.
    schema = f"shopmon_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        from monitor.db import dispose_engines

        dispose_engines()  # idle pooled connections would block DROP SCHEMA
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
