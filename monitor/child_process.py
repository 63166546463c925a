"""The one way shopmon runs work in a child process: a time limit, a clean stop, nothing left behind.

Used by a crawl (``monitor.crawl`` starts ``spiders.run``: a Twisted reactor cannot restart inside a
long-lived process, and a crash or hang must not take the caller down), by scheduled jobs and workers
(``run_function`` calls ``module:function(settings, **params)`` in a child, ``run_command`` runs a command
line). The embedded scheduler's crawl nests the two: the job's child is the parent of the crawl's child; a
queue worker runs the crawl's own part itself, so the spider is its direct child.

The child leads its own process group (``start_new_session``) so one ``killpg`` stops it and anything it
started; on Linux the child also asks the kernel for SIGKILL when its parent dies (``die_with_parent``),
so a ``kill -9`` of ``shopmon crawl``, the scheduler or a worker leaves nothing running on its own. Past
its limit a child gets SIGTERM (a crawl closes its spider and commits what it holds), then SIGKILL after
a grace time.

A long-lived process that starts many crawls forks them from a zygote instead (``monitor.zygote``);
those children go through the same ``supervise``, so the limit, the stop and ``kill_all`` are these.

Run as ``python -m monitor.child_process IN.json OUT.json`` it is the child's half of ``run_function``.
It writes OUT.json and exits 0 with the function's result, 1 with ``{"error": ...}`` when it raised, or
``EXIT_HELD_ELSEWHERE`` with ``{"held_elsewhere": ..., "held_by": ...}`` when it raised ``HeldElsewhere``
(the work is held by another process: nothing done, not a failure), which the parent raises again.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from monitor.config import Settings
from monitor.errors import HeldElsewhere, ShopmonError

PARENT_ENV = "SHOPMON_PARENT_PID"
STOP_GRACE_SECONDS = 15.0  # SIGTERM to SIGKILL: time for a crawl to close its spider and commit
TAIL_CHARS = 2000
_PR_SET_PDEATHSIG = 1
# sysexits.h EX_TEMPFAIL ("try again later"). With its report in OUT.json, so a child that exits
# 75 for another reason is still a failure.
EXIT_HELD_ELSEWHERE = 75


class JobTimeout(Exception):
    """The child ran past its limit and was stopped."""


class JobInterrupted(Exception):
    """The parent is stopping (``kill_all``) and killed the child."""


class ChildFailed(Exception):
    """The child could not start or exited with an error; the message says why."""


class Child(Protocol):
    """What ``supervise`` needs of a started child: ``subprocess.Popen``, or a zygote child
    (``monitor.zygote``) wrapped to look like one."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass(frozen=True)
class Exit:
    returncode: int
    timed_out: bool  # stopped at its limit
    interrupted: bool  # killed by kill_all


_active: dict[int, Child] = {}
_stopping: set[int] = set()
_lock = threading.Lock()


# The parent's half ---------------------------------------------------------------------------
def run_child(argv: list[str], *, limit: float, output: Path, env: dict[str, str] | None = None,
              grace: float | None = None) -> Exit:
    """Run ``argv`` (stdout and stderr to ``output``) until it exits or ``limit`` seconds pass.

    Whatever happens here (also KeyboardInterrupt or SystemExit), the child's group is gone on return.
    """
    env = {**(os.environ if env is None else env), PARENT_ENV: str(os.getpid())}
    with output.open("wb") as out:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, env=env)
        except OSError as exc:
            raise ChildFailed(f"cannot start {Path(argv[0]).name}: {exc.strerror or exc}") from None
    return supervise(proc, limit, STOP_GRACE_SECONDS if grace is None else grace)


def supervise(proc: Child, limit: float, grace: float) -> Exit:
    """Wait for a started child until it exits or ``limit`` seconds pass; its group is gone on return."""
    with _lock:
        _active[proc.pid] = proc
    try:
        timed_out = _wait(proc, limit, grace)
    finally:
        stop_group(proc, grace)
        with _lock:
            _active.pop(proc.pid, None)
            interrupted = proc.pid in _stopping
            _stopping.discard(proc.pid)
    return Exit(proc.returncode, timed_out, interrupted)


def _wait(proc: Child, limit: float, grace: float) -> bool:
    """Wait for the child; past the limit stop its group. True when it timed out."""
    try:
        proc.wait(timeout=limit)
        return False
    except subprocess.TimeoutExpired:
        pass
    stop_group(proc, grace)
    return True


def stop_group(proc: Child, grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after ``grace`` seconds."""
    if proc.poll() is not None:
        _kill_group(proc.pid, signal.SIGKILL)  # leftovers of an exited leader, if any
        return
    _signal_live(proc, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    _signal_live(proc, signal.SIGKILL)
    proc.wait()


def kill_all() -> int:
    """Kill every running child at once (a stop request outlived its grace time); returns how many."""
    with _lock:
        procs = list(_active.values())
        _stopping.update(p.pid for p in procs)
    for proc in procs:
        _signal_live(proc, signal.SIGKILL)
    return len(procs)


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_live(proc: Child, sig: int) -> None:
    """``sig`` to the child's group; to the child alone while it has none yet (a zygote child
    forked a moment ago, before its setsid). Its pid is not reused while we have not waited for it."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, sig)
    except PermissionError:
        pass


