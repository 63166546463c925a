"""The crawl zygote: children forked from a process that has already imported what they need.

multiprocessing's fork server, started once by a long-lived process that starts many children of
the same modules (a queue worker's crawls, ``start_zygote``): each child then skips the interpreter
start and the preloaded imports. ``run_module`` starts ``python -m module`` from it when there is
one, as a plain ``child_process.run_child`` otherwise, and either way hands the child to
``child_process.supervise``: one time limit, stop and ``kill_all`` for every child. What is
particular to a forked child lives here: its own process group and output (what a Popen child gets
from ``start_new_session`` and its file handles), a pidfd watch on the process that asked for it
(its parent is the fork server, so ``die_with_parent`` would not do), and its exit status read
under a lock.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import runpy
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from monitor.child_process import PARENT_ENV, STOP_GRACE_SECONDS, ChildFailed, Exit, run_child, supervise

# multiprocessing's fork server: one process started once that imports the modules a child needs,
# then forks a child per run. It never runs them: a Twisted reactor must not have run (or even
# be installed) before the fork, so the preload list names modules that only define things.
_ZYGOTE = multiprocessing.get_context("forkserver")
_zygote_preload: tuple[str, ...] | None = None


def start_zygote(preload: Sequence[str]) -> None:
    """From now on ``run_module`` forks its children from a process that has imported ``preload``.

    For a long-lived process that starts many children of the same modules (a queue worker's
    crawls): each child then skips the interpreter start and those imports. Linux only (where
    ``os.pidfd_open`` is): elsewhere children keep starting as ``python -m``."""
    global _zygote_preload
    if not hasattr(os, "pidfd_open"):
        return
    _ZYGOTE.set_forkserver_preload(list(preload))
    multiprocessing.forkserver.ensure_running()
    _zygote_preload = tuple(preload)


# A zygote child's exit status is read once from its pipe to the fork server, by whichever thread
# polls first; ``Process.start`` polls every earlier child too. Two threads reading at once (a
# worker runs several jobs) could both see it ready, and the second would find the pipe empty
# and record 255; so every read goes through this lock, and waiting is done without reading.
_zygote_status = threading.Lock()


class _Forked:
    """A child forked by the zygote, with the part of ``subprocess.Popen`` that ``supervise`` uses."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self.process = process
        self.pid = process.pid

    @property
    def returncode(self) -> int | None:
        return self.poll()  # negative for a signal, as Popen's

    def poll(self) -> int | None:
        with _zygote_status:
            return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(self.process.name, timeout or 0)
            multiprocessing.connection.wait([self.process.sentinel], timeout=left)
        return code


def _zygote_child(module: str, args: list[str], output: str, env: dict[str, str], owner: int) -> None:
    """In the forked child: what ``child_process.run_child`` gives a Popen child, then
    ``python -m module args``."""
    os.setsid()  # its own process group, as start_new_session
    _die_with(owner)
    with open(output, "wb") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    # The fork server's environment is this worker's at the time it started: the child gets the
    # one it was given instead (SHOPMON_* secrets left out by the caller).
    os.environ.clear()
    os.environ.update(env)
    os.environ[PARENT_ENV] = str(os.getppid())  # the fork server, for die_with_parent
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def _die_with(owner: int) -> None:
    """SIGKILL this child's process group when ``owner`` (the process that asked for it) ends.

    ``die_with_parent`` is not enough here: the parent is the fork server, which outlives its
    owner while any child it forked is alive (each child holds the fork server's liveness pipe)."""
    try:
        handle = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(70)  # the owner is already gone

    def watch() -> None:
        select.select([handle], [], [])  # readable once the owner has exited
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="shopmon-die-with-owner", daemon=True).start()


def run_module(module: str, args: list[str], *, limit: float, output: Path, env: dict[str, str] | None = None,
               grace: float | None = None) -> Exit:
    """``python -m module args`` as ``child_process.run_child`` runs it; forked from the zygote when
    this process started one (``start_zygote``), which skips the interpreter start and the imports it
    preloaded."""
    if _zygote_preload is None:
        return run_child([sys.executable, "-m", module, *args], limit=limit, output=output, env=env, grace=grace)
    env = dict(os.environ if env is None else env)
    process = _ZYGOTE.Process(target=_zygote_child, args=(module, list(args), str(output), env, os.getpid()),
                              name=f"shopmon-{module}")
    try:
        with _zygote_status:
            process.start()
    except OSError as exc:
        raise ChildFailed(f"cannot start {module} from the zygote: {exc.strerror or exc}") from None
    return supervise(_Forked(process), limit, STOP_GRACE_SECONDS if grace is None else grace)
