"""Entry point of a job's child process: ``python -m monitor.scheduler.child IN.json OUT.json PARENT_PID``."""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """If the scheduler is killed (even kill -9), take this process group down with it.

    Otherwise an orphaned crawl would keep running while the standby starts the next one.
    """

    def _kill_group(_signum, _frame) -> None:  # noqa: ANN001
        os.killpg(os.getpgrp(), signal.SIGKILL)

    signal.signal(signal.SIGTERM, _kill_group)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


def resolve(ref: str):  # noqa: ANN201
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str]) -> int:
    _die_with_parent()
    if len(argv) > 2 and os.getppid() != int(argv[2]):  # the parent died before the signal was armed
        return 1
    job_in, job_out = Path(argv[0]), Path(argv[1])
    job = json.loads(job_in.read_text())

    from monitor.config import Settings
    from monitor.errors import ShopmonError

    try:
        settings = Settings(**job["settings"])
        result = resolve(job["ref"])(settings, **job["params"])
    except Exception as exc:  # noqa: BLE001  (the parent records it; the traceback goes to the output log)
        if not isinstance(exc, ShopmonError):
            traceback.print_exc()
        job_out.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}))
        return 1
    job_out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
