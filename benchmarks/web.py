"""Case board under load; prints JSON.

N cases (default 100k, with their reviews) in a fresh database; the board served by the real
`shopmon web --workers W` in its own processes on 127.0.0.1; C concurrent clients (default 50),
each signed in, loop over: the board's first page, the board filtered (severity + state), its
next page (keyset cursor), one case page, and one case update (a note through the case workflow).

Two ways to load it (the JSON says which):
- closed loop (default): each client sends its next request the moment the last one answers,
  so the 50 clients saturate the server; latency then is mostly queueing (Little's law: 50 /
  requests per second).
- --rate R: an open loop at R requests/s in all (each client one request every C/R s); latency
  counts from when a request was due, so a late start (server behind) counts against it.

The load generator runs on the same machine as the server and shares its cores: the JSON gives
the server's CPU per request (every worker process), on PostgreSQL the database server's too
(the backends of the URL's database: give the run a database of its own), the generator's own,
and the load average before and after. One untimed warm-up round per client precedes the timed
rounds.

Usage: .venv/bin/python benchmarks/web.py [--cases 100000] [--clients 50] [--rounds 4] [--workers 2]
       [--rate R] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

import benchdb  # noqa: E402
from models import Case, Listing, Review, Shop  # noqa: E402
from monitor.accounts import add_user  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.db import session_scope, upgrade  # noqa: E402

SEVERITIES = ("low", "medium", "high", "critical")
STATES = ("open", "contacted", "promised", "refused", "platform_appeal", "modified", "closed")
CHUNK = 5000
PASSWORD = "bench-password-1"
NEXT_PAGE = re.compile(rb'id="next-page" href="([^"]+)"')


def seed(settings, n: int) -> tuple[int, float]:  # noqa: ANN001
    """n reviews and n cases; returns (the largest case id, seconds)."""
    started = time.perf_counter()
    rng = random.Random(7)
    now = datetime.now(UTC)
    with session_scope(settings) as s:
        shop = Shop(platform="taobao", external_id="bench-shop", config_id="bench")
        s.add(shop)
        s.flush()
        listings = [Listing(platform="taobao", external_id=f"item-{i}", title=f"商品 {i}", shop_id=shop.id) for i in range(200)]
        s.add_all(listings)
        s.flush()
        listing_ids = [x.id for x in listings]
        add_user(s, "bench", PASSWORD, role="staff")
        for start in range(0, n, CHUNK):
            rows = []
            for i in range(start, min(n, start + CHUNK)):
                posted = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
                rows.append({"platform": "taobao", "external_id": f"r{i}", "reviewer_nick": f"买家{i % 5000}",
                             "rating": rng.choice((1, 1, 2, 3)), "text": f"质量太差了，和图片不一样 {i}",
                             "created_at": posted, "listing_id": rng.choice(listing_ids), "shop_id": shop.id,
                             "photos": [], "raw": {}, "first_seen": posted, "last_seen": posted,
                             "revision_count": 0, "decode_errors": 0})
            ids = s.execute(insert(Review).returning(Review.id, Review.created_at, Review.listing_id,
                                                     sort_by_parameter_order=True), rows).all()
            cases = []
            for (rid, posted, lid), row in zip(ids, rows):
                opened = posted + timedelta(minutes=5)
                cases.append({"review_id": rid, "shop_id": shop.id, "listing_id": lid, "buyer_nick": row["reviewer_nick"],
                              "item_title": f"商品 {lid}", "review_text": row["text"], "rating": row["rating"],
                              "severity": rng.choice(SEVERITIES), "state": rng.choice(STATES),
                              "contact_status": "none", "kinds": rng.choice(([], [], ["malicious"], ["attack"])),
                              "cause": rng.choice((None, "quality", "not_as_pictured")),
                              "opened_at": opened, "updated_at": opened, "last_progress_at": opened})
            s.execute(insert(Case), cases)
        top = s.execute(insert(Case).returning(Case.id), [{"severity": "low", "state": "open", "contact_status": "none",
                                                           "kinds": [], "opened_at": now, "updated_at": now,
                                                           "last_progress_at": now}]).scalar_one()
    return top, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and all its descendants (the uvicorn supervisor and its workers)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += benchdb.cpu_seconds(p)
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def _own_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


class Connection:
    """One keep-alive HTTP/1.1 connection, just enough for this server's answers (every response
    carries Content-Length). httpx spent 1.7 ms of CPU per request in the closed loop, a fifth of
    what the 2 cores did, taken from the server it measures; this spends a small fraction of that."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nCookie: {cookie}\r\n"
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        body = urlencode(form).encode() if form is not None else b""
        extra = (f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                 if form is not None else "")
        writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        length = re.search(r"\r\ncontent-length: *(\d+)", head)
        if length is None:
            raise RuntimeError(f"{method} {path}: a response without Content-Length:\n{head}")
        payload = await reader.readexactly(int(length.group(1)))
        if "\r\nconnection: close" in head:
            writer.close()
            self.streams = None
        return int(head[9:12]), payload

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            await self.streams[1].wait_closed()


