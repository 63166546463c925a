"""The worker tests' Redis: the local server, each test under a key prefix of its own (so runs can
overlap), its keys deleted afterwards; skipped when Redis or the queue packages are missing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    redis = pytest.importorskip("redis", reason="redis client not installed (pip install '.[distributed]')")
    pytest.importorskip("dramatiq", reason="dramatiq not installed (pip install '.[distributed]')")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {REDIS_URL} not reachable: {exc}")
    prefix = f"shopmon-test-{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