def signal_name(returncode: int | None) -> str | None:
    """'SIGKILL' for a child killed by a signal (negative return code), else None."""
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def tail(path: Path) -> str:
    """The last few non-empty lines of a child's output, to explain a failure."""
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[-5:])[-TAIL_CHARS:]


# Job folders: under <data_dir>/jobs, not /tmp, so the folders of a killed parent are found and removed.
_JOB_DIR = re.compile(r"^sched-(\d+)-")


def jobs_dir(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "jobs"


def _job_tmp(settings: Settings) -> tempfile.TemporaryDirectory:
    """A job folder named by our pid, so ``sweep_job_dirs`` can tell a dead parent's folders from live ones."""
    root = jobs_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f"sched-{os.getpid()}-", dir=root)


def sweep_job_dirs(settings: Settings) -> int:
    """Remove job folders left by processes of this machine that no longer exist."""
    root = jobs_dir(settings)
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


# Calling a function or a command in a child --------------------------------------------------
def run_function(ref: str, settings: Settings, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Call ``module:function(settings, **params)`` in a child; return its dict of counts.

    Raises JobTimeout past ``timeout`` seconds, JobInterrupted after ``kill_all``, ChildFailed with the
    child's error (or the end of its output) when it fails, and ``HeldElsewhere`` (message and holder as
    the child had them) when the function raised that.
    """
    with _job_tmp(settings) as tmp:
        job_in, job_out, output = Path(tmp) / "in.json", Path(tmp) / "out.json", Path(tmp) / "output.log"
        job_in.write_text(json.dumps({"ref": ref, "params": params, "settings": _settings_payload(settings)}))
        os.chmod(job_in, 0o600)
        argv = [sys.executable, "-m", "monitor.child_process", str(job_in), str(job_out)]
        done = run_child(argv, limit=timeout, output=output, env=_function_env(settings))
        try:
            _check(done, ref, timeout, output)
        except ChildFailed:
            held = _held_elsewhere(job_out) if done.returncode == EXIT_HELD_ELSEWHERE else None
            if held is not None:
                raise held from None
            raise ChildFailed(_child_error(job_out) or tail(output) or f"{ref} failed") from None
        try:
            result = json.loads(job_out.read_text())
        except (OSError, ValueError):
            raise ChildFailed(f"{ref} exited without a result: {tail(output)}") from None
    return result if isinstance(result, dict) else {"result": result}


def run_command(settings: Settings, argv: list[str], timeout: float) -> dict[str, Any]:
    """Run a command line with a time limit; its output is kept only to explain a failure."""
    with _job_tmp(settings) as tmp:
        output = Path(tmp) / "output.log"
        _check(run_child(argv, limit=timeout, output=output), Path(argv[0]).name, timeout, output)
    return {"exit_code": 0}


def _check(done: Exit, label: str, timeout: float, output: Path) -> None:
    if done.interrupted:
        raise JobInterrupted(f"{label} was killed because its parent is stopping")
    if done.timed_out:
        raise JobTimeout(f"{label} ran past {timeout:.0f} s and was killed")
    if done.returncode != 0:
        raise ChildFailed(tail(output) or f"{label} exited with status {done.returncode}")


def _settings_payload(settings: Settings) -> dict[str, Any]:
    # Secrets never go through a file: the SMTP password and the database URL (which may hold
    # one) reach the child through its environment. Defaults stay out so the child builds
    # them exactly as this process did.
    return settings.model_dump(mode="json", exclude={"smtp": {"password"}, "database_url": True},
                               exclude_defaults=True)


def _function_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    if settings.database_url:
        env["SHOPMON_DATABASE_URL"] = settings.database_url
    return env


def _child_error(job_out: Path) -> str | None:
    try:
        data = json.loads(job_out.read_text())
    except (OSError, ValueError):
        return None
    return data.get("error") if isinstance(data, dict) and "error" in data and len(data) == 1 else None


def _held_elsewhere(job_out: Path) -> HeldElsewhere | None:
    try:
        data = json.loads(job_out.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("held_elsewhere"), str):
        return None
    held_by = data.get("held_by")
    return HeldElsewhere(data["held_elsewhere"], held_by if isinstance(held_by, str) else None)


# The child's half ----------------------------------------------------------------------------
def die_with_parent() -> None:
    """Called first thing in a child: SIGKILL when the parent dies; exit now if it already has."""
    expected = os.environ.get(PARENT_ENV)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died between fork and prctl: then we were re-parented already.
    if expected and os.getppid() != int(expected):
        os._exit(70)


def _function_child(job_in: Path, job_out: Path) -> int:
    die_with_parent()
    job = json.loads(job_in.read_text())
    try:
        settings = Settings(**job["settings"])
        module, _, name = job["ref"].partition(":")
        result = getattr(importlib.import_module(module), name)(settings, **job["params"])
    except HeldElsewhere as exc:
        job_out.write_text(json.dumps({"held_elsewhere": str(exc)[:500], "held_by": exc.held_by}))
        return EXIT_HELD_ELSEWHERE
    except Exception as exc:  # noqa: BLE001  (the parent records it; the traceback goes to the output log)
        if not isinstance(exc, ShopmonError):
            traceback.print_exc()
        job_out.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}))
        return 1
    job_out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_function_child(Path(sys.argv[1]), Path(sys.argv[2])))
