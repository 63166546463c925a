"""Alert rules: turn cases, flags and crawl runs into Alert rows. Nothing here sends mail.

Noise control follows Alertmanager: every alert carries a ``dedup_key`` (unique in the
table, so the same review never alerts twice) and a ``group_key`` (alerts sharing it go
out as one email once their group window closes). Silences are applied when the row is
written: a silenced alert is stored as ``suppressed`` so the record shows it happened.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, insert
from sqlmodel import Session, func, select

from models.alerts import Alert
from models.base import utcnow
from models.cases import Case, CaseEvent
from models.catalog import Listing, Shop
from models.crawl import CrawlRun
from models.detection import Flag
from models.reviews import Review

from alerts.callwindows import next_call_time
from alerts.cases import SERIOUS_SEVERITIES, SYSTEM_ACTOR, needs_action
from alerts.inhibition import due_for_escalation, escalation_reason, next_step, not_inhibited
from alerts.reports import report_period, report_stats
from alerts.silences import AlertSubject, active_silences, matching_silence
from monitor.config import Settings
from monitor.errors import DataError
from monitor.in_lists import in_filters

log = logging.getLogger(__name__)

REPORT_KINDS = ("daily_digest", "weekly_report")
MEMBER_PREVIEW = 20
TEXT_PREVIEW = 500


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
class _Queue:
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

    def existing(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for where in in_filters(Alert.dedup_key, keys):
            found.update(self.session.exec(select(Alert.dedup_key).where(where)).all())
        return found | {k for k in keys if k in self._pending}

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
            log.warning("no recipients configured for %s alerts; %s not queued", kind, dedup_key)
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
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as upsert
        else:
            upsert = None
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            if upsert is None:
                self.session.execute(insert(Alert), chunk)
                written = {row["dedup_key"] for row in chunk}
            else:
                stmt = upsert(Alert).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(Alert.dedup_key)
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _case_payload(case: Case, review: Review | None, listing: Listing | None, shop: Shop | None) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "review_id": case.review_id,
        "shop_id": case.shop_id,
        "shop_name": (shop.name or shop.config_id or shop.external_id) if shop else None,
        "shop_config_id": shop.config_id if shop else None,  # picks the shop's language and time zone
        "listing_id": case.listing_id,
        "listing_url": listing.url if listing else None,
        "item_title": case.item_title,
        "reviewer_id": review.reviewer_id if review else None,
        "buyer_nick": case.buyer_nick,
        "rating": case.rating,
        "review_text": (case.review_text or "")[:TEXT_PREVIEW],
        "review_at": _iso(review.created_at) if review else None,
        "severity": case.severity,
        "cause": case.cause,
        "kinds": list(case.kinds),
        "state": case.state,
        "contact_status": case.contact_status,
        "owner": case.owner,
        "guidance": case.guidance,
        "opened_at": _iso(case.opened_at),
        "last_progress_at": _iso(case.last_progress_at),
        "promised_by": _iso(case.promised_by),
        # one complete crawl did not show the review: staff check the listing (alerts.changes)
        "review_missing_since": _iso(review.missing_since) if review and review.deleted_at is None else None,
    }


def _case_rows(session: Session, *conditions: Any) -> list[tuple[Case, Review | None, Listing | None, Shop | None]]:
    query = (
        select(Case, Review, Listing, Shop)
        .outerjoin(Review, Review.id == Case.review_id)
        .outerjoin(Listing, Listing.id == Case.listing_id)
        .outerjoin(Shop, Shop.id == Case.shop_id)
        .where(*conditions)
        .order_by(Case.id)
    )
    return list(session.exec(query).all())


def _add_case_alert(
    q: _Queue,
    kind: str,
    key: str,
    scope: str,
    row: tuple[Case, Review | None, Listing | None, Shop | None],
    extra: dict[str, Any] | None = None,
    *,
    severity: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Stage an alert about one case (new, reminder or escalation); severity defaults to the case's."""
    case, review, listing, shop = row
    payload = _case_payload(case, review, listing, shop) | (extra or {})
    return q.add(
        kind=kind,
        dedup_key=key,
        scope=scope,
        payload=payload,
        severity=severity or case.severity,
        subject=AlertSubject(kind, case.shop_id, case.listing_id, payload["reviewer_id"]),
        case_id=case.id,
        not_before=not_before,
    )


def _serious_cases(q: _Queue) -> None:
    already = exists().where(Alert.case_id == Case.id, Alert.kind == "serious_case")
    rows = _case_rows(q.session, Case.severity.in_(SERIOUS_SEVERITIES), needs_action(), ~already)
    keyed = [
        (f"serious_case:review:{row[0].review_id}" if row[0].review_id else f"serious_case:case:{row[0].id}", row)
        for row in rows
    ]
    done = q.existing([k for k, _ in keyed])
    for key, row in keyed:
        if key not in done:
            _add_case_alert(q, "serious_case", key, f"shop{row[0].shop_id}", row)


