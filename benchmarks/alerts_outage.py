"""Outage scenario for benchmarks/alerts.py: lost and duplicated alerts under SMTP faults.

A local aiosmtpd server on 127.0.0.1 and a simulated clock (one ``send_pending`` run per
simulated minute, as the scheduler does), through three faults in a row:

- minutes 0-10: the server is down (nothing listens on the port);
- minutes 10-20: a 4xx storm (every DATA answered ``451 4.3.0 try later``);
- minutes 20-30: every other DATA is accepted and then the connection is dropped before the
  reply, so the sender cannot know the message arrived;
- afterwards: normal.

Counts per alert, from what the server received (``X-Shopmon-Alerts`` and ``Message-ID``):
``lost`` = never received, ``duplicated`` = received under more than one Message-ID (a mail
system cannot tell the copies apart). ``same_id_redeliveries`` counts the retries after a
drop-after-DATA, which carry the same Message-ID (readers' mail systems collapse them).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from alerts.cases import open_cases
from alerts.rules import evaluate
from alerts.sender import send_pending
from models import Alert
from monitor.config import load_settings
from monitor.db import get_engine, upgrade

DOWN_MINUTES = (0, 10)
STORM_MINUTES = (10, 20)
DROP_MINUTES = (20, 30)
MAX_SIMULATED_MINUTES = 24 * 60


class FaultySink:
    """Keeps every message it takes; what it answers depends on the simulated minute."""

    def __init__(self, seed: int = 11) -> None:
        self.minute = 0
        self.received: list[bytes] = []
        self.rng = random.Random(seed)
        self.refused = 0
        self.dropped = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802, ANN201
        if STORM_MINUTES[0] <= self.minute < STORM_MINUTES[1]:
            self.refused += 1
            return "451 4.3.0 try later"
        self.received.append(envelope.original_content or envelope.content)
        if DROP_MINUTES[0] <= self.minute < DROP_MINUTES[1] and self.rng.random() < 0.5:
            self.dropped += 1
            server.transport.close()  # took the whole message, never answers
        return "250 OK"


def outage(n_alerts: int, seed_fn: Any, recipients: dict[str, list[str]], t0: Any, free_port: Any) -> dict[str, Any]:
    """Run the scenario over ``n_alerts`` serious-review alerts (``seed_fn`` as in benchmarks/alerts.py)."""
    from aiosmtpd.controller import Controller

    sink = FaultySink()
    port = free_port()
    controller: Controller | None = None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            alerts={"recipients": recipients, "group_window_minutes": 0},
            smtp={"host": "127.0.0.1", "port": port, "security": "none", "sender": "shopmon@bench.example",
                  "timeout_seconds": 5},
        )
        upgrade(settings)
        seed_fn(settings, n_alerts, random.Random(3))
        with Session(get_engine(settings)) as session:
            open_cases(session, settings, now=t0)
            queued = evaluate(session, settings, now=t0)
            session.commit()
        try:
            for minute in range(MAX_SIMULATED_MINUTES):
                sink.minute = minute
                up = minute >= DOWN_MINUTES[1]
                if up and controller is None:
                    controller = Controller(sink, hostname="127.0.0.1", port=port)
                    controller.start()
                now = t0 + timedelta(minutes=minute)
                send_pending(settings, clock=lambda now=now: now)
                runs += 1
                with Session(get_engine(settings)) as session:
                    open_left = session.exec(
                        select(func.count()).select_from(Alert).where(Alert.status.in_(("pending", "sending")))
                    ).one()
                if up and minute >= DROP_MINUTES[1] and not open_left:
                    break
        finally:
            if controller is not None:
                controller.stop()
        with Session(get_engine(settings)) as session:
            statuses = dict(session.exec(select(Alert.status, func.count()).group_by(Alert.status)).all())
            alert_ids = set(session.exec(select(Alert.id)).all())
    ids_per_alert: dict[int, set[str]] = defaultdict(set)
    copies: dict[int, int] = defaultdict(int)
    for raw in sink.received:
        msg = message_from_bytes(raw, policy=policy.default)
        for part in str(msg["X-Shopmon-Alerts"]).split(","):
            ids_per_alert[int(part)].add(str(msg["Message-ID"]))
            copies[int(part)] += 1
    return {
        "alerts_queued": queued,
        "simulated_minutes": runs,
        "faults": {"down_minutes": DOWN_MINUTES, "storm_4xx_minutes": STORM_MINUTES,
                   "drop_after_data_minutes": DROP_MINUTES},
        "refused_4xx": sink.refused,
        "dropped_after_data": sink.dropped,
        "final_statuses": statuses,
        "lost": len(alert_ids - set(ids_per_alert)),
        "duplicated": sum(1 for ids in ids_per_alert.values() if len(ids) > 1),
        "same_id_redeliveries": sum(n - 1 for n in copies.values()),
        "target": {"lost": 0, "duplicated": 0},
        "wall_seconds": round(time.perf_counter() - wall0, 2),
        "cpu_seconds": round(time.process_time() - cpu0, 2),
    }
