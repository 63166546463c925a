"""`shopmon web --workers N`: several processes that share sign-ins, CSRF tokens and the sign-in limit;
the cap on requests in flight in each."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from monitor.config import load_settings
from monitor.db import POOL_SIZE, get_engine
from monitor.web.app import InFlightCap, create_app
from monitor.web.serve import worker_count
from web_testkit import PASSWORDS, csrf_of, free_port, seeded  # noqa: F401

SHOPMON = Path(sys.executable).with_name("shopmon")


def _fail_login(client, name: str = "amy") -> int:  # noqa: ANN001
    page = client.get("/login")
    r = client.post("/login", data={"name": name, "password": "wrong-password", "csrf": csrf_of(page.text),
                                    "next": "/"}, follow_redirects=False)
    return r.status_code


def test_failed_sign_ins_count_across_processes(seeded) -> None:  # noqa: ANN001
    """Two apps on one database stand for two workers: five failures spread over both block the sixth."""
    one, two = TestClient(create_app(seeded.settings)), TestClient(create_app(seeded.settings))
    codes = [_fail_login(c) for c in (one, two, one, two, one, two)]
    assert codes == [401] * 5 + [429]
    assert _fail_login(one, "sam") == 401  # another name is not blocked


def test_an_in_memory_database_gets_one_worker(tmp_path) -> None:  # noqa: ANN001
    assert worker_count(load_settings(data_dir=tmp_path, database_url="sqlite://"), 4) == 1
    assert worker_count(load_settings(data_dir=tmp_path, web={"workers": 3})) == 3
    assert worker_count(load_settings(data_dir=tmp_path, web={"workers": 3}), 2) == 2


def test_requests_let_in_at_once_are_the_connections_the_pool_keeps(tmp_path) -> None:  # noqa: ANN001
    settings = load_settings(data_dir=tmp_path)
    layer = create_app(settings).build_middleware_stack()
    while not isinstance(layer, InFlightCap):
        layer = layer.app
    assert layer.slots._value == get_engine(settings).pool.size() == POOL_SIZE


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_workers_share_the_cookie_key_and_the_sign_in_limit(seeded) -> None:  # noqa: ANN001
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMON_")}
    env["SHOPMON_DATA_DIR"] = str(seeded.settings.data_dir)  # no secret key: the workers must share a random one
    server = subprocess.Popen([str(SHOPMON), "web", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # generous: two interpreters import the app on a loaded machine
        while True:
            try:
                httpx.get(base + "/login", timeout=5)
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the board did not start"
                time.sleep(0.1)
        # The supervisor's children: the two workers (and multiprocessing's resource tracker, if any).
        assert len([p for p in _children(server.pid) if "shopmon" in Path(f"/proc/{p}/cmdline").read_text()
                    or "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text()]) >= 2
        # A fresh connection per request, so the kernel hands requests to both workers.
        close = {"Connection": "close"}
        with httpx.Client(base_url=base, headers=close) as c:
            page = c.get("/login")
            r = c.post("/login", data={"name": "amy", "password": PASSWORDS["amy"], "csrf": csrf_of(page.text),
                                       "next": "/"}, follow_redirects=True)
            assert r.status_code == 200 and 'class="case-row"' in r.text
            for _ in range(20):
                r = c.get("/", follow_redirects=False)
                assert r.status_code == 200, "a worker did not accept another worker's session cookie"
        with httpx.Client(base_url=base, headers=close) as c:
            assert [_fail_login(c, "sam") for _ in range(6)] == [401] * 5 + [429]
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_requests_beyond_the_cap_wait_their_turn() -> None:
    """InFlightCap lets `limit` requests into the app at once; the others wait, none is refused."""
    inside, most, done = 0, 0, []

    async def app(scope, receive, send) -> None:  # noqa: ANN001
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        for _ in range(5):
            await asyncio.sleep(0)  # let the other requests run up against the cap
        inside -= 1
        done.append(scope["path"])

    async def main() -> None:
        capped = InFlightCap(app, limit=2)
        await asyncio.gather(*(capped({"type": "http", "path": f"/{i}"}, None, None) for i in range(6)))

    asyncio.run(main())
    assert most == 2 and sorted(done) == [f"/{i}" for i in range(6)]
