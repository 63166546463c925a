"""Scheduler log output: one line per job run, as text or as JSON lines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

FIELDS = ("job", "task", "scheduled_for", "status", "duration_s", "counts", "error")


class JSONLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(*, json_lines: bool = False, stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send scheduler logs (and APScheduler's warnings) to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JSONLineFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    for name, lvl in (("shopmon.scheduler", level), ("apscheduler", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not getattr(h, "_shopmon_scheduler", False)]
        handler._shopmon_scheduler = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(lvl)
        logger.propagate = False
    return handler
