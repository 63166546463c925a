"""Alert delivery state in the database: claims and their lease, Message-IDs, outcomes.

Claiming is a single ``UPDATE alert SET status='sending', claimed_by=<token> WHERE
status='pending' AND claimed_by IS NULL ...``. On PostgreSQL a second sender's UPDATE
waits for the first one's row locks and then re-checks the WHERE clause, and SQLite runs
one writer at a time, so on both engines each row is claimed by exactly one sender.

A claim is a lease: the sender renews ``claimed_at`` before every email, so rows left in
``sending`` by a sender that was killed are taken back ``alerts.claim_lease_seconds`` after
its last renewal, and a live sender never loses its rows. Each alert's Message-ID is stored
*before* its first attempt and reused on every later one, so a server that took the message
and dropped the connection before answering receives the retry as the same message.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from models.alerts import Alert, AlertAttempt
from models.base import utcnow
from models.cases import SEVERITIES

from monitor.config import Settings
from monitor.db import describe_db_error, get_engine, insert_rows
from monitor.errors import StorageError

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
DB_RETRIES = 3

T = TypeVar("T")


def backoff(attempts: int) -> timedelta:
    """Delay before try number ``attempts + 1``: 1, 2, 4, 8 ... minutes, at most 6 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def claim_lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.alerts.claim_lease_seconds)


