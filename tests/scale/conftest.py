"""The worker tests' Redis (the client comes from tests/conftest.py): each test under a key prefix of its own (so runs can
overlap), its keys deleted afterwards; skipped when Redis or the queue packages are missing. And the
one way they wait for something a worker does, or for a process to be gone."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from pathlib import Path

import pytest


@pytest.fixture
def redis_prefix(redis_client) -> Iterator[str]:  # noqa: ANN001
    pytest.importorskip("dramatiq", reason="dramatiq not installed (pip install '.[distributed]')")
    prefix = f"shopmon-test-{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        keys = list(redis_client.scan_iter(match=f"{prefix}:*"))
        if keys:
            redis_client.delete(*keys)


def _wait_for(what: str, cond: Callable[[], object], timeout: float,
              procs: Sequence[subprocess.Popen] = ()) -> object:
    """Poll ``cond`` until it returns something true (returned); fail after ``timeout`` seconds, or
    as soon as one of ``procs`` (the workers being waited on) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        assert all(p.poll() is None for p in procs), f"a worker exited while waiting for {what}"
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


@pytest.fixture
def wait_for() -> Callable[..., object]:
    return _wait_for


def _gone(pid: int) -> bool:
    """No such process, or only a zombie left for its (new) parent to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


@pytest.fixture
def gone() -> Callable[[int], bool]:
    return _gone


BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load_benchmark(filename: str) -> ModuleType:
    # benchmarks/ is not an installed package: a script is loaded from its file, as it runs.
    name = f"bench_{Path(filename).stem}"
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_benchmark() -> Callable[[str], ModuleType]:
    return _load_benchmark
