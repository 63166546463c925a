"""A `shopmon worker` stopped with SIGTERM while it runs a job kills the job's subprocess group and
puts the job back on the queue: a second worker runs it and its JobRun row is recorded once.

The job is a scheduled command (the same subprocess path as a crawl, ``monitor.child_process``)
whose first attempt holds until it is killed, with a grandchild in its process group; the
second attempt exits at once. SQLite in the test's folder; the local Redis under a key prefix of
its own (skipped when Redis does not answer on 127.0.0.1:6379).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.child_process import stop_group
from monitor.config import load_settings
from monitor.db import upgrade
from monitor.scheduler import runs

pytestmark = pytest.mark.slow
WAIT = 300.0  # generous: an upper bound for a loaded machine, not a speed target
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# First attempt: record its pid and a grandchild's, then hold. Later attempts: record and exit 0.
HOLD = """
import os, subprocess, sys, time
from pathlib import Path
attempts = Path(sys.argv[1])
first = not attempts.exists()
if first:
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    Path(sys.argv[2]).write_text(str(grandchild.pid))
with attempts.open("a") as f:
    f.write(f"{os.getpid()}\\n")
if first:
    time.sleep(3600)
"""


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "monitor", "worker", "--threads", "1", "--stop-timeout", "1"],
                            cwd=tmp_path, stdout=(tmp_path / f"{name}.log").open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _row(settings, run_id: int) -> dict:  # noqa: ANN001
    return next(r for r in runs.history(settings, job_id="command:hold") if r["id"] == run_id)


def test_a_stopped_workers_job_is_killed_requeued_and_finished_once_by_another(
        redis_url: str, redis_prefix: str, wait_for, gone, tmp_path: Path,  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.workers.queue import open_queue

    attempts, grandchild_file = tmp_path / "attempts.txt", tmp_path / "grandchild.txt"
    script = tmp_path / "hold.py"
    script.write_text(HOLD)
    command = {"id": "hold", "cron": "0 3 * * *", "argv": [sys.executable, str(script), str(attempts),
                                                          str(grandchild_file)]}
    monkeypatch.setenv("SHOPMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOPMON_WORKERS", json.dumps({"redis_url": redis_url, "namespace": redis_prefix,
                                                      "lease_seconds": 5}))
    monkeypatch.setenv("SHOPMON_SCHEDULER", json.dumps({"commands": [command]}))
    settings = load_settings()
    upgrade(settings)
    run_id = runs.claim(settings, "command:hold", "command", T0, "sched:test", status="queued")
    queue = open_queue(settings)
    workers: list[subprocess.Popen] = []
    try:
        queue.enqueue("command", {"command_id": "hold"}, run_id=run_id, job_id="command:hold", scheduled_for=T0)
        first = _start_worker(tmp_path, "first")
        workers.append(first)
        wait_for("the first attempt to start", lambda: len(_pids(attempts)) == 1 and grandchild_file.exists(), WAIT)
        [child] = _pids(attempts)
        grandchild = int(grandchild_file.read_text())
        row = _row(settings, run_id)
        assert row["status"] == "running" and f":{first.pid}:" in row["holder"]

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=WAIT) == 0, (tmp_path / "first.log").read_text()
        # The job's process group was killed, and its row waits for another worker.
        assert gone(child) and gone(grandchild)
        assert _row(settings, run_id)["status"] == "queued"
        log = (tmp_path / "first.log").read_text()
        assert "killed 1 job subprocess(es)" in log

        second = _start_worker(tmp_path, "second")
        workers.append(second)
        wait_for("the second worker to finish the job", lambda: _row(settings, run_id)["status"] not in ("queued", "running"), WAIT)
        wait_for("the queue to empty", lambda: queue.depth() == {"waiting": 0, "taken": 0}, WAIT)
    finally:
        queue.close()
        for proc in workers:
            if proc.poll() is None:
                stop_group(proc, 120)
        # Only when a worker failed to: the hold script's group (it leads it, grandchild included).
        leader = _pids(attempts)[:1]
        left = [p for p in leader + _pids(grandchild_file) if not gone(p)]
        if leader and left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(leader[0], signal.SIGKILL)
    assert second.returncode == 0
    [row] = runs.history(settings, job_id="command:hold")  # recorded once
    assert (row["id"], row["status"], row["counts"]) == (run_id, "ok", {"exit_code": 0})
    assert f":{second.pid}:" in row["holder"]
    assert len(_pids(attempts)) == 2  # killed once, run once more: not a third time
