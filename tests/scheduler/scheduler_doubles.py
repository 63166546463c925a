"""Stand-ins for the parts a scheduled job calls; each appends what it did to a JSON-lines file.

They are named in ``monitor.scheduler.tasks.HOOKS`` by reference, so they work in the test
process, in a daemon subprocess and in a crawl's child process alike.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODULE = "scheduler_doubles"


def log_path(settings) -> Path:  # noqa: ANN001
    return Path(settings.data_dir).resolve() / "doubles.jsonl"


def record(settings, event: str, **data: Any) -> None:  # noqa: ANN001
    line = json.dumps({"event": event, "pid": os.getpid(), "t": time.time(), **data})
    log_path(settings).parent.mkdir(parents=True, exist_ok=True)
    with log_path(settings).open("a") as fh:
        fh.write(line + "\n")


def events(settings) -> list[dict[str, Any]]:  # noqa: ANN001
    path = log_path(settings)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Summary:
    def __init__(self, **counts: int) -> None:
        self.counts = counts

    def as_dict(self) -> dict[str, int]:
        return dict(self.counts)


def crawl_ok(settings, shop_id: str, timeout: float) -> dict[str, Any]:  # noqa: ANN001
    record(settings, "crawl", shop=shop_id, timeout=timeout)
    return {"crawl_status": "ok", "reviews_new": 2}


def crawl_hang(settings, shop_id: str, timeout: float) -> dict[str, Any]:  # noqa: ANN001
    # Ignores its timeout, like a spider stuck in a socket read.
    record(settings, "crawl_hang", shop=shop_id)
    time.sleep(3600)
    return {}


def crawl_until_released(settings, shop_id: str, timeout: float) -> dict[str, Any]:  # noqa: ANN001
    # A crawl that outlasts several leases: it ends when the test creates <data_dir>/release.
    record(settings, "crawl_wait_start", shop=shop_id)
    release = Path(settings.data_dir).resolve() / "release"
    deadline = time.monotonic() + 120
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    record(settings, "crawl_wait_done", shop=shop_id)
    return {"crawl_status": "ok", "reviews_new": 0}


def crawl_crash(settings, shop_id: str, timeout: float) -> dict[str, Any]:  # noqa: ANN001
    record(settings, "crawl_crash", shop=shop_id)
    raise RuntimeError("spider exploded on a malformed page")


def crawl_held(settings, shop_id: str, timeout: float) -> dict[str, Any]:  # noqa: ANN001
    from monitor.errors import HeldElsewhere

    record(settings, "crawl_held", shop=shop_id)
    raise HeldElsewhere(f"crawl:{shop_id} is held by host:7:other", "host:7:other")


def crawl_exits_75(settings, shop_id: str, timeout: float) -> dict[str, Any]:  # noqa: ANN001
    # The held-elsewhere exit status without its report: still a failure.
    os._exit(75)


def process(settings) -> dict[str, int]:  # noqa: ANN001
    record(settings, "process")
    return {"scored": 2, "cases_opened": 1, "alerts_queued": 0}


def send(settings) -> Summary:  # noqa: ANN001
    record(settings, "send")
    return Summary(sent=0)


def send_slow(settings) -> Summary:  # noqa: ANN001
    record(settings, "send_start")
    time.sleep(1.5)
    record(settings, "send_done")
    return Summary(sent=0)


def send_boom(settings) -> Summary:  # noqa: ANN001
    record(settings, "send_boom")
    raise RuntimeError("SMTP relay on fire")


def evaluate(session, settings) -> int:  # noqa: ANN001
    record(settings, "evaluate")
    return 0


def queue_report(session, settings, kind: str) -> int:  # noqa: ANN001
    record(settings, "report", kind=kind)
    return 1


def hooks(**overrides: str) -> dict[str, str]:
    """HOOKS pointing at the doubles; overrides name other doubles, e.g. crawl="crawl_hang"."""
    base = {
        "crawl": "crawl_ok",
        "process": "process",
        "send": "send",
        "evaluate": "evaluate",
        "queue_report": "queue_report",
    }
    base.update(overrides)
    return {k: f"{MODULE}:{v}" for k, v in base.items()}


def process_alerts_only(settings) -> dict[str, int]:  # noqa: ANN001
    """The post-crawl pipeline minus detection (whose first run trains models: its own tests cover it)."""
    from alerts.rules import evaluate as real_evaluate
    from monitor.db import session_scope

    record(settings, "process")
    with session_scope(settings) as session:
        return {"alerts_queued": real_evaluate(session, settings)}
