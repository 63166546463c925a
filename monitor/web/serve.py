"""Running the board: one uvicorn process, or several worker processes sharing one socket.

One Python process uses one core for the pages' Python work, so a 50-person team queued behind
it; several workers use every core. They share nothing but the database: sessions, CSRF tokens
and failed sign-ins are rows, and the cookie key is the same in every worker.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from monitor.config import Settings, load_settings
from monitor.db import dispose_engines, is_memory_sqlite
from monitor.web.app import create_app

log = logging.getLogger(__name__)
WORKER_APP = "monitor.web.serve:worker_app"


def worker_count(settings: Settings, requested: int | None = None) -> int:
    """Worker processes for this database: an in-memory SQLite database exists once per process,
    so it gets one; a SQLite file (WAL: readers never wait, one writer at a time, busy_timeout
    for the rest) and PostgreSQL get what was asked (--workers, else web.workers)."""
    return 1 if is_memory_sqlite(settings.db_url) else requested or settings.web.workers


def worker_app() -> FastAPI:
    """One worker's app (uvicorn imports this in each process): its settings are read the way the
    parent's were, from SHOPMON_CONFIG and the environment the parent passed on."""
    return create_app(load_settings())


def serve(settings: Settings, *, config_path: Path | None, host: str, port: int, workers: int | None) -> None:
    count = worker_count(settings, workers)
    options = {"host": host, "port": port, "log_level": "warning", "proxy_headers": True}
    if count == 1:
        uvicorn.run(create_app(settings), **options)
        return
    if config_path is not None:
        os.environ["SHOPMON_CONFIG"] = str(config_path.resolve())
    if settings.web.secret_key is None:
        # Every worker must check the cookies the others signed; a key per process would sign
        # people out whenever a request reached another worker.
        log.warning("web.secret_key is not set (SHOPMON_WEB__SECRET_KEY): using a random key for "
                    "this run's workers, so everyone signs in again after a restart")
        os.environ["SHOPMON_WEB__SECRET_KEY"] = secrets.token_hex(32)
    dispose_engines()  # the workers open their own connections
    uvicorn.run(WORKER_APP, factory=True, workers=count, **options)
