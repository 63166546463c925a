"""Crawl children forked from a zygote (``zygote.start_zygote``, multiprocessing's fork server):
they get what a ``run_child`` subprocess gets (their own process group, the output file, the
environment they were given, the exit code, the time limit, ``kill_all``), and the modules a
worker preloads for crawls leave the Twisted reactor uninstalled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from monitor import child_process
from monitor.crawl import SPIDER_PRELOAD
from monitor.zygote import run_module, start_zygote

PROBE = """
import os, sys, time
if __name__ == "__main__":
    print(os.getpid(), flush=True)
    print(f"pgid_is_pid={os.getpgrp() == os.getpid()} given={os.environ.get('PROBE_GIVEN')} "
          f"kept_out={os.environ.get('PROBE_SECRET')} argv={sys.argv[1:]}", flush=True)
    if sys.argv[1] == "hang":
        time.sleep(3600)
    sys.exit(int(sys.argv[1]))
"""


def test_the_spider_preload_does_not_install_the_reactor() -> None:
    # An installed (let alone started) reactor in the zygote would be shared by every crawl child.
    code = ("import sys\n" + "".join(f"import {m}\n" for m in SPIDER_PRELOAD)
            + "print(sorted(m for m in sys.modules if m == 'twisted.internet.reactor'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def zygote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "zygote_probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("monitor.zygote._zygote_preload", None)  # this process forks from a zygote only here
    start_zygote(["json"])
    return tmp_path


def test_a_zygote_child_gets_what_a_subprocess_gets(zygote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_SECRET", "not for the child")
    out = zygote / "probe.log"
    done = run_module("zygote_probe", ["3"], limit=60, output=out, env={"PROBE_GIVEN": "yes"})
    assert (done.returncode, done.timed_out, done.interrupted) == (3, False, False)
    assert out.read_text().splitlines()[1] == "pgid_is_pid=True given=yes kept_out=None argv=['3']"


def test_a_workers_threads_fork_zygote_children_at_the_same_time(zygote: Path) -> None:
    # shopmon worker runs workers.threads (2) jobs at once, each thread starting its own crawl child.
    codes: dict[int, int | None] = {}

    def run(code: int) -> None:
        codes[code] = run_module("zygote_probe", [str(code)], limit=60, output=zygote / f"{code}.log",
                                               env={}).returncode

    threads = [threading.Thread(target=run, args=(code,)) for code in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert codes == {0: 0, 1: 1, 2: 2, 3: 3}
    assert [(zygote / f"{code}.log").read_text().splitlines()[1].endswith(f"argv=['{code}']") for code in range(4)] == [True] * 4


def test_a_zygote_child_is_stopped_at_its_limit_and_by_kill_all(zygote: Path, wait_for) -> None:  # noqa: ANN001
    done = run_module("zygote_probe", ["hang"], limit=1, output=zygote / "a.log", env={}, grace=1)
    assert done.timed_out and done.returncode < 0

    result: list[child_process.Exit] = []
    runner = threading.Thread(target=lambda: result.append(
        run_module("zygote_probe", ["hang"], limit=600, output=zygote / "b.log", env={})))
    runner.start()
    wait_for("the child to start", lambda: (zygote / "b.log").exists() and "argv" in (zygote / "b.log").read_text(), 60)
    assert child_process.kill_all() == 1
    runner.join(60)
    assert result and result[0].interrupted and not result[0].timed_out


OWNER = """
import os, sys, threading, time
from pathlib import Path
from monitor.zygote import run_module, start_zygote

if __name__ == "__main__":
    start_zygote(["json"])
    threading.Thread(target=run_module, args=("zygote_probe", ["hang"]), daemon=True,
                     kwargs={"limit": 600, "output": Path(sys.argv[1]), "env": {}}).start()
    time.sleep(3600)
"""



def test_a_zygote_child_dies_with_the_process_that_asked_for_it(tmp_path: Path, wait_for, gone) -> None:  # noqa: ANN001
    # kill -9 of a worker must not leave its crawl running, though the crawl's parent is the fork server.
    (tmp_path / "zygote_probe.py").write_text(PROBE)
    (tmp_path / "owner.py").write_text(OWNER)
    log = tmp_path / "child.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    owner = subprocess.Popen([sys.executable, str(tmp_path / "owner.py"), str(log)], env=env, start_new_session=True)
    try:
        child = int(wait_for("the child to start", lambda: log.exists() and "argv" in log.read_text() and
                             log.read_text().split()[0], 120))
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        wait_for("the child to die with its owner", lambda: gone(child), 30)
    finally:
        child_process.stop_group(owner, 1)
