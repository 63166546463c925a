"""`shopmon demo`: the whole pipeline on a local marketplace built from the project's fixtures.

crawl (real spiders, subprocess) → store → detect → cases → alert emails in a local outbox.
Nothing leaves 127.0.0.1 and nothing outside the demo directory is touched.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import func, select

from monitor.accounts import add_user, new_password
from monitor.config import Settings, load_settings
from monitor.errors import ShopmonError

#: Where `shopmon web` listens by default; the demo's emails link their cases there.
DEMO_BOARD = "http://127.0.0.1:8000"
DEMO_USER = "demo"
DEMO_RECIPIENTS = {
    "serious_case": ["aftersales@demo.shopmon.invalid"],
    "attack": ["aftersales@demo.shopmon.invalid"],
    "escalation": ["aftersales-lead@demo.shopmon.invalid"],
    "image_mismatch": ["catalogue@demo.shopmon.invalid"],
    "crawl_health": ["ops@demo.shopmon.invalid"],
    "daily_digest": ["aftersales-lead@demo.shopmon.invalid"],
    "weekly_report": ["owner@demo.shopmon.invalid"],
}


@dataclass
class DemoResult:
    data_dir: Path
    database: str = ""  # where the demo's data really is (a file path, or a URL without its password)
    base_url: str = ""
    crawls: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    flags_by_kind: dict[str, int] = field(default_factory=dict)
    cases_by_severity: dict[str, int] = field(default_factory=dict)
    emails: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    login: tuple[str, str] = ("", "")

    def summary_lines(self) -> list[str]:
        c = self.counts
        lines = [
            f"shopmon demo finished in {self.seconds:.1f} s (marketplace at {self.base_url})",
            f"  crawls:      {len(self.crawls)} ("
            + ", ".join(f"{r['shop']}: {r['status']}, {r['requests']} requests" for r in self.crawls)
            + ")",
            f"  stored:      {c.get('listings', 0)} listings, {c.get('reviews', 0)} reviews, "
            f"{c.get('reviewers', 0)} reviewers, {c.get('images', 0)} images",
            "  flags:       "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.flags_by_kind.items())) or "none"),
            f"  cases:       {c.get('cases', 0)} opened ("
            + ", ".join(f"{k} {v}" for k, v in sorted(self.cases_by_severity.items()))
            + ")",
            f"  alerts:      {c.get('alerts', 0)} queued, {len(self.emails)} emails written",
            "",
            f"  database:    {self.database}",
            f"  emails:      {self.data_dir / 'outbox'}",
            f"  try:         shopmon --config {self.data_dir / 'shopmon.toml'} cases list",
            "",
            f"  case board:  shopmon --config {self.data_dir / 'shopmon.toml'} web",
            f"               then open {DEMO_BOARD}/ and sign in as {self.login[0]} "
            f"(password {self.login[1]}, role admin)",
        ]
        return lines


def _fresh_dir(path: Path) -> None:
    marker = path / ".shopmon-demo"
    if path.exists() and any(path.iterdir()) and not marker.exists():
        raise ShopmonError(f"{path} exists and was not made by `shopmon demo`; choose another --data-dir")
    if path.exists():
        from monitor.db import dispose_engines

        dispose_engines()  # pooled connections would keep writing to the deleted file
        shutil.rmtree(path)
    path.mkdir(parents=True)
    marker.write_text("made by shopmon demo; safe to delete\n", encoding="utf-8")


def _write_config(settings: Settings, path: Path) -> None:
    """A config file so the user can keep exploring the demo database with the CLI."""
    import json

    lines = [f"data_dir = {json.dumps(str(settings.data_dir))}"]
    if settings.database_url and make_url(settings.database_url).password is None:
        lines.append(f"database_url = {json.dumps(settings.database_url)}")
    elif settings.database_url:
        lines.append("# database_url: set SHOPMON_DATABASE_URL (a password never goes into this file)")
    lines.append("")
    for shop in settings.shops:
        lines += [
            "[[shops]]",
            f"id = {json.dumps(shop.id)}",
            f"platform = {json.dumps(shop.platform)}",
            f"url = {json.dumps(str(shop.url))}",
            *([f"language = {json.dumps(shop.language)}"] if shop.language else []),
            *([f"timezone = {json.dumps(shop.timezone)}"] if shop.timezone else []),
            "",
        ]
    lines += ["[detection]", f"case_max_age_days = {settings.detection.case_max_age_days:g}", ""]
    lines += ["[web]", f"base_url = {json.dumps(str(settings.web.base_url))}", ""]
    lines.append("[alerts.recipients]")
    for kind, addrs in settings.alerts.recipients.items():
        lines.append(f"{kind} = {json.dumps(addrs)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _count(session, model) -> int:  # noqa: ANN001
    return session.exec(select(func.count()).select_from(model)).one()


def _demo_database(data_dir: Path, database_url: str | None) -> tuple[str | None, str]:
    """(database_url for the settings, where to tell the user the data is).

    The demo's own fresh SQLite file unless a database is named explicitly: a SHOPMON_DATABASE_URL
    left in the environment for real work must not receive demo shops.
    """
    if database_url is None:
        path = data_dir / "shopmon.db"
        return f"sqlite:///{path}", str(path)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return database_url, str(Path(url.database).resolve())
    return database_url, url.render_as_string(hide_password=True)


def _refuse_used_database(settings: Settings, shown: str) -> None:
    from models import Review
    from monitor.db import session_scope

    with session_scope(settings) as session:
        if _count(session, Review):
            raise ShopmonError(f"database {shown} already holds reviews; the demo needs an empty one "
                               "(or leave out --database-url for its own fresh SQLite file)")


def run_demo(data_dir: Path, progress: Callable[[str], None] = lambda _m: None, *,
             database_url: str | None = None) -> DemoResult:
    from alerts.sender import send_pending
    from models import Alert, Case, Flag, Listing, ListingImage, Review, Reviewer
    from monitor.crawl import crawl_shop
    from monitor.db import ensure_schema, session_scope
    from monitor.demo_site.server import serve_marketplace
    from monitor.pipeline import process

    started = time.perf_counter()
    data_dir = data_dir.resolve()
    _fresh_dir(data_dir)
    url, shown = _demo_database(data_dir, database_url)
    result = DemoResult(data_dir=data_dir, database=shown)

    with serve_marketplace() as market:
        result.base_url = market.base_url
        settings = load_settings(
            data_dir=data_dir,
            shops=market.shops(),
            # group_window_minutes=0: the demo sends right after evaluating, not after a 5-minute window.
            alerts={"recipients": DEMO_RECIPIENTS, "supervisors": ["supervisor@demo.shopmon.invalid"],
                    "group_window_minutes": 0},
            # The local marketplace is ours: no need to wait between requests.
            crawl={"download_delay": 0, "autothrottle": False, "concurrency_per_domain": 8},
            # The demo shops' reviews have fixed dates (August to November 2026): without an age
            # limit the demo opens the same cases whatever the date it runs on.
            detection={"case_max_age_days": 0},
            web={"base_url": DEMO_BOARD},
        )
        # Set after loading: the environment beats arguments in load_settings, and a
        # SHOPMON_DATABASE_URL kept for real work must not receive the demo's shops.
        settings = settings.model_copy(update={"database_url": url})
        _write_config(settings, data_dir / "shopmon.toml")
        progress("creating the database")
        ensure_schema(settings)
        if database_url is not None:
            _refuse_used_database(settings, shown)
        for shop in settings.shops:
            progress(f"crawling {shop.id} ({shop.platform}) in a subprocess")
            run = crawl_shop(settings, shop)
            result.crawls.append(
                {"shop": shop.id, "status": run.status, "requests": run.requests, "failure": run.failure_kind}
            )

    progress("detecting abuse, checking listing images, opening cases")
    process(settings)
    progress("rendering alert emails")
    send_pending(settings)

    with session_scope(settings) as session:
        result.counts = {
            "listings": _count(session, Listing),
            "reviews": _count(session, Review),
            "reviewers": _count(session, Reviewer),
            "images": session.exec(
                select(func.count()).select_from(ListingImage).where(ListingImage.local_path.is_not(None))
            ).one(),
            "cases": _count(session, Case),
            "alerts": _count(session, Alert),
        }
        result.flags_by_kind = dict(Counter(session.exec(select(Flag.kind)).all()))
        result.cases_by_severity = dict(Counter(session.exec(select(Case.severity)).all()))
        # A fresh random password each run: the demo database may be left on a shared machine.
        result.login = (DEMO_USER, new_password())
        add_user(session, DEMO_USER, result.login[1], role="admin")
    result.emails = sorted(settings.outbox_path.glob("**/*.eml"))
    result.seconds = time.perf_counter() - started
    failed = [r for r in result.crawls if r["status"] != "ok"]
    if failed:
        raise ShopmonError(
            "demo crawl failed: " + ", ".join(f"{r['shop']} ({r['failure']})" for r in failed)
        )
    return result
