"""Leader election over the shared database: one lease row, renewed by a heartbeat.

Works the same on SQLite and PostgreSQL because taking the lease is a single conditional
UPDATE (holder is me, or the lease has expired) or an INSERT guarded by the primary key;
the database decides who wins, not the clocks of the contenders.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models.base import utcnow
from models.scheduler import SchedulerLease
from monitor.config import Settings
from monitor.db import get_engine
from monitor.errors import HeldElsewhere

log = logging.getLogger("shopmon.scheduler")
LEASE_NAME = "scheduler"


def new_holder_id() -> str:
    """Readable and unique: host and pid for people, a random tail so a reused pid never collides."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseInfo:
    holder: str
    expires_at: datetime
    heartbeat_at: datetime

    def active(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or utcnow())


class Lease:
    """The right to run jobs. ``held()`` is checked before every job as a fence."""

    def __init__(self, settings: Settings, seconds: float, holder: str | None = None, name: str = LEASE_NAME):
        self.engine = get_engine(settings)
        self.seconds = seconds
        self.holder = holder or new_holder_id()
        self.name = name
        self._valid_until: datetime | None = None

    def held(self, now: datetime | None = None) -> bool:
        """True while our last successful renewal has not run out (by our own clock)."""
        return self._valid_until is not None and (now or utcnow()) < self._valid_until

    def acquire(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; False when another live scheduler holds it.

        A database error is reported as "not acquired" so a flaky connection makes the
        scheduler step back instead of crashing; it retries on the next heartbeat.
        """
        now = now or utcnow()
        expires = now + timedelta(seconds=self.seconds)
        table = SchedulerLease.__table__
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    update(table)
                    .where(table.c.name == self.name)
                    .where(or_(table.c.holder == self.holder, table.c.expires_at <= now))
                    .values(holder=self.holder, expires_at=expires, heartbeat_at=now)
                )
                won = result.rowcount == 1
            if not won:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(
                            table.insert().values(
                                name=self.name, holder=self.holder, expires_at=expires, heartbeat_at=now
                            )
                        )
                    won = True
                except IntegrityError:
                    won = False
        except SQLAlchemyError as exc:
            log.warning("lease: cannot reach the database (%s); not acting until it answers", _first_line(exc))
            return False
        if won:
            self._valid_until = expires
        return won

    def release(self) -> None:
        """Give the lease up at once so a standby does not wait for expiry."""
        table = SchedulerLease.__table__
        self._valid_until = None
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(table).where(table.c.name == self.name, table.c.holder == self.holder))
        except SQLAlchemyError as exc:
            log.warning("lease: could not release (%s); it expires on its own", _first_line(exc))

    def current(self) -> LeaseInfo | None:
        return current_lease(self.engine, self.name)

    @contextmanager
    def kept(self) -> Iterator[None]:
        """Renew the lease in a background thread for as long as the block runs (``--once``)."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.seconds / 3):
                self.acquire()

        thread = threading.Thread(target=beat, name="shopmon-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


class Busy(HeldElsewhere):
    """Someone else holds the lock (see ``exclusive``)."""

    def __init__(self, message: str, holder: LeaseInfo | None) -> None:
        super().__init__(message, holder.holder if holder else None)
        self.holder = holder


@contextmanager
def exclusive(settings: Settings, name: str, seconds: float, *, holder: str | None = None) -> Iterator[Lease]:
    """A lock across processes and machines: a lease row named ``name``, renewed while the block runs.

    Raises ``Busy`` at once when another live holder has it. If the holder dies (kill -9,
    power loss) the row simply expires ``seconds`` after its last renewal. Used for one crawl
    per shop (``crawl:<shop id>``); any other "one at a time" job can use it the same way.
    """
    lease = Lease(settings, seconds, holder, name)
    if not lease.acquire():
        info = current_lease(lease.engine, name)
        who = f"{info.holder} until {info.expires_at:%Y-%m-%d %H:%M:%S} UTC" if info else "another process"
        raise Busy(f"{name} is held by {who}", info)
    try:
        with lease.kept():
            yield lease
    finally:
        lease.release()


def is_held(settings: Settings, name: str, now: datetime | None = None) -> bool:
    info = current_lease(get_engine(settings), name)
    return info is not None and info.active(now)


def current_lease(engine, name: str = LEASE_NAME) -> LeaseInfo | None:  # noqa: ANN001
    table = SchedulerLease.__table__
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.name == name)).first()
    if row is None:
        return None
    return LeaseInfo(holder=row.holder, expires_at=row.expires_at, heartbeat_at=row.heartbeat_at)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