async def sign_in(url: str) -> tuple[Connection, str]:
    """One signed-in client; sign-ins happen before the clock starts (argon2 is slow on purpose)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as c:
        page = await c.get("/login")
        r = await c.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
        assert r.status_code in (200, 303), r.status_code
        token = csrf_of((await c.get("/")).text)
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    address = httpx.URL(url)
    return Connection(address.host, address.port, cookie), token


async def client(c: Connection, token: str, rounds: int, top: int, seed_: int,
                 out: dict[str, list[float]] | None, interval: float | None, start: float) -> None:
    """rounds of the five requests; interval: seconds between this client's requests (open loop,
    latency from when each was due), None: closed loop (latency from when it was sent)."""
    rng = random.Random(seed_)
    due = start

    async def timed(kind: str, method: str, path: str, form: dict[str, str] | None = None) -> bytes:
        nonlocal due
        if interval is not None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        t0 = due if interval is not None else time.perf_counter()
        status, body = await c.request(method, path, form)
        if out is not None:
            out.setdefault(kind, []).append(time.perf_counter() - t0)
        assert status in (200, 303), (kind, path, status)
        due += interval or 0.0
        return body

    for _ in range(rounds):
        await timed("board", "GET", "/")
        filtered = await timed("board_filtered", "GET", "/?severity=high&state=open")
        nxt = NEXT_PAGE.search(filtered)
        if nxt:
            await timed("board_next_page", "GET", nxt.group(1).decode().replace("&amp;", "&"))
        case_id = rng.randint(1, top)
        await timed("case_page", "GET", f"/cases/{case_id}")
        await timed("case_update", "POST", f"/cases/{case_id}/contact",
                    form={"csrf": token, "note": "bench: called, no answer"})


def summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 1), "max_ms": round(ms[-1], 1)}


def start_server(port: int, workers: int, env: dict[str, str], log) -> subprocess.Popen:  # noqa: ANN001
    server = subprocess.Popen([str(Path(sys.executable).with_name("shopmon")), "web", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):  # bounded wait for the port (the workers import the app first)
        try:
            httpx.get(base + "/login", timeout=2)
            return server
        except httpx.HTTPError:
            if server.poll() is not None:
                raise SystemExit("the server stopped; see its log") from None
            time.sleep(0.1)
    raise SystemExit("the server did not start in 120 s")


def run_load(base: str, args: argparse.Namespace, top: int, server_pid: int, url: str | None) -> dict:
    lat: dict[str, list[float]] = {}
    clock: dict[str, float] = {}
    interval = args.clients / args.rate if args.rate else None

    async def run_all() -> None:
        signed = [await sign_in(base) for _ in range(args.clients)]
        # Warm-up (untimed): every worker compiles its templates and statements once.
        await asyncio.gather(*(client(c, tok, 1, top, 1000 + i, None, None, 0.0) for i, (c, tok) in enumerate(signed)))
        clock["server"], clock["client"] = tree_cpu_seconds(server_pid), _own_cpu()
        clock["database"] = benchdb.database_cpu_seconds(url)
        clock["t0"] = start = time.perf_counter()
        # Open loop: the clients' first requests spread over one interval, not all at once.
        await asyncio.gather(*(client(c, tok, args.rounds, top, i, lat, interval,
                                      start + (interval or 0.0) * i / args.clients)
                               for i, (c, tok) in enumerate(signed)))
        clock["wall"] = time.perf_counter() - clock["t0"]
        clock["server"] = tree_cpu_seconds(server_pid) - clock["server"]
        if clock["database"] is not None:
            clock["database"] = benchdb.database_cpu_seconds(url) - clock["database"]
        clock["client"] = _own_cpu() - clock["client"]
        for c, _ in signed:
            await c.close()

    asyncio.run(run_all())
    requests = sum(len(v) for v in lat.values())
    latency = {kind: summary(v) for kind, v in lat.items()}
    return {
        "mode": f"open loop at {args.rate:g} requests/s" if args.rate else "closed loop (saturation)",
        "wall_seconds": round(clock["wall"], 1), "requests": requests,
        "requests_per_s": round(requests / clock["wall"], 1),
        "server_cpu_ms_per_request": round(clock["server"] * 1000 / requests, 1),
        "database_cpu_ms_per_request": (None if clock["database"] is None
                                        else round(clock["database"] * 1000 / requests, 1)),
        "client_cpu_ms_per_request": round(clock["client"] * 1000 / requests, 1),
        "latency": latency,
        "target_met": all(v["p95_ms"] <= 200 for v in latency.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=4, help="loops of the five requests per client")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="shopmon web --workers")
    ap.add_argument("--rate", type=float, default=None, help="open loop at this many requests/s (default: closed loop)")
    benchdb.add_argument(ap)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, benchdb.database(args.database_url, "web") as url:
        data = Path(tmp) / "data"
        settings = load_settings(data_dir=data)
        upgrade(settings)
        top, seed_s = seed(settings, args.cases)
        benchdb.vacuum_analyze(url)
        env = {**os.environ, "SHOPMON_DATA_DIR": str(data), "SHOPMON_WEB__SECRET_KEY": "b" * 40}
        if url:
            env["SHOPMON_DATABASE_URL"] = url
        port = free_port()
        log_path = Path(tmp) / "server.log"
        load_before = os.getloadavg()[0]
        with log_path.open("wb") as log:
            server = start_server(port, args.workers, env, log)
            try:
                result = run_load(f"http://127.0.0.1:{port}", args, top, server.pid, url)
            except BaseException:
                sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
                raise
            finally:
                server.terminate()
                server.wait(timeout=60)
    print(json.dumps({
        "backend": benchdb.backend(args.database_url), "cases": args.cases, "clients": args.clients,
        "rounds": args.rounds, "workers": args.workers, "seed_seconds": round(seed_s, 1), **result,
        "cpu_count": os.cpu_count(), "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
        "target": "p95 <= 200 ms for every request kind",
    }, indent=2))


if __name__ == "__main__":
    main()
