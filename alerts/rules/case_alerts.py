"""Alerts about cases: new serious cases, reminders while they stay open, escalations when they stall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists
from sqlmodel import Session, func, select

from models.alerts import Alert
from models.cases import Case, CaseEvent
from models.catalog import Listing, Shop
from models.reviews import Review

from alerts.callwindows import next_call_time
from alerts.cases import SERIOUS_SEVERITIES, SYSTEM_ACTOR, needs_action
from alerts.inhibition import due_for_escalation, escalation_reason, next_step, not_inhibited
from alerts.rules.queue import AlertQueue, iso
from alerts.silences import AlertSubject
from monitor.config import Settings

TEXT_PREVIEW = 500


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
        "review_at": iso(review.created_at) if review else None,
        "severity": case.severity,
        "cause": case.cause,
        "kinds": list(case.kinds),
        "state": case.state,
        "contact_status": case.contact_status,
        "owner": case.owner,
        "guidance": case.guidance,
        "opened_at": iso(case.opened_at),
        "last_progress_at": iso(case.last_progress_at),
        "promised_by": iso(case.promised_by),
        # one complete crawl did not show the review: staff check the listing (alerts.changes)
        "review_missing_since": iso(review.missing_since) if review and review.deleted_at is None else None,
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
    q: AlertQueue,
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


def serious_cases(q: AlertQueue) -> None:
    if q.unrouted("serious_case"):
        return
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


def reminders(q: AlertQueue) -> None:
    """Still-open serious cases get a reminder every ``repeat_hours`` after their first alert."""
    if q.unrouted("serious_case"):
        return
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


def escalations(q: AlertQueue) -> None:
    """No progress for ``escalation_hours``, a broken promise or an appeal past its limit escalates a
    case once per stall (alerts.inhibition); a call is asked for inside the shop's call windows."""
    if q.unrouted("escalation") or not in_business_hours(q.settings, q.now):
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