def _reminders(q: _Queue) -> None:
    """Still-open serious cases get a reminder every ``repeat_hours`` after their first alert."""
    every = timedelta(hours=q.settings.alerts.repeat_hours)
    first_alert = (
        select(func.min(Alert.created_at))
        .where(Alert.case_id == Case.id, Alert.kind == "serious_case")
        .correlate(Case)
        .scalar_subquery()
    )
    rows = q.session.exec(
        select(Case, Review, Listing, Shop, first_alert)
        .outerjoin(Review, Review.id == Case.review_id)
        .outerjoin(Listing, Listing.id == Case.listing_id)
        .outerjoin(Shop, Shop.id == Case.shop_id)
        .where(Case.severity.in_(SERIOUS_SEVERITIES), needs_action(), not_inhibited(q.settings, q.now),
               first_alert <= q.now - every)
        .order_by(Case.id)
    ).all()
    wanted: dict[str, tuple[int, Any]] = {}
    for case, review, listing, shop, first_at in rows:
        first_at = first_at if first_at.tzinfo else first_at.replace(tzinfo=UTC)
        n = int((q.now - first_at) / every)
        wanted[f"serious_case:case:{case.id}:repeat:{n}"] = (n, (case, review, listing, shop))
    done = q.existing(list(wanted))
    for key, (n, (case, review, listing, shop)) in wanted.items():
        if key in done:
            continue
        _add_case_alert(
            q, "serious_case", key, f"shop{case.shop_id}:reminder", (case, review, listing, shop), {"reminder": n}
        )


def in_business_hours(settings: Settings, now: datetime) -> bool:
    hours = settings.alerts.business_hours
    if hours is None:
        return True
    local = now.astimezone(ZoneInfo(settings.alerts.timezone)).time().replace(tzinfo=None)
    start, end = hours
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # a window across midnight


def _escalations(q: _Queue) -> None:
    """No progress for ``escalation_hours``, a broken promise or an appeal past its limit escalates a
    case once per stall (alerts.inhibition); a call is asked for inside the shop's call windows."""
    if not in_business_hours(q.settings, q.now):
        return
    hours = q.settings.alerts.escalation_hours
    rows = _case_rows(
        q.session,
        needs_action(),
        Case.escalated_at.is_(None),
        not_inhibited(q.settings, q.now),
        due_for_escalation(q.settings, q.now),
    )
    keyed = [(f"escalation:case:{row[0].id}:{row[0].last_progress_at.isoformat()}", row) for row in rows]
    done = q.existing([k for k, _ in keyed])
    for key, (case, review, listing, shop) in keyed:
        if key in done:
            continue
        why = escalation_reason(case, q.now)
        step = next_step(case)
        limit = q.settings.alerts.appeal_limit_hours if why == "appeal" else hours
        if why == "promise":
            reason = f"the buyer promised to update the review by {case.promised_by:%Y-%m-%d %H:%M} UTC"
        elif why == "appeal":
            reason = f"the platform appeal has had no step for {limit:g} h since {case.last_progress_at:%Y-%m-%d %H:%M} UTC"
        else:
            reason = f"no progress for {hours:g} h since {case.last_progress_at:%Y-%m-%d %H:%M} UTC"
        send_at = None
        if step == "phone":
            zone = q.settings.locale_for(shop.config_id if shop else None).timezone
            send_at = next_call_time(q.now, q.settings.alerts.call_windows, zone)
        queued = _add_case_alert(
            q,
            "escalation",
            key,
            f"shop{case.shop_id}",
            (case, review, listing, shop),
            {"reason": reason, "broken_promise": why == "promise", "appeal_overdue": why == "appeal",
             "next_step": step, "hours": limit},
            severity="critical" if case.severity == "critical" else "high",
            not_before=send_at,
        )
        if queued:
            q.on_written(key, partial(_mark_escalated, q.session, case, q.now, reason, step))


def _mark_escalated(session: Session, case: Case, now: datetime, reason: str, next_step: str) -> None:
    case.escalated_at = now
    session.add(case)
    session.add(
        CaseEvent(case_id=case.id, at=now, actor=SYSTEM_ACTOR, action="escalated", note=reason, data={"next_step": next_step})
    )


def _names(session: Session, shop_ids: set[int], listing_ids: set[int]) -> tuple[dict[int, Shop], dict[int, Listing]]:
    shops = {s.id: s for s in session.exec(select(Shop).where(Shop.id.in_(shop_ids))).all()} if shop_ids else {}
    listings = (
        {x.id: x for x in session.exec(select(Listing).where(Listing.id.in_(listing_ids))).all()} if listing_ids else {}
    )
    return shops, listings


