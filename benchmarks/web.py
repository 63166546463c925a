"""Case board under load; prints JSON.

N cases (default 100k, with their reviews) in a fresh database; the board served by the real
`shopmon web` command in its own process on 127.0.0.1; C concurrent clients (default 50), each
signed in, loop over: the board's first page, the board filtered (severity + state) and paged
deep with the keyset cursor, one case page, and one case update (a note through the case
workflow). Prints p50/p95/max per request kind, requests/s, and the CPU seconds of the server
and of the client process (the machine is shared: CPU time says more than wall time).

Usage: .venv/bin/python benchmarks/web.py [--cases 100000] [--clients 50] [--rounds 4]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
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


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def sign_in(url: str) -> tuple[httpx.AsyncClient, str]:
    """One signed-in client; sign-ins happen before the clock starts (argon2 is slow on purpose)."""
    c = httpx.AsyncClient(base_url=url, timeout=120)
    page = await c.get("/login")
    r = await c.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code in (200, 303), r.status_code
    return c, csrf_of((await c.get("/")).text)


async def client(c: httpx.AsyncClient, token: str, rounds: int, top: int, seed_: int,
                 out: dict[str, list[float]]) -> None:
    rng = random.Random(seed_)
    try:

        async def timed(kind: str, method: str, path: str, **kw: object) -> httpx.Response:
            t0 = time.perf_counter()
            resp = await c.request(method, path, **kw)
            out.setdefault(kind, []).append(time.perf_counter() - t0)
            assert resp.status_code in (200, 303), (kind, path, resp.status_code)
            return resp

        for _ in range(rounds):
            await timed("board", "GET", "/")
            filtered = await timed("board_filtered", "GET", "/", params={"severity": "high", "state": "open"})
            nxt = re.search(r'id="next-page" href="([^"]+)"', filtered.text)
            if nxt:
                await timed("board_next_page", "GET", nxt.group(1).replace("&amp;", "&"))
            case_id = rng.randint(1, top)
            await timed("case_page", "GET", f"/cases/{case_id}")
            await timed("case_update", "POST", f"/cases/{case_id}/contact",
                        data={"csrf": token, "note": "bench: called, no answer"})
    finally:
        await c.aclose()


def summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 1), "max_ms": round(ms[-1], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=4, help="loops of the five requests per client")
    benchdb.add_argument(ap)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, benchdb.database(args.database_url, "web") as url:
        data = Path(tmp) / "data"
        settings = load_settings(data_dir=data)
        upgrade(settings)
        top, seed_s = seed(settings, args.cases)
        port = free_port()
        env = {**os.environ, "SHOPMON_DATA_DIR": str(data), "SHOPMON_WEB__SECRET_KEY": "b" * 40}
        if url:
            env["SHOPMON_DATABASE_URL"] = url
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen([str(Path(sys.executable).with_name("shopmon")), "web", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):  # bounded wait for the port
                try:
                    httpx.get(base + "/login", timeout=2)
                    break
                except httpx.HTTPError:
                    if server.poll() is not None:
                        raise SystemExit((Path(tmp) / "server.log").read_text(errors="replace"))
                    time.sleep(0.1)
            lat: dict[str, list[float]] = {}
            clock: dict[str, float] = {}

            async def run_all() -> None:
                signed = [await sign_in(base) for _ in range(args.clients)]
                clock["server"], clock["client"] = cpu_seconds(server.pid), _own_cpu()
                clock["t0"] = time.perf_counter()
                await asyncio.gather(*(client(c, tok, args.rounds, top, i, lat) for i, (c, tok) in enumerate(signed)))
                clock["wall"] = time.perf_counter() - clock["t0"]

            asyncio.run(run_all())
            wall = clock["wall"]
            server_cpu = cpu_seconds(server.pid) - clock["server"]
            client_cpu = _own_cpu() - clock["client"]
        except BaseException:
            sys.stderr.write((Path(tmp) / "server.log").read_text(errors="replace")[-4000:])
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    requests = sum(len(v) for v in lat.values())
    print(json.dumps({
        "backend": benchdb.backend(args.database_url), "cases": args.cases, "clients": args.clients,
        "rounds": args.rounds, "seed_seconds": round(seed_s, 1), "wall_seconds": round(wall, 1),
        "requests": requests, "requests_per_s": round(requests / wall, 1),
        "server_cpu_seconds": round(server_cpu, 1), "client_cpu_seconds": round(client_cpu, 1),
        "cpu_count": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2),
        "latency": {kind: summary(v) for kind, v in lat.items()},
        "target": "p95 <= 200 ms (board, case page, case update)",
    }, indent=2))


if __name__ == "__main__":
    main()
