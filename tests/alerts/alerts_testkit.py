"""Helpers for the alerts tests (a real SMTP server on 127.0.0.1, data factories); imported by
each test module instead of living in a conftest.py, whose module name clashes across test folders."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from models import Case, Flag, Listing, Review, Reviewer, Shop
from monitor.config import Settings, load_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    """aiosmtpd handler that keeps every message it accepts."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802, ANN201
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.sink = SmtpSink()
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[Received]:
        return self.sink.messages


@pytest.fixture
def smtp_server():
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


def make_settings(tmp_path: Path, port: int | None = None, *, database_url: str | None = None, **alerts: Any) -> Settings:
    cfg: dict[str, Any] = {
        "recipients": {
            "serious_case": ["service@shop.example"],
            "attack": ["security@shop.example"],
            "escalation": ["lead@shop.example"],
            "crawl_health": ["ops@shop.example"],
            "image_mismatch": ["catalog@shop.example"],
            "daily_digest": ["boss@shop.example"],
            "weekly_report": ["boss@shop.example"],
        },
        "supervisors": ["supervisor@shop.example"],
        "group_window_minutes": 5,
    }
    cfg.update(alerts)
    smtp: dict[str, Any] = {"sender": "shopmon@shop.example"}
    if port is not None:
        smtp |= {"host": "127.0.0.1", "port": port, "security": "none", "timeout_seconds": 5}
    extra = {"database_url": database_url} if database_url else {}
    return load_settings(data_dir=tmp_path / "data", alerts=cfg, smtp=smtp, **extra)


@pytest.fixture
def alert_settings(tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    from monitor.db import upgrade

    s = make_settings(tmp_path, smtp_server.port)
    upgrade(s)
    return s


class Factory:
    """Inserts shops, listings, reviews and flags directly, the way crawl and detection would."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def shop(self, name: str = "Tea House") -> Shop:
        shop = Shop(platform="taobao", external_id=f"shop{self._next()}", config_id="tea", name=name, url="https://shop.example/")
        self.session.add(shop)
        self.session.flush()
        return shop

    def listing(self, shop: Shop, *, title: str = "Longjing green tea 250g", sales: int | None = 50, url: str | None = None) -> Listing:
        n = self._next()
        listing = Listing(
            platform="taobao", external_id=f"item{n}", shop_id=shop.id, title=title, sales=sales,
            url=url or f"https://item.shop.example/{n}",
        )
        self.session.add(listing)
        self.session.flush()
        return listing

    def reviewer(self, nick: str = "b***r") -> Reviewer:
        r = Reviewer(platform="taobao", external_id=f"u{self._next()}", nick=nick)
        self.session.add(r)
        self.session.flush()
        return r

    def review(
        self,
        listing: Listing,
        *,
        rating: int = 1,
        text: str = "Tea was stale and the box was crushed.",
        nick: str = "b***r",
        reviewer: Reviewer | None = None,
        helpful_votes: int | None = None,
        photos: list[str] | None = None,
        at: datetime = T0,
    ) -> Review:
        reviewer = reviewer or self.reviewer(nick)
        review = Review(
            platform="taobao", external_id=f"rv{self._next()}", listing_id=listing.id, shop_id=listing.shop_id,
            reviewer_id=reviewer.id, reviewer_nick=nick, rating=rating, text=text, created_at=at,
            helpful_votes=helpful_votes, photos=photos or [], first_seen=at, last_seen=at,
        )
        self.session.add(review)
        self.session.flush()
        return review

    def flag(self, kind: str, *, target_type: str, target_id: int, score: float = 0.95, **kw: Any) -> Flag:
        flag = Flag(kind=kind, target_type=target_type, target_id=target_id, score=score, model_version="test-1",
                    reasons=kw.pop("reasons", [f"{kind} pattern"]), created_at=kw.pop("created_at", T0), **kw)
        self.session.add(flag)
        self.session.flush()
        return flag

    def case_for(self, review: Review) -> Case:
        from sqlmodel import select

        return self.session.exec(select(Case).where(Case.review_id == review.id)).one()


@pytest.fixture
def factory(session: Session) -> Factory:
    return Factory(session)


@pytest.fixture
def db_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], session: Session, db_settings: Settings):
    """Run ``shopmon ARGS`` against the test's database (commit the session first): (exit code, stdout, stderr)."""
    from monitor.cli import main

    monkeypatch.setenv("SHOPMON_DATA_DIR", str(db_settings.data_dir))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