def _preview(flag: Flag) -> list[int]:
    """The member reviews an alert shows: the first ones, or for a later incident the newest."""
    return flag.members[-MEMBER_PREVIEW:][::-1] if flag.incident else flag.members[:MEMBER_PREVIEW]


def _flag_alerts(q: _Queue, kind: Literal["attack", "image_mismatch"]) -> None:
    flags = list(q.session.exec(select(Flag).where(Flag.kind == kind, Flag.status != "rejected").order_by(Flag.id)).all())
    # A later, separate attack on the same target (Flag.incident) is news: it gets its own key.
    keys = {f"{kind}:flag:{f.id}" + (f":incident{f.incident}" if f.incident else ""): f for f in flags}
    done = q.existing(list(keys))
    todo = [(k, f) for k, f in keys.items() if k not in done]
    if not todo:
        return
    listing_ids = {f.listing_id or (f.target_id if f.target_type == "listing" else None) for _, f in todo} - {None}
    shops, listings = _names(q.session, {f.shop_id for _, f in todo if f.shop_id}, listing_ids)  # type: ignore[arg-type]
    member_ids = sorted({m for _, f in todo for m in _preview(f)})
    members = (
        {r.id: r for r in q.session.exec(select(Review).where(Review.id.in_(member_ids))).all()} if member_ids else {}
    )
    for key, flag in todo:
        listing_id = flag.listing_id or (flag.target_id if flag.target_type == "listing" else None)
        listing = listings.get(listing_id) if listing_id else None
        shop_id = flag.shop_id or (listing.shop_id if listing else None)
        shop = shops.get(shop_id) if shop_id else None
        payload: dict[str, Any] = {
            "flag_id": flag.id,
            "target_type": flag.target_type,
            "target_id": flag.target_id,
            "shop_id": shop_id,
            "shop_name": (shop.name or shop.config_id or shop.external_id) if shop else None,
            "shop_config_id": shop.config_id if shop else None,
            "listing_id": listing_id,
            "item_title": listing.title if listing else None,
            "listing_url": listing.url if listing else None,
            "score": round(float(flag.score), 3),
            "label": flag.label,
            "model_version": flag.model_version,
            "reasons": list(flag.reasons),
        }
        if kind == "attack":
            payload["member_count"] = len(flag.members)
            payload["members"] = [
                {
                    "review_id": m,
                    "buyer_nick": members[m].reviewer_nick,
                    "rating": members[m].rating,
                    "text": (members[m].text or "")[:200],
                    "at": _iso(members[m].created_at or members[m].first_seen),
                }
                for m in _preview(flag)
                if m in members
            ]
        q.add(
            kind=kind,
            dedup_key=key,
            scope=f"shop{shop_id}",
            payload=payload,
            severity="critical" if kind == "attack" else "medium",
            subject=AlertSubject(kind, shop_id, listing_id, flag.reviewer_id),
            # An attack is worth interrupting for; a picture mismatch can wait for its group.
            immediate=kind == "attack",
        )


_SECRET_HEADER = re.compile(r"(?i)\b(cookie|set-cookie|authorization|proxy-authorization)(\s*[:=]\s*).*$")
_SECRET_VALUE = re.compile(r"(?i)\b(password|passwd|token|session(?:id)?|sid|api[_-]?key)(\s*[:=]\s*)[^\s;&]+")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def scrub_error(error: str | None) -> str | None:
    """First line of a crawl error with secrets masked: spider errors can quote headers and URLs."""
    if not error or not error.strip():
        return None
    line = error.strip().splitlines()[0][:300]
    line = _SECRET_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", line)
    line = _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", line)
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}[redacted]@", line)


def _crawl_health(q: _Queue) -> None:
    runs = list(q.session.exec(
        select(CrawlRun).where(CrawlRun.status.in_(("failed", "interrupted"))).order_by(CrawlRun.id)
    ).all())
    keys = {f"crawl_health:run:{r.id}": r for r in runs}
    done = q.existing(list(keys))
    todo = [(k, r) for k, r in keys.items() if k not in done]
    if not todo:
        return
    shops, _ = _names(q.session, {r.shop_id for _, r in todo if r.shop_id}, set())
    for key, run in todo:
        shop = shops.get(run.shop_id) if run.shop_id else None
        payload = {
            "run_id": run.id,
            "shop_id": run.shop_id,
            "shop_name": (shop.name or shop.config_id) if shop else run.shop_config_id,
            "shop_config_id": run.shop_config_id,
            "spider": run.spider,
            "failure_kind": run.failure_kind or "error",
            "error": scrub_error(run.error),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "requests": run.requests,
            "listings_seen": run.listings_seen,
            "reviews_new": run.reviews_new,
        }
        q.add(
            kind="crawl_health",
            dedup_key=key,
            scope=f"shop{run.shop_id or run.shop_config_id}",
            payload=payload,
            severity="high" if run.failure_kind in ("blocked", "captcha", "login") else "medium",
            subject=AlertSubject("crawl_health", run.shop_id),
        )


