"""Deliver queued alerts: claim rows, group them into emails, record every attempt.

The delivery state (claims and their lease, Message-IDs, outcomes) lives in ``alerts.delivery_state``;
this module decides what goes into which email and in what order.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from email.utils import make_msgid

from models.alerts import Alert
from models.base import utcnow
from models.cases import severity_rank

from alerts.delivery_state import (
    backoff,
    claim,
    claim_lease,
    reclaim_stale,
    record,
    release,
    renew,
    reserve_message_id,
    with_db_retry,
)
from alerts.render import build_message
from alerts.transports import PermanentError, TemporaryError, Transport, transport_for
from monitor.config import Settings

log = logging.getLogger(__name__)

MAX_GROUPS_PER_RUN = 1000
MAX_ALERTS_PER_EMAIL = 100

__all__ = ["MAX_ALERTS_PER_EMAIL", "SendSummary", "backoff", "send_pending"]


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


def _emails(claimed: list[Alert]) -> list[list[Alert]]:
    """Alerts per email, worst first. Alerts that already carry a Message-ID go out together
    again under it; the rest are grouped by group key and split so each email stays readable."""
    by_id: dict[str, list[Alert]] = defaultdict(list)
    fresh: dict[str, list[Alert]] = defaultdict(list)
    for alert in claimed:
        if alert.message_id:
            by_id[alert.message_id].append(alert)
        else:
            fresh[alert.group_key].append(alert)
    chunks = list(by_id.values())
    for group in fresh.values():
        group.sort(key=lambda a: (-severity_rank(a.severity), a.id))
        chunks += [group[i : i + MAX_ALERTS_PER_EMAIL] for i in range(0, len(group), MAX_ALERTS_PER_EMAIL)]
    return sorted(
        chunks,
        key=lambda g: (-max(severity_rank(a.severity) for a in g), min(a.created_at for a in g), g[0].group_key),
    )


def _message_id(settings: Settings, group: list[Alert]) -> str:
    existing = group[0].message_id
    return existing or make_msgid(idstring="shopmon", domain=settings.smtp.sender.rsplit("@", 1)[-1])


def send_pending(
    settings: Settings,
    *,
    now: datetime | None = None,
    sender_id: str | None = None,
    transport: Transport | None = None,
    max_groups: int = MAX_GROUPS_PER_RUN,
    clock: Callable[[], datetime] | None = None,
) -> SendSummary:
    """Deliver due alerts, one email per group, worst groups first (at most ``max_groups`` emails).

    ``transport`` defaults to SMTP when smtp.host is set, else the outbox folder. ``clock``
    (default: ``now`` if given, else the real time) dates attempts and lease renewals.
    """
    clock = clock or ((lambda: now) if now is not None else utcnow)  # type: ignore[assignment,return-value]
    now = clock()
    token = f"{sender_id or socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    summary = SendSummary()
    lease = claim_lease(settings)
    summary.reclaimed = with_db_retry(settings, "reclaiming stale alerts", lambda s: reclaim_stale(s, now, lease))
    claimed = with_db_retry(settings, "claiming alerts", lambda s: claim(s, token, now, max_groups))
    summary.claimed = len(claimed)
    if not claimed:
        return summary

    transport = transport or transport_for(settings)
    pending_ids = {a.id for a in claimed}
    try:
        for group in _emails(claimed):
            ids = [a.id for a in group]
            attempts_before = {a.id: a.attempts for a in group}
            recipients = list(dict.fromkeys(r for a in group for r in a.recipients))
            at = clock()
            renew(settings, sorted(pending_ids), token, at)
            try:
                message_id = _message_id(settings, group)
                message = build_message(
                    settings, group[0].kind, [(a.id, a.payload, a.severity) for a in group], recipients,
                    now=at, message_id=message_id,
                )
                reserve_message_id(settings, ids, token, message_id)
                delivery_id = transport.send(message)
            except TemporaryError as exc:
                at = clock()
                retrying, failed = record(
                    settings, ids, token=token, now=at, transport=transport.name, ok=False,
                    error=str(exc), temporary=True, attempts_before=attempts_before,
                )
                pending_ids.difference_update(ids)
                summary.retrying += retrying
                summary.failed += failed
                log.warning("alert email for %s not delivered (will retry): %s", group[0].group_key, exc)
                if exc.unreachable:
                    # The server is unreachable: the rest would fail the same way, so they wait
                    # for the same retry time instead of each burning an attempt.
                    release(settings, sorted(pending_ids), token, at + backoff(1))
                    summary.deferred += len(pending_ids)
                    pending_ids.clear()
                    break
                continue
            except (PermanentError, ValueError) as exc:
                # ValueError: the message itself cannot be built (e.g. an invalid header); retrying won't help.
                retrying, failed = record(
                    settings, ids, token=token, now=clock(), transport=transport.name, ok=False,
                    error=str(exc), temporary=False, attempts_before=attempts_before,
                )
                pending_ids.difference_update(ids)
                summary.failed += failed
                log.error("alert email for %s failed permanently: %s", group[0].group_key, exc)
                continue
            record(
                settings, ids, token=token, now=clock(), transport=transport.name, ok=True,
                delivery_id=delivery_id, attempts_before=attempts_before,
            )
            pending_ids.difference_update(ids)
            summary.sent += len(ids)
            summary.emails += 1
    finally:
        try:
            transport.close()
        finally:
            if pending_ids:
                release(settings, sorted(pending_ids), token, None)
    return summary