def with_db_retry(settings: Settings, what: str, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` in its own transaction; a locked database is retried, then reported in one line."""
    engine = get_engine(settings)
    for attempt in range(1, DB_RETRIES + 1):
        try:
            with Session(engine, expire_on_commit=False) as session:
                result = fn(session)
                session.commit()
                return result
        except OperationalError as exc:
            if "locked" in str(exc.orig or exc) and attempt < DB_RETRIES:
                log.warning("database locked while %s; retry %d/%d", what, attempt, DB_RETRIES - 1)
                time.sleep(0.2 * attempt)
                continue
            raise StorageError(f"{what}: {describe_db_error(exc, settings)}") from None
        except SQLAlchemyError as exc:
            raise StorageError(f"{what}: {describe_db_error(exc, settings)}") from None
    raise AssertionError("unreachable")


def reclaim_stale(session: Session, now: datetime, lease: timedelta) -> int:
    result = session.execute(
        update(Alert)
        .where(Alert.status == "sending", Alert.claimed_at < now - lease)
        .values(status="pending", claimed_by=None, claimed_at=None)
    )
    return result.rowcount or 0


def claim(session: Session, token: str, now: datetime, max_groups: int) -> list[Alert]:
    # With a backlog bigger than one run, the worst groups go first, then the oldest.
    rank = case({s: i for i, s in enumerate(SEVERITIES)}, value=Alert.severity, else_=1)
    due_groups = list(
        session.execute(
            select(Alert.group_key)
            .where(Alert.status == "pending", Alert.claimed_by.is_(None), Alert.next_attempt_at <= now)
            .group_by(Alert.group_key)
            .order_by(func.max(rank).desc(), func.min(Alert.created_at), Alert.group_key)
            .limit(max_groups)
        ).scalars()
    )
    for start in range(0, len(due_groups), 200):
        chunk = due_groups[start : start + 200]
        session.execute(
            update(Alert)
            .where(
                Alert.group_key.in_(chunk),
                Alert.status == "pending",
                Alert.claimed_by.is_(None),
                Alert.next_attempt_at <= now,
            )
            .values(status="sending", claimed_by=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    if not due_groups:
        return []
    return list(session.execute(select(Alert).where(Alert.claimed_by == token, Alert.status == "sending")).scalars())


def _owned(token: str) -> tuple[Any, Any]:
    return Alert.claimed_by == token, Alert.status == "sending"


def renew(settings: Settings, ids: list[int], token: str, now: datetime) -> None:
    """Extend this sender's lease on the rows it still holds."""
    if not ids:
        return

    def write(session: Session) -> None:
        session.execute(
            update(Alert).where(Alert.id.in_(ids), *_owned(token)).values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )

    with_db_retry(settings, "renewing the alert claim", write)


def reserve_message_id(settings: Settings, ids: list[int], token: str, message_id: str) -> None:
    """Store the Message-ID an email will carry before it is first tried."""

    def write(session: Session) -> None:
        session.execute(
            update(Alert).where(Alert.id.in_(ids), Alert.message_id.is_(None), *_owned(token))
            .values(message_id=message_id).execution_options(synchronize_session=False)
        )

    with_db_retry(settings, "storing the alert Message-ID", write)


def record(
    settings: Settings,
    ids: list[int],
    *,
    token: str,
    now: datetime,
    transport: str,
    ok: bool,
    delivery_id: str | None = None,
    error: str | None = None,
    temporary: bool | None = None,
    attempts_before: dict[int, int],
) -> tuple[int, int]:
    """Store the outcome of one email for its alerts; returns (retrying, failed) counts."""
    max_attempts = settings.alerts.max_attempts

    def write(session: Session) -> tuple[int, int]:
        retrying = failed = 0
        insert_rows(
            session, AlertAttempt,
            [
                {"alert_id": i, "at": now, "transport": transport, "ok": ok, "temporary": temporary,
                 "error": error, "message_id": delivery_id}
                for i in ids
            ],
        )
        if ok:
            session.execute(
                update(Alert)
                .where(Alert.id.in_(ids), *_owned(token))
                .values(status="sent", sent_at=now, attempts=Alert.attempts + 1, last_error=None)
                .execution_options(synchronize_session=False)
            )
            return 0, 0
        by_attempts: dict[int, list[int]] = defaultdict(list)
        for i in ids:
            by_attempts[attempts_before[i] + 1].append(i)
        for attempts, group in by_attempts.items():
            if temporary and attempts < max_attempts:
                values: dict[str, Any] = {
                    "status": "pending",
                    "claimed_by": None,
                    "claimed_at": None,
                    "next_attempt_at": now + backoff(attempts),
                }
                retrying += len(group)
            else:
                values = {"status": "failed", "claimed_by": None, "claimed_at": None}
                failed += len(group)
            session.execute(
                update(Alert)
                .where(Alert.id.in_(group), *_owned(token))
                .values(attempts=attempts, last_error=error, **values)
                .execution_options(synchronize_session=False)
            )
        return retrying, failed

    return with_db_retry(settings, "recording alert delivery", write)


def release(settings: Settings, ids: list[int], token: str, next_at: datetime | None) -> None:
    """Hand back claimed alerts that were not tried in this run (no attempt is counted)."""
    if not ids:
        return

    def write(session: Session) -> None:
        values: dict[str, Any] = {"status": "pending", "claimed_by": None, "claimed_at": None}
        if next_at is not None:
            values["next_attempt_at"] = next_at
        session.execute(
            update(Alert).where(Alert.id.in_(ids), *_owned(token)).values(**values)
            .execution_options(synchronize_session=False)
        )

    with_db_retry(settings, "releasing unsent alerts", write)


def requeue(session: Session, *, failed: bool, now: datetime | None = None) -> int:
    """``shopmon alerts retry``: waiting alerts become due now; with ``failed``, failed ones are
    queued again with a fresh attempt budget. Message-IDs are kept, so a retry is the same message."""
    now = now or utcnow()
    n = session.execute(
        update(Alert).where(Alert.status == "pending", Alert.next_attempt_at > now).values(next_attempt_at=now)
    ).rowcount or 0
    if failed:
        n += session.execute(
            update(Alert).where(Alert.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_at=None)
        ).rowcount or 0
    return n


def delivery_health(session: Session, settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """What ``shopmon status`` shows about delivery: failed, waiting, overdue and stuck alerts."""
    now = now or utcnow()
    counts = dict(session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())
    stuck = session.execute(
        select(func.count()).where(Alert.status == "sending", Alert.claimed_at < now - claim_lease(settings))
    ).scalar_one()
    retrying = session.execute(
        select(func.count()).where(Alert.status == "pending", Alert.attempts > 0)
    ).scalar_one()
    last = session.execute(
        select(Alert.last_error).where(Alert.status.in_(("failed", "pending")), Alert.last_error.is_not(None))
        .order_by(Alert.id.desc()).limit(1)
    ).scalar_one_or_none()
    return {
        "failed": int(counts.get("failed", 0)),
        "pending": int(counts.get("pending", 0)),
        "retrying": int(retrying),
        "sending": int(counts.get("sending", 0)),
        "stuck_sending": int(stuck),
        "last_error": last,
    }