def _ops_alert(q: _Queue, failure_kind: str, error: str, key_detail: str) -> None:
    """Stage a crawl-health alert about shopmon itself; one per ``key_detail`` per day."""
    line = scrub_error(error) or failure_kind
    key = f"crawl_health:{failure_kind}:{key_detail}:{q.now:%Y%m%d}"
    if q.existing([key]):
        return
    payload = {"job_id": failure_kind, "failure_kind": failure_kind, "error": line, "scheduled_for": _iso(q.now)}
    q.add(kind="crawl_health", dedup_key=key, scope=failure_kind, payload=payload, severity="high",
          subject=AlertSubject("crawl_health"), immediate=True)


def queue_ops_alert(
    session: Session, settings: Settings, *, failure_kind: str, error: str, now: datetime | None = None
) -> int:
    """A crawl-health alert for a problem outside any one crawl (e.g. an untrusted live model).

    One per distinct error per day, so a scheduler retrying every few minutes mails once.
    """
    q = _Queue(session, settings, now or utcnow())
    _ops_alert(q, failure_kind, error, hashlib.sha256((scrub_error(error) or "").encode()).hexdigest()[:16])
    q.write()
    session.flush()
    return q.queued


def queue_job_alert(
    session: Session, settings: Settings, *, job_id: str, scheduled_for: datetime, failure_kind: str,
    error: str | None, now: datetime | None = None,
) -> int:
    """A scheduled job that failed outside any crawl (a crawl's failed CrawlRun alerts by itself).

    Through the same queue as every other alert, so silences, grouping and secret scrubbing apply.
    """
    q = _Queue(session, settings, now or utcnow())
    key = f"crawl_health:job:{job_id}:{scheduled_for.isoformat()}"
    if q.existing([key]):
        return 0
    payload: dict[str, Any] = {"job_id": job_id, "failure_kind": failure_kind, "error": scrub_error(error),
                               "scheduled_for": _iso(scheduled_for)}
    shop_id = None
    if job_id.startswith("crawl:"):
        payload["shop_config_id"] = job_id.removeprefix("crawl:")
        shop_id = session.exec(select(Shop.id).where(Shop.config_id == payload["shop_config_id"])).first()
    q.add(kind="crawl_health", dedup_key=key, scope="scheduler", payload=payload, severity="medium",
          subject=AlertSubject("crawl_health", shop_id))
    q.write()
    session.flush()
    return q.queued


def _delivery_failures(q: _Queue) -> None:
    """Alerts that failed for good reach ops through the crawl-health route (once a day)."""
    failed = q.session.exec(
        select(func.count()).select_from(Alert).where(Alert.status == "failed", Alert.kind != "crawl_health")
    ).one()
    if not failed:
        return
    last = q.session.exec(
        select(Alert.last_error).where(Alert.status == "failed", Alert.kind != "crawl_health")
        .order_by(Alert.id.desc()).limit(1)
    ).first()
    _ops_alert(q, "alerts_failed", f"{failed} alert email(s) failed for good (`shopmon alerts retry --failed` "
               f"re-queues them); last error: {last or '-'}", "all")


def evaluate(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """Write Alert rows for everything that needs telling; returns how many were queued (not suppressed)."""
    q = _Queue(session, settings, now or utcnow())
    _serious_cases(q)
    _reminders(q)
    _flag_alerts(q, "attack")
    _escalations(q)
    _flag_alerts(q, "image_mismatch")
    _crawl_health(q)
    _delivery_failures(q)
    q.write()
    session.flush()
    if q.suppressed:
        log.info("%d alert(s) suppressed by silences", q.suppressed)
    return q.queued


def queue_report(
    session: Session,
    settings: Settings,
    kind: Literal["daily_digest", "weekly_report"],
    *,
    now: datetime | None = None,
) -> int:
    """Queue the digest/report for the period ending at ``now``; 0 if that period's was already queued."""
    if kind not in REPORT_KINDS:
        raise DataError(f"unknown report kind {kind!r}; choose daily_digest or weekly_report")
    now = now or utcnow()
    period = report_period(settings, kind, now)
    q = _Queue(session, settings, now)
    key = f"{kind}:{period.label}"
    if q.existing([key]):
        return 0
    payload = report_stats(session, settings, period, now=now)
    q.add(
        kind=kind,
        dedup_key=key,
        scope=period.label,
        payload=payload,
        severity="low",
        subject=AlertSubject(kind),
        immediate=True,
    )
    q.write()
    session.flush()
    return q.queued
