"""Two senders at once deliver every alert exactly once (SQLite WAL and PostgreSQL); a locked DB loses nothing."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from alerts.cases import open_cases
from alerts.rules import evaluate
from alerts.delivery_state import with_db_retry
from alerts.sender import send_pending
from models import Alert, AlertAttempt, CaseEvent, Listing, Review, Reviewer, Shop
from monitor.errors import StorageError
from alerts_testkit import smtp_server  # noqa: F401  (fixtures)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seed_serious(settings, shops: int, per_shop: int) -> int:
    from monitor.db import get_engine

    with Session(get_engine(settings)) as session:
        for s in range(shops):
            shop = Shop(platform="jd", external_id=f"s{s}", name=f"Shop {s}")
            session.add(shop)
            session.flush()
            listing = Listing(platform="jd", external_id=f"l{s}", shop_id=shop.id, title=f"Item {s}", sales=5000)
            session.add(listing)
            session.flush()
            for r in range(per_shop):
                reviewer = Reviewer(platform="jd", external_id=f"u{s}-{r}", nick=f"n{r}")
                session.add(reviewer)
                session.flush()
                session.add(Review(platform="jd", external_id=f"r{s}-{r}", listing_id=listing.id, shop_id=shop.id,
                                   reviewer_id=reviewer.id, reviewer_nick=f"n{r}", rating=1, text="broken", first_seen=T0))
        session.flush()
        open_cases(session, settings, now=T0)
        queued = evaluate(session, settings, now=T0)
        session.commit()
    return queued


def race(settings, senders: int = 2) -> list[Exception]:
    """Each thread keeps sending small batches until nothing is pending."""
    from monitor.db import get_engine

    errors: list[Exception] = []
    barrier = threading.Barrier(senders)

    def pending() -> int:
        with Session(get_engine(settings)) as s:
            return s.exec(select(func.count(Alert.id)).where(Alert.status.in_(("pending", "sending")))).one()

    def worker(name: str) -> None:
        try:
            barrier.wait()
            while pending():
                send_pending(settings, now=T0 + timedelta(minutes=1), sender_id=name, max_groups=3)
        except Exception as exc:  # surfaced by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"sender-{i}",)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def assert_each_delivered_once(settings, server, expected: int) -> None:
    from monitor.db import get_engine

    delivered = Counter(int(i) for m in server.messages for i in m.message["X-Shopmon-Alerts"].split(","))
    assert len(delivered) == expected
    assert set(delivered.values()) == {1}, [k for k, v in delivered.items() if v > 1]
    with Session(get_engine(settings)) as s:
        rows = s.exec(select(Alert)).all()
        assert {a.status for a in rows} == {"sent"}
        assert sorted(delivered) == sorted(a.id for a in rows)
        ok_attempts = s.exec(select(func.count(AlertAttempt.id)).where(AlertAttempt.ok)).one()
        assert ok_attempts == expected
        claimers = {a.claimed_by.split(":")[0] for a in rows}
    return claimers


def time_rules_fire_once(settings) -> None:
    """Reminders and escalations on the same data (exercises the time comparisons on each engine)."""
    from monitor.db import get_engine

    with Session(get_engine(settings)) as s:
        assert evaluate(s, settings, now=T0 + timedelta(hours=23)) == 0
        assert evaluate(s, settings, now=T0 + timedelta(hours=24)) == 90  # first reminders
        assert evaluate(s, settings, now=T0 + timedelta(hours=47)) == 0
        assert evaluate(s, settings, now=T0 + timedelta(hours=48)) == 180  # second reminders + escalations
        assert evaluate(s, settings, now=T0 + timedelta(hours=48, minutes=1)) == 0
        s.commit()


def test_two_concurrent_senders_on_sqlite_wal_deliver_each_alert_once(tmp_path, smtp_server):
    from alerts_testkit import make_settings

    from monitor.db import get_engine, upgrade

    settings = make_settings(tmp_path, smtp_server.port, group_window_minutes=0)
    upgrade(settings)
    with get_engine(settings).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert seed_serious(settings, shops=30, per_shop=3) == 90
    assert race(settings) == []
    claimers = assert_each_delivered_once(settings, smtp_server, 90)
    assert len(smtp_server.messages) == 30  # one grouped email per shop
    assert claimers <= {"sender-0", "sender-1"}
    time_rules_fire_once(settings)


@pytest.mark.postgres
def test_two_concurrent_senders_on_postgresql_deliver_each_alert_once(tmp_path, smtp_server, pg_url):
    from alerts_testkit import make_settings

    from monitor.db import get_engine, upgrade

    settings = make_settings(tmp_path, smtp_server.port, group_window_minutes=0, database_url=pg_url)
    try:
        upgrade(settings)
        assert get_engine(settings).dialect.name == "postgresql"
        assert seed_serious(settings, shops=30, per_shop=3) == 90
        assert race(settings, senders=3) == []
        assert_each_delivered_once(settings, smtp_server, 90)
        assert len(smtp_server.messages) == 30
        time_rules_fire_once(settings)
    finally:
        get_engine(settings).dispose()  # lets the fixture drop the schema


def test_locked_database_is_waited_for_and_nothing_is_lost(tmp_path, smtp_server):
    from alerts_testkit import make_settings

    from monitor.db import upgrade

    settings = make_settings(tmp_path, smtp_server.port, group_window_minutes=0)
    upgrade(settings)
    assert seed_serious(settings, shops=2, per_shop=1) == 2
    db_file = settings.db_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(db_file, timeout=5, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    released = threading.Event()

    def release_later() -> None:
        time.sleep(1.0)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=release_later).start()
    summary = send_pending(settings, now=T0)
    assert released.is_set()
    assert (summary.sent, summary.emails) == (2, 2)
    holder.close()


def test_database_locked_for_too_long_gives_one_clear_line_and_loses_nothing(tmp_path, smtp_server):
    from alerts_testkit import make_settings

    from monitor.db import upgrade

    settings = make_settings(tmp_path, smtp_server.port, group_window_minutes=0)
    upgrade(settings)
    assert seed_serious(settings, shops=1, per_shop=1) == 1
    impatient = settings.model_copy(update={"database_busy_timeout": 0.2})
    holder = sqlite3.connect(settings.db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError, match=r"^reclaiming stale alerts: database .* is locked by another process"):
            send_pending(impatient, now=T0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert smtp_server.messages == []
    assert send_pending(settings, now=T0).sent == 1  # still queued, delivered once the lock is gone
    assert len(smtp_server.messages) == 1


def test_db_retry_gives_up_after_three_tries(tmp_path):
    from alerts_testkit import make_settings

    settings = make_settings(tmp_path)
    calls = []

    def always_locked(session):
        calls.append(1)
        raise OperationalError("UPDATE alert", {}, sqlite3.OperationalError("database is locked"))

    with pytest.raises(StorageError, match=r"^claiming alerts: database .* is locked"):
        with_db_retry(settings, "claiming alerts", always_locked)
    assert len(calls) == 3


def _evaluators_race(settings) -> int:
    from monitor.db import get_engine

    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[Exception] = []

    def worker() -> None:
        try:
            with Session(get_engine(settings)) as s:
                barrier.wait()
                counts.append(evaluate(s, settings, now=T0 + timedelta(hours=48)))
                s.commit()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with Session(get_engine(settings)) as s:
        keys = s.exec(select(Alert.dedup_key)).all()
        escalated = s.exec(select(func.count(CaseEvent.id)).where(CaseEvent.action == "escalated")).one()
    assert len(keys) == len(set(keys))
    assert escalated == 20  # one history entry per escalation, written by whichever evaluator won
    return sum(counts)


def test_two_evaluators_at_once_write_each_alert_once_sqlite(tmp_path):
    from alerts_testkit import make_settings
    from monitor.db import upgrade

    settings = make_settings(tmp_path, None, group_window_minutes=0)
    upgrade(settings)
    seed_serious(settings, shops=5, per_shop=4)  # 20 serious alerts written at T0
    # At +48 h: 20 reminders and 20 escalations, however the two evaluators interleave.
    assert _evaluators_race(settings) == 40


@pytest.mark.postgres
def test_two_evaluators_at_once_write_each_alert_once_postgresql(tmp_path, pg_url):
    from alerts_testkit import make_settings
    from monitor.db import get_engine, upgrade

    settings = make_settings(tmp_path, None, group_window_minutes=0, database_url=pg_url)
    try:
        upgrade(settings)
        seed_serious(settings, shops=5, per_shop=4)
        assert _evaluators_race(settings) == 40
    finally:
        get_engine(settings).dispose()
