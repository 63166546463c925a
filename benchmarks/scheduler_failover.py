"""Scheduler timings: standby takeover after kill -9, SIGTERM stop, per-run bookkeeping, child spawn.

Usage: python benchmarks/scheduler_failover.py [--trials 3] [--lease 2]
Prints one JSON object. Everything runs against a fresh SQLite database in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import benchdb
from monitor.config import load_settings
from monitor.db import get_engine, upgrade
from monitor import child_process
from monitor.scheduler import runs
from monitor.scheduler.lease import current_lease

CONFIG = """data_dir = "{data}"
[alerts.recipients]
serious_case = ["owner@example.com"]
[scheduler]
send_every_seconds = 1
"""


def noop(settings, n: int = 0) -> dict[str, int]:  # noqa: ANN001
    """What the spawn benchmark runs in the child."""
    return {"n": n}


def _holder_pid(settings) -> int | None:  # noqa: ANN001
    info = current_lease(get_engine(settings))
    return int(info.holder.split(":")[1]) if info and info.active() else None


def _wait(cond, timeout: float = 60.0, step: float = 0.01):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError("condition not reached")


def _daemon(config: Path, lease: float, cwd: Path, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "schedule", "--lease-seconds", str(lease)],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def failover(trials: int, lease: float) -> dict[str, object]:
    takeovers, stops = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = root / "shopmon.toml"
        config.write_text(CONFIG.format(data=root / "data"))
        settings = load_settings(config)
        upgrade(settings)
        active = _daemon(config, lease, root, root / "d0.log")
        _wait(lambda: _holder_pid(settings) == active.pid)
        for i in range(trials):
            log = root / f"d{i + 1}.log"
            standby = _daemon(config, lease, root, log)
            _wait(lambda: "standing by" in log.read_text())  # started and polling, not still importing
            active.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            active.wait()
            _wait(lambda: _holder_pid(settings) == standby.pid)
            takeovers.append(time.monotonic() - killed)
            active = standby
        active.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        code = active.wait(timeout=120)
        stops.append(time.monotonic() - asked)
    return {
        "lease_s": lease,
        "takeover_after_kill9_s": [round(t, 2) for t in takeovers],
        "takeover_median_s": round(statistics.median(takeovers), 2),
        "takeover_max_s": round(max(takeovers), 2),
        "sigterm_idle_stop_s": round(stops[0], 2),
        "sigterm_exit_code": code,
    }


def bookkeeping(n: int = 300) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data")
        upgrade(settings)
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        start = time.perf_counter()
        for i in range(n):
            run_id = runs.claim(settings, "alerts:send", "send", t0 + timedelta(minutes=i), "bench")
            runs.finish(settings, run_id, "ok", started_at=datetime.now(UTC), counts={"sent": 0})
        per = (time.perf_counter() - start) / n
    return {"claim_and_record_ms": round(per * 1000, 2), "runs": n}


def spawn(n: int = 5) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data")
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p)
        times = []
        for i in range(n):
            start = time.perf_counter()
            child_process.run_function("scheduler_failover:noop", settings, {"n": i}, 60)
            times.append(time.perf_counter() - start)
    return {"child_job_roundtrip_median_s": round(statistics.median(times), 3), "children": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--lease", type=float, default=2.0)
    benchdb.add_argument(parser)
    args = parser.parse_args()
    out = {"benchmark": "scheduler_failover", "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
           "database": benchdb.backend(args.database_url)}
    for name, part in (("failover", lambda: failover(args.trials, args.lease)), ("bookkeeping", bookkeeping),
                       ("spawn", spawn)):
        with benchdb.database(args.database_url, name):
            out.update(part())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
