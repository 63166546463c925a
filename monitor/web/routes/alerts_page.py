"""Alerts (queued and sent, with delivery attempts) and silences named the way staff know things."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from alerts.silences import add_silence, expire_silence
from alerts.timeparse import parse_when
from models.alerts import Alert, AlertAttempt, Silence
from models.base import utcnow
from models.catalog import Listing, Shop
from models.reviews import Reviewer
from monitor.config import ALERT_KINDS
from monitor.errors import DataError, ShopmonError
from monitor.platform_refs import find_listing, find_reviewer, find_shop, ref_of
from monitor.web.auth import Viewer, csrf, DB, viewer
from monitor.web.pages import render

router = APIRouter()
SHOWN = 200


def resolve_subject(session: Session, *, shop: str, listing: str, reviewer: str) -> dict[str, int | None]:
    """Database ids for what the form names the way staff know it (platform ids, config id, nick)."""
    return {
        "shop_id": find_shop(session, shop).id if shop else None,
        "listing_id": find_listing(session, listing).id if listing else None,
        "reviewer_id": find_reviewer(session, reviewer).id if reviewer else None,
    }


def _page(request: Request, session: Session, **extra: object) -> Response:
    alerts = session.exec(select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc()).limit(SHOWN)).all()
    ids = [a.id for a in alerts]
    attempts: dict[int, list[AlertAttempt]] = {}
    for at in session.exec(select(AlertAttempt).where(AlertAttempt.alert_id.in_(ids or [-1]))
                           .order_by(AlertAttempt.at)).all():
        attempts.setdefault(at.alert_id, []).append(at)
    silences = session.exec(select(Silence).order_by(Silence.until.desc()).limit(SHOWN)).all()
    names = {
        "listing": {x.id: (ref_of(x), x.title) for x in session.exec(select(Listing).where(
            Listing.id.in_([s.listing_id for s in silences if s.listing_id] or [-1]))).all()},
        "reviewer": {x.id: x.nick or ref_of(x) for x in session.exec(select(Reviewer).where(
            Reviewer.id.in_([s.reviewer_id for s in silences if s.reviewer_id] or [-1]))).all()},
        "shop": {x.id: x.config_id or ref_of(x) for x in session.exec(select(Shop)).all()},
    }
    return render(request, "alerts.html", alerts=alerts, attempts=attempts, silences=silences, names=names,
                  kinds=ALERT_KINDS, now=utcnow(), **extra)


@router.get("/alerts")
def alerts_page(request: Request, who: Viewer = Depends(viewer), session: Session = DB) -> Response:
    return _page(request, session, message=request.query_params.get("saved") and "saved")


@router.post("/silences")
def new_silence(
    request: Request,
    kind: str = Form(""),
    shop: str = Form(""),
    listing: str = Form(""),
    reviewer: str = Form(""),
    until: str = Form(...),
    reason: str = Form(""),
    who: Viewer = Depends(csrf),
    session: Session = DB,
) -> Response:
    zone = request.app.state.settings.alerts.timezone
    try:
        subject = resolve_subject(session, shop=shop.strip(), listing=listing.strip(), reviewer=reviewer.strip())
        end = parse_when(until, zone, option="until")
        add_silence(session, until=end, created_by=who.name, kind=kind or None, reason=reason.strip() or None,
                    **subject)
    except ShopmonError as exc:
        session.rollback()
        return _page(request, session, problem=str(exc))
    return RedirectResponse("/alerts?saved=1", status_code=303)


@router.post("/silences/{silence_id}/expire")
def end_silence(silence_id: int, who: Viewer = Depends(csrf), session: Session = DB) -> Response:
    try:
        expire_silence(session, silence_id)
    except DataError:
        return RedirectResponse("/alerts", status_code=303)
    return RedirectResponse("/alerts?saved=1", status_code=303)
