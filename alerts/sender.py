"""Deliver queued alerts: claim rows atomically, group them into emails, record every attempt.

Claiming is a single ``UPDATE alert SET status='sending', claimed_by=<token> WHERE
status='pending' AND claimed_by IS NULL ...``. On PostgreSQL a second sender's UPDATE
waits for the first one's row locks and then re-checks the WHERE clause, and SQLite runs
one writer at a time, so on both engines each row is claimed by exactly one sender and
two senders never deliver the same alert twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from models.alerts import Alert, AlertAttempt
from models.base import utcnow

from alerts.render import SEVERITY_ORDER, build_message
from alerts.transports import PermanentError, TemporaryError, Transport, transport_for
from monitor.config import Settings
from monitor.db import describe_db_error, get_engine
from monitor.errors import StorageError

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
# A sender that died mid-run leaves rows in 'sending'; after this long they are retried.
CLAIM_LEASE = timedelta(minutes=15)
MAX_GROUPS_PER_RUN = 1000
MAX_ALERTS_PER_EMAIL = 100
DB_RETRIES = 3

T = TypeVar("T")


@dataclass
class SendSummary:
    claimed: int = 0
    sent: int = 0
    emails: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0
    reclaimed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def backoff(attempts: int) -> timedelta:
    """Delay before try number ``attempts + 1``: 1, 2, 4, 8 ... minutes, at most 6 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 1


def _with_db_retry(settings: Settings, what: str, fn: Callable[[Session], T]) -> T:
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


def _reclaim_stale(session: Session, now: datetime) -> int:
    result = session.execute(
        update(Alert)
        .where(Alert.status == "sending", Alert.claimed_at < now - CLAIM_LEASE)
        .values(status="pending", claimed_by=None, claimed_at=None)
    )
    return result.rowcount or 0


def _claim(session: Session, token: str, now: datetime, max_groups: int) -> list[Alert]:
    # With a backlog bigger than one run, the worst groups go first, then the oldest.
    rank = case({s: i for i, s in enumerate(SEVERITY_ORDER)}, value=Alert.severity, else_=1)
    due_groups = list(
        session.execute(
            select(Alert.group_key)
            .where(Alert.status == "pending", Alert.claimed_by.is_(None), Alert.next_attempt_at <= now)
            .group_by(Alert.group_key)
            .order_by(func.max(rank).desc(), func.min(Alert.created_at), Alert.group_key)
            .limit(max_groups)
        ).scalars()
    )
    claimed: list[Alert] = []
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
    if due_groups:
        claimed = list(
            session.execute(select(Alert).where(Alert.claimed_by == token, Alert.status == "sending")).scalars()
        )
    return claimed


