"""Running one job in a child process with a hard time limit.

Crawls need this (Twisted's reactor cannot restart inside a long-lived process), and it is
also what makes a hung job killable: the child leads its own process group, so killing the
group takes any grandchild (the Scrapy process) with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from monitor.config import Settings

TAIL_CHARS = 2000


class JobTimeout(Exception):
    """The child ran past its limit and was killed."""


class JobInterrupted(Exception):
    """The scheduler stopped (SIGTERM) and killed the child after the stop timeout."""


class ChildFailed(Exception):
    """The child exited with an error; the message is the end of its output."""


_active: dict[int, subprocess.Popen] = {}
_stopping: set[int] = set()
_lock = threading.Lock()


def settings_payload(settings: Settings) -> dict[str, Any]:
    # Secrets never go through a file: the SMTP password and the database URL (which may hold
    # one) reach the child through its environment. Defaults stay out so the child builds
    # them exactly as this process did.
    return settings.model_dump(
        mode="json", exclude={"smtp": {"password"}, "database_url": True}, exclude_defaults=True
    )


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    if settings.database_url:
        env["SHOPMON_DATABASE_URL"] = settings.database_url
    return env


_JOB_DIR = re.compile(r"^sched-(\d+)-")


def _job_tmp(settings: Settings) -> tempfile.TemporaryDirectory:
    """A job folder under ``<data_dir>/jobs`` named by our pid, so ``sweep_job_dirs`` can tell
    the folders of a scheduler that was killed (and could not remove its own) from live ones."""
    root = settings.data_dir.resolve() / "jobs"
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f"sched-{os.getpid()}-", dir=root)


def sweep_job_dirs(settings: Settings) -> int:
    """Remove job folders left by scheduler processes of this machine that no longer exist."""
    root = settings.data_dir.resolve() / "jobs"
    removed = 0
    for path in root.glob("sched-*") if root.is_dir() else ():
        match = _JOB_DIR.match(path.name)
        if match is None or _pid_alive(int(match.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        pass
    return True


def run_isolated(ref: str, settings: Settings, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Call ``module:function(settings, **params)`` in a child; return its dict of counts."""
    with _job_tmp(settings) as tmp:
        job_in, job_out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        job_in.write_text(json.dumps({"ref": ref, "params": params, "settings": settings_payload(settings)}))
        os.chmod(job_in, 0o600)
        argv = [sys.executable, "-m", "monitor.scheduler.child", str(job_in), str(job_out), str(os.getpid())]
        output = Path(tmp) / "output.log"
        try:
            _spawn(argv, timeout, ref, output, env=child_env(settings))
        except ChildFailed:
            raise ChildFailed(_child_error(job_out) or _tail(output) or f"{ref} failed") from None
        try:
            result = json.loads(job_out.read_text())
        except (OSError, ValueError):
            raise ChildFailed(f"{ref} exited without a result: {_tail(output)}") from None
    return result if isinstance(result, dict) else {"result": result}


def _child_error(job_out: Path) -> str | None:
    try:
        data = json.loads(job_out.read_text())
    except (OSError, ValueError):
        return None
    return data.get("error") if isinstance(data, dict) and "error" in data and len(data) == 1 else None


def run_command(settings: Settings, argv: list[str], timeout: float) -> dict[str, Any]:
    """Run a command line with a time limit; its output is kept only to explain a failure."""
    with _job_tmp(settings) as tmp:
        _spawn(argv, timeout, Path(argv[0]).name, Path(tmp) / "output.log")
    return {"exit_code": 0}


def _spawn(argv: list[str], timeout: float, label: str, output: Path, env: dict[str, str] | None = None) -> None:
    with output.open("wb") as out:
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
            )
        except OSError as exc:
            raise ChildFailed(f"cannot start {label}: {exc.strerror or exc}") from None
    with _lock:
        _active[proc.pid] = proc
    try:
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise JobTimeout(f"{label} ran past {timeout:.0f} s and was killed") from None
    finally:
        with _lock:
            _active.pop(proc.pid, None)
            interrupted = proc.pid in _stopping
            _stopping.discard(proc.pid)
    if interrupted:
        raise JobInterrupted(f"{label} was killed because the scheduler is stopping")
    if code != 0:
        raise ChildFailed(_tail(output) or f"{label} exited with status {code}")


def kill_all() -> int:
    """Kill every running child (used when a stop request outlives its grace time)."""
    with _lock:
        procs = list(_active.values())
        _stopping.update(p.pid for p in procs)
    for proc in procs:
        _kill_group(proc)
    return len(procs)


def running_children() -> int:
    with _lock:
        return len(_active)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[-5:])[-TAIL_CHARS:]
