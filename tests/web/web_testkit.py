"""Helpers for the board tests: a seeded database, signed-in HTTP clients and a live server.

Imported by each test module (a conftest.py's module name clashes across test folders)."""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from alerts.cases import open_cases
from models import Alert, AlertAttempt, CrawlRun, Flag, Listing, ListingImage, Review, Reviewer, ReviewRevision, Shop
from monitor.accounts import add_user
from monitor.config import Settings, load_settings
from monitor.db import session_scope, upgrade

NOW = datetime.now(UTC).replace(microsecond=0)
XSS = '<script>alert("xss")</script><img src=x onerror="alert(1)"> 质量太差'
PASSWORDS = {"amy": "amy-password-1", "sam": "sam-password-1", "ann": "ann-password-1", "ada": "ada-password-1"}
ROLES = {"amy": "staff", "sam": "supervisor", "ann": "analyst", "ada": "admin"}
# A 1x1 PNG: enough for an <img> to load.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8"
    "cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


@dataclass
class Seeded:
    settings: Settings
    shop_id: int
    listing_id: int
    attack_flag_id: int
    mismatch_flag_id: int
    xss_case_id: int
    critical_case_id: int


def web_settings(tmp_path: Path, **extra: object) -> Settings:
    return load_settings(data_dir=tmp_path / "data", web={"secret_key": "k" * 40}, **extra)


def seed(settings: Settings) -> Seeded:
    """A shop with an extortion review, a four-review attack, a cause, a listing whose pictures do
    not match, an alert with a failed attempt, crawl runs and one user per role."""
    upgrade(settings)
    with session_scope(settings) as s:
        shop = Shop(platform="taobao", external_id="shop-1", config_id="demo-tb", name="示例店")
        s.add(shop)
        s.flush()
        listing = Listing(platform="taobao", external_id="605258110430", title="夏季连衣裙", shop_id=shop.id,
                          sales=1500, url="http://127.0.0.1/item/605258110430")
        s.add(listing)
        s.flush()
        images = settings.images_path
        images.mkdir(parents=True, exist_ok=True)
        (images / "main.png").write_bytes(PNG)
        s.add(ListingImage(listing_id=listing.id, url="http://127.0.0.1/img/main.png", role="main",
                           local_path=str(images / "main.png")))
        s.add(ListingImage(listing_id=listing.id, url="http://127.0.0.1/img/buyer.png", role="buyer",
                           local_path=str(images / "main.png")))
        texts = [(XSS, 1), ("不给我退款就继续差评，给钱我就删", 1)] + [(f"垃圾店铺 骗子 {i}", 2) for i in range(4)] + [
            ("做工很差，线头很多", 3)]
        reviews = []
        for i, (text, rating) in enumerate(texts):
            reviewer = Reviewer(platform="taobao", external_id=f"buyer-{i}", nick=f"买家{i}")
            s.add(reviewer)
            s.flush()
            r = Review(platform="taobao", external_id=f"rv-{i}", reviewer_nick=reviewer.nick, rating=rating, text=text,
                       created_at=NOW - timedelta(hours=60 - i), listing_id=listing.id, shop_id=shop.id,
                       reviewer_id=reviewer.id, photos=["http://127.0.0.1/img/buyer.png"] if i == 0 else [])
            s.add(r)
            reviews.append(r)
        s.flush()
        s.add(ReviewRevision(review_id=reviews[0].id, change="edited", old_rating=2, old_text="原来的评价"))
        s.add(Flag(kind="malicious", target_type="review", target_id=reviews[1].id, review_id=reviews[1].id,
                   score=0.97, model_version="malicious@1", reasons=["demands money to change the review"],
                   shop_id=shop.id, listing_id=listing.id))
        attack = Flag(kind="attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                      shop_id=shop.id, score=0.9, model_version="attacks@1",
                      members=[r.id for r in reviews[2:6]], reasons=["4 one-line reviews within 3 hours"])
        s.add(attack)
        s.add(Flag(kind="cause", target_type="review", target_id=reviews[6].id, review_id=reviews[6].id,
                   label="quality", score=0.8, model_version="cause@1", reasons=["做工", "线头"], shop_id=shop.id))
        mismatch = Flag(kind="image_mismatch", target_type="listing", target_id=listing.id, listing_id=listing.id,
                        shop_id=shop.id, score=0.81, model_version="listing-images@1",
                        reasons=["buyers' photos show a different colour"])
        s.add(mismatch)
        s.flush()
        open_cases(s, settings, now=NOW - timedelta(hours=50))
        alert = Alert(kind="serious_case", dedup_key="serious:1", group_key="g", recipients=["a@example.com"],
                      payload={"case_id": 1}, status="pending", attempts=1)
        s.add(alert)
        s.flush()
        s.add(AlertAttempt(alert_id=alert.id, transport="smtp", ok=False, temporary=True,
                           error="connection refused"))
        s.add(CrawlRun(shop_id=shop.id, shop_config_id="demo-tb", spider="taobao", status="ok",
                       finished_at=NOW, requests=12, reviews_new=7))
        s.add(CrawlRun(shop_id=shop.id, shop_config_id="demo-tb", spider="taobao", status="failed",
                       failure_kind="captcha", error="slider captcha", finished_at=NOW))
        for name, password in PASSWORDS.items():
            add_user(s, name, password, role=ROLES[name])
        s.flush()
        from sqlmodel import select

        from models import Case

        xss_case = s.exec(select(Case).where(Case.review_id == reviews[0].id)).one()
        critical = s.exec(select(Case).where(Case.review_id == reviews[1].id)).one()
        return Seeded(settings, shop.id, listing.id, attack.id, mismatch.id, xss_case.id, critical.id)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def sign_in(client, name: str, password: str | None = None):  # noqa: ANN001, ANN201
    page = client.get("/login")
    r = client.post("/login", data={"name": name, "password": password or PASSWORDS[name],
                                    "csrf": csrf_of(page.text), "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The board under uvicorn on 127.0.0.1 in a thread (what a browser test talks to)."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from monitor.web.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        for _ in range(600):  # started is set once the socket listens; bounded wait
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.05)
        if not self.server.started:
            raise RuntimeError("the board did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed(web_settings(tmp_path))


@pytest.fixture
def app(seeded: Seeded):  # noqa: ANN201
    from monitor.web.app import create_app

    return create_app(seeded.settings)


@pytest.fixture
def client_for(app):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    clients = []

    def make(name: str | None = None):  # noqa: ANN202
        c = TestClient(app)
        clients.append(c)
        return sign_in(c, name) if name else c

    yield make
    for c in clients:
        c.close()


BAD = ["pay me or I post more", "refund or I report you", "I will ruin your shop", "give money or else",
       "threaten to expose you", "pay or one star forever"]
GOOD = ["arrived late, box dented", "colour differs from photo", "missing one screw", "rude service reply",
        "quality is poor", "size runs small"]


def add_models(settings: Settings) -> tuple[str, str]:
    """A good live malicious model and a worse candidate (trained on flipped labels), both with held-out rows."""
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from monitor.registry import registry_for

    frame = pd.DataFrame({"text": BAD + GOOD, "label": [1] * len(BAD) + [0] * len(GOOD)})
    reg = registry_for(settings)
    versions = []
    for labels in (frame.label, 1 - frame.label):
        model = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10)).fit(frame.text, labels)
        versions.append(reg.save("malicious", model, metrics={"average_precision": 0.9}, params={"input_columns": ["text"]},
                                 thresholds={"1": 0.5}, data_fingerprint="sha256:x", holdout=frame))
    return versions[0], versions[1]