def _record(
    settings: Settings,
    ids: list[int],
    *,
    token: str,
    now: datetime,
    transport: str,
    ok: bool,
    message_id: str | None = None,
    error: str | None = None,
    temporary: bool | None = None,
    attempts_before: dict[int, int],
) -> tuple[int, int]:
    """Store the outcome of one email for its alerts; returns (retrying, failed) counts."""
    max_attempts = settings.alerts.max_attempts

    def write(session: Session) -> tuple[int, int]:
        retrying = failed = 0
        session.execute(
            insert(AlertAttempt),
            [
                {"alert_id": i, "at": now, "transport": transport, "ok": ok, "temporary": temporary, "error": error, "message_id": message_id}
                for i in ids
            ],
        )
        owned = (Alert.claimed_by == token, Alert.status == "sending")
        if ok:
            session.execute(
                update(Alert)
                .where(Alert.id.in_(ids), *owned)
                .values(status="sent", sent_at=now, message_id=message_id, attempts=Alert.attempts + 1, last_error=None)
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
                values = {"status": "failed"}
                failed += len(group)
            session.execute(
                update(Alert)
                .where(Alert.id.in_(group), *owned)
                .values(attempts=attempts, last_error=error, **values)
                .execution_options(synchronize_session=False)
            )
        return retrying, failed

    return _with_db_retry(settings, "recording alert delivery", write)


def _release(settings: Settings, ids: list[int], token: str, next_at: datetime | None) -> None:
    """Hand back claimed alerts that were not tried in this run (no attempt is counted)."""
    if not ids:
        return

    def write(session: Session) -> None:
        values: dict[str, Any] = {"status": "pending", "claimed_by": None, "claimed_at": None}
        if next_at is not None:
            values["next_attempt_at"] = next_at
        session.execute(
            update(Alert)
            .where(Alert.id.in_(ids), Alert.claimed_by == token, Alert.status == "sending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    _with_db_retry(settings, "releasing unsent alerts", write)


def send_pending(
    settings: Settings,
    *,
    now: datetime | None = None,
    sender_id: str | None = None,
    transport: Transport | None = None,
    max_groups: int = MAX_GROUPS_PER_RUN,
) -> SendSummary:
    """Deliver due alerts, one email per group, worst groups first (at most ``max_groups`` emails).

    ``transport`` defaults to SMTP when smtp.host is set, else the outbox folder.
    """
    now = now or utcnow()
    token = f"{sender_id or socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    summary = SendSummary()
    summary.reclaimed = _with_db_retry(settings, "reclaiming stale alerts", lambda s: _reclaim_stale(s, now))
    claimed = _with_db_retry(settings, "claiming alerts", lambda s: _claim(s, token, now, max_groups))
    summary.claimed = len(claimed)
    if not claimed:
        return summary

    groups: dict[str, list[Alert]] = defaultdict(list)
    for alert in claimed:
        groups[alert.group_key].append(alert)
    # Very large groups (a first crawl of a big shop) are split so each email stays readable.
    chunks = [
        sorted(g, key=lambda a: (-_severity_rank(a.severity), a.id))[i : i + MAX_ALERTS_PER_EMAIL]
        for g in groups.values()
        for i in range(0, len(g), MAX_ALERTS_PER_EMAIL)
    ]
    ordered = sorted(
        chunks,
        key=lambda g: (-max(_severity_rank(a.severity) for a in g), min(a.created_at for a in g), g[0].group_key),
    )
    transport = transport or transport_for(settings)
    pending_ids = {a.id for a in claimed}
    try:
        for group in ordered:
            ids = [a.id for a in group]
            attempts_before = {a.id: a.attempts for a in group}
            recipients = list(dict.fromkeys(r for a in group for r in a.recipients))
            try:
                message = build_message(
                    settings, group[0].kind, [(a.id, a.payload, a.severity) for a in group], recipients, now=now
                )
                message_id = transport.send(message)
            except TemporaryError as exc:
                retrying, failed = _record(
                    settings, ids, token=token, now=now, transport=transport.name, ok=False,
                    error=str(exc), temporary=True, attempts_before=attempts_before,
                )
                pending_ids.difference_update(ids)
                summary.retrying += retrying
                summary.failed += failed
                log.warning("alert email for %s not delivered (will retry): %s", group[0].group_key, exc)
                if exc.unreachable:
                    # The server is unreachable: the rest would fail the same way, so they wait
                    # for the same retry time instead of each burning an attempt.
                    _release(settings, sorted(pending_ids), token, now + backoff(1))
                    summary.deferred += len(pending_ids)
                    pending_ids.clear()
                    break
                continue
            except (PermanentError, ValueError) as exc:
                # ValueError: the message itself cannot be built (e.g. an invalid header); retrying won't help.
                retrying, failed = _record(
                    settings, ids, token=token, now=now, transport=transport.name, ok=False,
                    error=str(exc), temporary=False, attempts_before=attempts_before,
                )
                pending_ids.difference_update(ids)
                summary.failed += failed
                log.error("alert email for %s failed permanently: %s", group[0].group_key, exc)
                continue
            _record(
                settings, ids, token=token, now=now, transport=transport.name, ok=True,
                message_id=message_id, attempts_before=attempts_before,
            )
            pending_ids.difference_update(ids)
            summary.sent += len(ids)
            summary.emails += 1
    finally:
        try:
            transport.close()
        finally:
            if pending_ids:
                _release(settings, sorted(pending_ids), token, None)
    return summary
