"""Child processes that die with their parent.

A crawl child runs in its own process group (``start_new_session``) so the parent can stop it
and anything it started with one ``killpg``; on Linux the child also asks the kernel for
SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), so a ``kill -9`` of ``shopmon
crawl`` or of the scheduler does not leave a crawler running on its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys

PARENT_ENV = "SHOPMON_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def child_env_marker() -> dict[str, str]:
    """Put in the child's environment so it can check its parent is still the one that started it."""
    return {PARENT_ENV: str(os.getpid())}


def die_with_parent() -> None:
    """Called first thing in a child: SIGKILL when the parent dies; exit now if it already has."""
    expected = os.environ.get(PARENT_ENV)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died between fork and prctl: then we were re-parented already.
    if expected and os.getppid() != int(expected):
        os._exit(70)


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after ``grace`` seconds."""
    if proc.poll() is not None:
        _kill_group(proc.pid, signal.SIGKILL)  # leftovers of an exited leader, if any
        return
    _kill_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def signal_name(returncode: int | None) -> str | None:
    """'SIGKILL' for a child killed by a signal (negative return code), else None."""
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"
