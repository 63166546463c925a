"""The daemon as real processes: standby takeover after kill -9, SIGTERM bounds, SIGHUP reload."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

import scheduler_doubles
from models.crawl import CrawlRun
from models.scheduler import JobRun
from monitor.config import load_settings
from monitor.db import get_engine, upgrade
from monitor.scheduler.lease import current_lease
from monitor.scheduler.status import stored_jobs

DRIVER = Path(__file__).resolve().parent / "scheduler_driver.py"
LEASE = 2.0
pytestmark = pytest.mark.slow


def write_config(path: Path, data_dir: Path, *, shops: list[str], crawl_timeout_minutes: float = 10) -> None:
    lines = [f'data_dir = "{data_dir}"', ""]
    for shop in shops:
        lines += [
            "[[shops]]",
            f'id = "{shop}"',
            'platform = "schemaorg"',
            f'url = "http://127.0.0.1:9/{shop}"',
            "interval_minutes = 60",
            "jitter_seconds = 0",
            "",
        ]
    lines += [
        "[crawl]",
        f"timeout_minutes = {crawl_timeout_minutes}",
        "[alerts.recipients]",
        'serious_case = ["owner@example.com"]',
        "[scheduler]",
        "send_every_seconds = 1",
        "max_workers = 1",  # one crawl thread: alert jobs must not queue behind it
    ]
    path.write_text("\n".join(lines) + "\n")


class Daemons:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.config = tmp / "shopmon.toml"
        self.data = tmp / "data"
        self.procs: list[subprocess.Popen] = []

    def settings(self):  # noqa: ANN201
        return load_settings(self.config)

    def start(self, hooks: dict[str, str], *args: str) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMON_")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(DRIVER.parent), os.environ.get("PYTHONPATH")) if p)
        log = (self.tmp / f"daemon{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), json.dumps(hooks), "-c", str(self.config), "schedule", "--lease-seconds", str(LEASE), *args],
            cwd=self.tmp,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log(self, proc: subprocess.Popen) -> str:
        return (self.tmp / f"daemon{self.procs.index(proc)}.log").read_text()

    def holder_pid(self) -> int | None:
        info = current_lease(get_engine(self.settings()))
        return int(info.holder.split(":")[1]) if info and info.active() else None

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# Generous bounds on waiting for events: a loaded machine starts a daemon slowly; what the tests
# assert about timing is measured from the events themselves.
WAIT = 120


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def daemons(tmp_path: Path):  # noqa: ANN201
    d = Daemons(tmp_path)
    yield d
    d.stop_all()


def events(d: Daemons, name: str) -> list[dict[str, Any]]:
    return [e for e in scheduler_doubles.events(d.settings()) if e["event"] == name]


def job_runs(d: Daemons) -> list[JobRun]:
    with Session(get_engine(d.settings())) as s:
        return list(s.exec(select(JobRun).order_by(JobRun.id)).all())


def test_standby_takes_over_after_kill_9_and_no_job_runs_twice(daemons: Daemons) -> None:
    write_config(daemons.config, daemons.data, shops=["alpha"])
    upgrade(daemons.settings())
    hooks = scheduler_doubles.hooks(crawl="crawl_hang")
    a = daemons.start(hooks)
    wait_for(lambda: daemons.holder_pid() == a.pid, WAIT, "the first scheduler to become active")
    b = daemons.start(hooks)
    wait_for(lambda: "standing by" in daemons.log(b), WAIT, "the second scheduler to stand by")
    hung = wait_for(lambda: events(daemons, "crawl_hang"), WAIT, "the crawl to start")
    # Alert delivery keeps going while the crawl hangs.
    wait_for(lambda: len([e for e in events(daemons, "send") if e["t"] > hung[0]["t"]]) >= 2, WAIT, "sends during the crawl")
    # While both live, only the active one runs jobs.
    assert {e["pid"] for e in events(daemons, "send")} == {a.pid}

    a.kill()  # SIGKILL: no cleanup, no lease release
    killed_at = time.time()
    a.wait()
    wait_for(lambda: daemons.holder_pid() == b.pid, 3 * LEASE + 10, "the standby to take over")
    wait_for(lambda: [e for e in events(daemons, "send") if e["pid"] == b.pid], WAIT, "the standby's first run")
    # Takeover within the lease time, plus the standby's poll interval and scheduling slack.
    active_line = next(line for line in daemons.log(b).splitlines() if re.search(r"INFO scheduler \S+ is active$", line))
    took_over_at = datetime.strptime(active_line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    assert 0 < took_over_at - killed_at <= LEASE + 1.5
    # The hung crawl of the dead scheduler died with it instead of running on as an orphan.
    wait_for(lambda: not _alive(hung[0]["pid"]), 10, "the orphaned crawl to die")
    wait_for(lambda: len([e for e in events(daemons, "send") if e["pid"] == b.pid]) >= 2, WAIT, "more standby runs")
    b.send_signal(signal.SIGTERM)
    assert b.wait(timeout=WAIT) == 0

    sends = events(daemons, "send")
    a_times = [e["t"] for e in sends if e["pid"] == a.pid]
    b_times = [e["t"] for e in sends if e["pid"] == b.pid]
    assert a_times and b_times and max(a_times) < killed_at < min(b_times)
    runs = job_runs(daemons)
    send_runs = [r for r in runs if r.job_id == "alerts:send" and r.status == "ok"]
    # Every run is one claimed occurrence, and every claimed occurrence ran once.
    assert len(send_runs) == len(sends)
    assert len({r.scheduled_for for r in send_runs}) == len(send_runs)
    crawl = [r for r in runs if r.job_id == "crawl:alpha"]
    assert len(crawl) == 1 and crawl[0].status == "interrupted"  # marked by the new leader
    assert "lease expired" in crawl[0].error


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_sigterm_waits_for_the_running_job_then_exits(daemons: Daemons) -> None:
    write_config(daemons.config, daemons.data, shops=[])
    upgrade(daemons.settings())
    proc = daemons.start(scheduler_doubles.hooks(send="send_slow"), "--stop-timeout", "10")
    wait_for(lambda: events(daemons, "send_start"), WAIT, "the slow job to start")
    proc.send_signal(signal.SIGTERM)
    asked = time.monotonic()
    assert proc.wait(timeout=WAIT) == 0
    took = time.monotonic() - asked
    assert took < 10  # the job needed 1.5 s, well inside the stop timeout
    assert len(events(daemons, "send_done")) == len(events(daemons, "send_start"))
    sends = [r.status for r in job_runs(daemons) if r.job_id == "alerts:send"]
    assert sends == ["ok"] * len(events(daemons, "send_start"))
    assert current_lease(get_engine(daemons.settings())) is None  # released, not left to expire


def test_sigterm_kills_a_hung_crawl_after_the_stop_timeout(daemons: Daemons) -> None:
    write_config(daemons.config, daemons.data, shops=["alpha"])
    upgrade(daemons.settings())
    proc = daemons.start(scheduler_doubles.hooks(crawl="crawl_hang"), "--stop-timeout", "1")
    hung = wait_for(lambda: events(daemons, "crawl_hang"), WAIT, "the crawl to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert not _alive(hung[0]["pid"])
    crawl = [r for r in job_runs(daemons) if r.job_id == "crawl:alpha"]
    assert [(r.status, "stopping" in (r.error or "")) for r in crawl] == [("interrupted", True)]
    with Session(get_engine(daemons.settings())) as s:
        runs = s.exec(select(CrawlRun)).all()
    assert [(r.shop_config_id, r.status) for r in runs] == [("alpha", "failed")]
    assert "killed" in daemons.log(proc)


def test_sigterm_keeps_the_lease_until_the_running_crawl_has_ended(daemons: Daemons) -> None:
    """Issue 12 item 4: a stopping leader stopped renewing while its crawl finished, and a
    standby became active and ran the same jobs meanwhile."""
    write_config(daemons.config, daemons.data, shops=["alpha"])
    upgrade(daemons.settings())
    hooks = scheduler_doubles.hooks(crawl="crawl_until_released")
    a = daemons.start(hooks, "--stop-timeout", "120")
    wait_for(lambda: events(daemons, "crawl_wait_start"), WAIT, "the long crawl to start")
    b = daemons.start(hooks)
    wait_for(lambda: "standing by" in daemons.log(b), WAIT, "the second scheduler to stand by")
    a.send_signal(signal.SIGTERM)
    wait_for(lambda: "stopping after the running jobs" in daemons.log(a), WAIT, "the leader to begin stopping")
    # Three lease lengths: long enough for a standby to take over from a leader that stopped renewing.
    until = time.monotonic() + 3 * LEASE
    while time.monotonic() < until:
        assert daemons.holder_pid() == a.pid, "the standby became active while the leader's crawl ran"
        time.sleep(0.1)
    (daemons.data / "release").write_text("go")
    assert a.wait(timeout=30) == 0
    wait_for(lambda: daemons.holder_pid() == b.pid, WAIT, "the standby to take over once the leader is gone")
    done = events(daemons, "crawl_wait_done")[0]
    assert done["pid"] != b.pid
    assert all(e["t"] >= done["t"] for e in scheduler_doubles.events(daemons.settings()) if e["pid"] == b.pid)


def test_sighup_adds_a_shop_and_keeps_existing_job_state(daemons: Daemons) -> None:
    write_config(daemons.config, daemons.data, shops=["alpha"])
    upgrade(daemons.settings())
    proc = daemons.start(scheduler_doubles.hooks())
    wait_for(lambda: events(daemons, "process"), WAIT, "alpha's first crawl and detection")
    before = wait_for(lambda: stored_jobs(daemons.settings()), 10, "the job store")
    assert "crawl:beta" not in before
    write_config(daemons.config, daemons.data, shops=["alpha", "beta"])
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: [e for e in events(daemons, "crawl") if e["shop"] == "beta"], WAIT, "beta's first crawl")
    after = stored_jobs(daemons.settings())
    assert after["crawl:alpha"] == before["crawl:alpha"]  # not rescheduled by the reload
    assert "crawl:beta" in after
    # A broken config on reload is reported and the running one kept.
    daemons.config.write_text("this is = = not toml")
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in daemons.log(proc), 10, "the reload error")
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=WAIT) == 0
