"""Shared fixtures: an isolated settings object + migrated SQLite database per test."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from monitor.config import Settings, load_settings
from monitor.paths import FIXTURES, shared_dir


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests never read the developer's own config or environment.
    for var in list(os.environ):
        if var.startswith("SHOPMON_") and var not in ("SHOPMON_SHARED", "SHOPMON_TEST_DATABASE_URL"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A module with BOTH_DATABASES = True runs every test on SQLite and on PostgreSQL.
    if getattr(metafunc.module, "BOTH_DATABASES", False):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(autouse=True)
def _database_backend(_isolated_env: None, backend: str, request: pytest.FixtureRequest,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL every settings object the test loads (and every CLI it runs) uses the
    private schema, through the same environment variable an operator would set."""
    if backend == "postgresql":
        monkeypatch.setenv("SHOPMON_DATABASE_URL", request.getfixturevalue("pg_url"))


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


TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _test_database_url() -> str:
    return os.environ.get("SHOPMON_TEST_DATABASE_URL") or TEST_DATABASE_URL


def _no_postgres(reason: str) -> None:
    """Skip, except under CI (CI=true), where a missing server fails the run instead of hiding it."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: PostgreSQL must answer; .ci/run starts it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def pg_url():
    """A SQLAlchemy URL to a private schema in the PostgreSQL of SHOPMON_TEST_DATABASE_URL
    (default: the local server, database test); skips when none answers, fails under CI."""
    from sqlalchemy.engine import make_url

    try:
        import psycopg
    except ModuleNotFoundError:
        _no_postgres("psycopg not installed")
    url = make_url(_test_database_url())
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(conninfo, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        _no_postgres(f"PostgreSQL at {url.render_as_string()} not reachable: {str(exc).splitlines()[0]}")
    # A private schema per test: the database is shared with other suites and xdist workers.
    schema = f"shopmon_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        from monitor.db import dispose_engines

        dispose_engines()  # idle pooled connections would block DROP SCHEMA
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes it runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'both.db'}"
    return request.getfixturevalue("pg_url")


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> str:
    """The local Redis the queue and scrapy-redis tests use."""
    return REDIS_URL


@pytest.fixture
def redis_client(redis_url: str):  # noqa: ANN201
    """A client of the local Redis; the test is skipped when the client library or the server is missing."""
    redis = pytest.importorskip("redis", reason="redis client not installed (pip install '.[distributed]')")
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {redis_url} not reachable: {exc}")
    yield client
    client.close()
