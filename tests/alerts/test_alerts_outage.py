"""Alert delivery under faults (issue 12 item 3): nothing fails in silence, nothing arrives twice
under two Message-IDs, and a killed sender's rows come back by lease."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from sqlmodel import select

from alerts.cases import open_cases
from alerts.delivery_state import claim_lease
from alerts.rules import evaluate
from alerts.sender import backoff, send_pending
from models import Alert
from models.base import utcnow
from monitor.cli import main
from alerts_testkit import T0, factory, free_port, make_settings, smtp_server  # noqa: F401  (fixtures)


class DropAfterData:
    """Takes the whole message, then hangs up before answering: the client cannot know it arrived."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.got = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        self.message_ids.append(message_from_bytes(envelope.content, policy=policy.default)["Message-ID"])
        self.got.set()
        server.transport.close()
        return "250 OK"


class HangAfterData(DropAfterData):
    """Takes the message and never answers (until released), like a stuck relay."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        self.message_ids.append(message_from_bytes(envelope.content, policy=policy.default)["Message-ID"])
        self.got.set()
        try:
            await asyncio.wait_for(self.release.wait(), timeout=60)
        except TimeoutError:
            pass
        return "451 gave up"


def _queue_one(session, settings, factory, now) -> None:  # noqa: ANN001
    factory.review(factory.listing(factory.shop(), sales=2000), rating=1)
    open_cases(session, settings, now=now)
    evaluate(session, settings, now=now)
    session.commit()


def _serve(handler, port: int):  # noqa: ANN001, ANN202
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def test_drop_after_data_is_retried_under_the_same_message_id(session, tmp_path, factory, smtp_server) -> None:
    port = free_port()
    settings = make_settings(tmp_path, port, group_window_minutes=0)
    from monitor.db import upgrade

    upgrade(settings)
    _queue_one(session, settings, factory, T0)
    dropper = DropAfterData()
    controller = _serve(dropper, port)
    try:
        assert send_pending(settings, now=T0).retrying == 1
    finally:
        controller.stop()
    later = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"port": smtp_server.port})})
    assert send_pending(later, now=T0 + backoff(1)).sent == 1
    [received] = smtp_server.messages
    assert dropper.message_ids and received.message["Message-ID"] == dropper.message_ids[0]
    alert = session.exec(select(Alert)).one()
    session.refresh(alert)
    assert alert.message_id == dropper.message_ids[0] and alert.status == "sent"


def _cli(capsys, *args: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "shopmon.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_seconds = 5\n'
        'sender = "shopmon@shop.example"\n'
        '[alerts]\ngroup_window_minutes = 0\n'
        '[alerts.recipients]\nserious_case = ["service@shop.example"]\ncrawl_health = ["ops@shop.example"]\n',
        encoding="utf-8",
    )
    return path


def test_failed_alerts_are_visible_exit_nonzero_and_can_be_requeued(session, tmp_path, factory, capsys) -> None:
    from aiosmtpd.controller import Controller

    class Refuse:
        async def handle_DATA(self, server, sess, envelope):  # noqa: N802, ANN001, ANN201
            return "550 5.7.1 rejected by policy"

    port = free_port()
    _write_config(tmp_path, port)
    from monitor.config import load_settings
    from monitor.db import upgrade

    settings = load_settings()
    upgrade(settings)
    _queue_one(session, settings, factory, T0)
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        code, out, err = _cli(capsys, "alerts", "send", "--no-evaluate")
    finally:
        controller.stop()
    assert code == 1 and "failed 1" in out and "alerts retry --failed" in err, (out, err)

    code, out, _ = _cli(capsys, "status")
    assert code == 0 and "1 failed" in out and "550 5.7.1 rejected by policy" in out

    # The crawl-health path hears about it too (once).
    assert evaluate(session, settings, now=T0 + timedelta(minutes=1)) == 1
    ops = session.exec(select(Alert).where(Alert.kind == "crawl_health")).one()
    assert ops.payload["failure_kind"] == "alerts_failed" and "550" in ops.payload["error"]
    assert evaluate(session, settings, now=T0 + timedelta(minutes=2)) == 0
    session.commit()

    first_id = session.exec(select(Alert.message_id).where(Alert.kind == "serious_case")).one()
    code, out, _ = _cli(capsys, "alerts", "retry", "--failed")
    assert code == 0 and out.startswith("re-queued 1 alert(s)")
    from alerts_testkit import SmtpServer

    good = SmtpServer(port)
    good.start()
    try:
        code, out, _ = _cli(capsys, "alerts", "send", "--no-evaluate")
    finally:
        good.stop()
    assert code == 0, out
    assert sorted(m.message["X-Shopmon-Kind"] for m in good.messages) == ["crawl_health", "serious_case"]
    [again] = [m for m in good.messages if m.message["X-Shopmon-Kind"] == "serious_case"]
    assert again.message["Message-ID"] == first_id


def test_killed_sender_rows_come_back_by_lease_with_the_same_message_id(
    session, tmp_path, factory, smtp_server, capsys
) -> None:
    port = free_port()
    cfg = _write_config(tmp_path, port)
    from monitor.config import load_settings
    from monitor.db import upgrade

    settings = load_settings(cfg)
    upgrade(settings)
    _queue_one(session, settings, factory, T0)
    hang = HangAfterData()
    controller = _serve(hang, port)
    env = {**os.environ, "SHOPMON_CONFIG": str(cfg)}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "alerts", "send", "--no-evaluate"], env=env,
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "sender.err").open("w"))
    try:
        assert hang.got.wait(timeout=120), (tmp_path / "sender.err").read_text()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        controller.loop.call_soon_threadsafe(hang.release.set)
        controller.stop()
    alert = session.exec(select(Alert)).one()
    session.refresh(alert)
    assert alert.status == "sending" and alert.message_id == hang.message_ids[0]

    # Within the lease the rows stay with the (dead) sender; status says where they are.
    code, out, _ = _cli(capsys, "status")
    assert "1 sending" in out
    moved = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"port": smtp_server.port})})
    assert send_pending(moved).claimed == 0
    after = utcnow() + claim_lease(settings) + timedelta(seconds=1)
    code, out, _ = _cli(capsys, "status")
    summary = send_pending(moved, now=after)
    assert (summary.reclaimed, summary.sent) == (1, 1)
    [received] = smtp_server.messages
    assert received.message["Message-ID"] == hang.message_ids[0]
