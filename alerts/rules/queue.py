"""The alerts of one evaluation: staged, checked against silences and existing dedup keys, written in bulk.

Noise control follows Alertmanager: every alert carries a ``dedup_key`` (unique in the
table, so the same review never alerts twice) and a ``group_key`` (alerts sharing it go
out as one email once their group window closes). Silences are applied when the row is
written: a silenced alert is stored as ``suppressed`` so the record shows it happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from models.alerts import Alert

from alerts.silences import AlertSubject, active_silences, matching_silence
from monitor.config import Settings
from monitor.db import upsert
from monitor.in_lists import chunks, in_filters

log = logging.getLogger(__name__)


def recipients_for(settings: Settings, kind: str) -> list[str]:
    """Configured recipients for a kind (falling back to the serious-case list); attacks also reach supervisors."""
    routes = settings.alerts.recipients
    addrs = list(routes.get(kind) or routes.get("serious_case") or [])  # type: ignore[call-overload]
    if kind == "attack":
        addrs += settings.alerts.supervisors
    return list(dict.fromkeys(addrs))


def _window(settings: Settings, now: datetime) -> tuple[str, datetime]:
    """The group window ``now`` falls in: its label and when it closes (the time to send)."""
    seconds = settings.alerts.group_window_minutes * 60
    if seconds <= 0:
        return now.strftime("%Y%m%dT%H%M%S.%f"), now
    start = int(now.timestamp()) // seconds * seconds
    opened = datetime.fromtimestamp(start, UTC)
    return opened.strftime("%Y%m%dT%H%M"), opened + timedelta(seconds=seconds)


@dataclass
class AlertQueue:
    """Collects the alerts of one evaluation; looks up dedup keys once per batch."""

    session: Session
    settings: Settings
    now: datetime

    def __post_init__(self) -> None:
        self.silences = active_silences(self.session, self.now)
        self.window, self.send_at = _window(self.settings, self.now)
        self.queued = 0
        self.suppressed = 0
        self._pending: dict[str, dict[str, Any]] = {}
        self._on_written: dict[str, Callable[[], None]] = {}
        self._unrouted_said: set[str] = set()

    def existing(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for where in in_filters(Alert.dedup_key, keys):
            found.update(self.session.exec(select(Alert.dedup_key).where(where)).all())
        return found | {k for k in keys if k in self._pending}

    def unrouted(self, kind: str) -> bool:
        """True when nobody is configured to receive ``kind``: a rule then skips its reads, since
        every alert it found would be left unwritten anyway (and raised once someone is configured)."""
        if recipients_for(self.settings, kind):
            return False
        if kind not in self._unrouted_said:
            self._unrouted_said.add(kind)
            log.warning("no recipients configured for %s alerts; none queued", kind)
        return True

    def add(
        self,
        *,
        kind: str,
        dedup_key: str,
        scope: str,
        payload: dict[str, Any],
        severity: str,
        subject: AlertSubject,
        case_id: int | None = None,
        immediate: bool = False,
        not_before: datetime | None = None,
    ) -> bool:
        """Stage one alert; False when nobody is configured to receive it (then it is not written).
        ``not_before`` holds it until then (a call window), grouped with others held for that time."""
        recipients = recipients_for(self.settings, kind)
        if not recipients:
            # Not written, so it is raised as soon as someone configures a recipient.
            self.unrouted(kind)
            return False
        window, send_at = (self.now.strftime("%Y%m%dT%H%M%S.%f"), self.now) if immediate else (self.window, self.send_at)
        if not_before is not None and not_before > send_at:
            window, send_at = not_before.strftime("held%Y%m%dT%H%M"), not_before
        row: dict[str, Any] = {
            "kind": kind,
            "dedup_key": dedup_key,
            "group_key": f"{kind}:{scope}:{window}",
            "recipients": recipients,
            "payload": payload,
            "severity": severity,
            "case_id": case_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": send_at,
            "created_at": self.now,
            "last_error": None,
        }
        silence = matching_silence(self.silences, subject)
        if silence is not None:
            row["status"] = "suppressed"
            row["last_error"] = f"silenced by silence #{silence.id} until {silence.until.isoformat()}"
            self.suppressed += 1
        else:
            self.queued += 1
        self._pending[dedup_key] = row
        return True

    def write(self) -> None:
        """Insert the staged rows in bulk, skipping any dedup key another evaluator wrote meanwhile.

        Bulk inserts, because thousands of alerts after a first crawl would otherwise spend
        most of their time constructing ORM objects; ON CONFLICT DO NOTHING, because the
        scheduler and a person running ``shopmon alerts send`` may evaluate at the same time.
        """
        rows = list(self._pending.values())
        self._pending.clear()
        stmt = upsert(self.session, Alert).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(Alert.dedup_key)
        for chunk in chunks(rows):
            written = set(self.session.execute(stmt, chunk).scalars())
            for row in chunk:
                key = row["dedup_key"]
                if key in written:
                    if key in self._on_written:
                        self._on_written.pop(key)()
                elif row["status"] == "pending":
                    self.queued -= 1
                else:
                    self.suppressed -= 1
        self._on_written.clear()

    def on_written(self, dedup_key: str, action: Callable[[], None]) -> None:
        """Run ``action`` only if this evaluation is the one that wrote the alert."""
        self._on_written[dedup_key] = action


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
