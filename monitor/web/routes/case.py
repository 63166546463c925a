"""One case: what the email shows plus photos, revisions, flags, guidance; contact log and transitions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from alerts.cases import CONTACT_CHANNELS, TRANSITIONS, CaseError, case_events, update_case
from alerts.timeparse import parse_when
from models.cases import Case
from models.catalog import Listing, Shop
from models.detection import Flag
from models.reviews import Review, ReviewRevision
from models.users import User
from monitor.errors import ShopmonError
from monitor.web.auth import Viewer, csrf, DB, viewer
from monitor.web.pages import render

router = APIRouter()
OUTCOMES = ("promised", "awaiting_compensation", "refused", "modified")


def attack_flag_of(session: Session, case: Case) -> Flag | None:
    """The attack a member case belongs to: the flag of its parent case (alerts.attacks hangs each
    member's case under its attack's case). One look-up by key; reading the shop's attack flags
    to search their JSON member lists cost a scan that grew with every attack the shop had."""
    if case.parent_id is None:
        return None
    return session.exec(select(Flag).join(Case, Case.flag_id == Flag.id)
                        .where(Case.id == case.parent_id, Flag.kind == "attack")).first()


def _case_page(request: Request, session: Session, case_id: int, *, problem: str | None = None,
               status_code: int = 200) -> Response:
    case = session.get(Case, case_id)
    if case is None:
        raise HTTPException(status_code=404)
    review = session.get(Review, case.review_id) if case.review_id else None
    revisions = (session.exec(select(ReviewRevision).where(ReviewRevision.review_id == case.review_id)
                              .order_by(ReviewRevision.seen_at)).all() if case.review_id else [])
    flags = list(session.exec(select(Flag).where(Flag.review_id == case.review_id)).all()) if case.review_id else []
    if case.flag_id and all(f.id != case.flag_id for f in flags):
        opening = session.get(Flag, case.flag_id)
        flags += [opening] if opening else []
    attack = attack_flag_of(session, case)
    if attack is not None and all(f.id != attack.id for f in flags):
        flags.append(attack)
    users = session.exec(select(User.name).where(User.disabled.is_(False)).order_by(User.name)).all()
    shop = session.get(Shop, case.shop_id) if case.shop_id else None
    settings = request.app.state.settings
    return render(
        request, "case.html", status_code=status_code, case=case, review=review, revisions=revisions,
        flags=flags, events=case_events(session, case_id),
        transitions=TRANSITIONS.get(case.state, ()), channels=CONTACT_CHANNELS, outcomes=OUTCOMES,
        users=users, shop=shop, zone=settings.locale_for(shop.config_id if shop else None).timezone,
        listing=session.get(Listing, case.listing_id) if case.listing_id else None,
        problem=problem, message=request.query_params.get("saved") and "saved",
    )


@router.get("/cases/{case_id}")
def case_page(case_id: int, request: Request, who: Viewer = Depends(viewer),
              session: Session = DB) -> Response:
    return _case_page(request, session, case_id)


def _apply(request: Request, session: Session, case_id: int, who: Viewer, **change: object) -> Response:
    """One update through the case workflow; a refusal re-shows the page with the reason and changes nothing."""
    try:
        with session.begin_nested():
            update_case(session, case_id, actor=who.name, config=request.app.state.settings.cases, **change)
    except ShopmonError as exc:
        if isinstance(exc, CaseError) and session.get(Case, case_id) is None:
            raise HTTPException(status_code=404) from None
        return _case_page(request, session, case_id, problem=str(exc), status_code=422)
    return RedirectResponse(f"/cases/{case_id}?saved=1", status_code=303)


@router.post("/cases/{case_id}/contact")
def record_contact(
    case_id: int,
    request: Request,
    channel: str = Form(""),
    outcome: str = Form(""),
    promise_date: str = Form(""),
    note: str = Form(""),
    who: Viewer = Depends(csrf),
    session: Session = DB,
) -> Response:
    case = session.get(Case, case_id)
    shop = session.get(Shop, case.shop_id) if case is not None and case.shop_id else None
    zone = request.app.state.settings.locale_for(shop.config_id if shop else None).timezone
    try:
        promise = parse_when(promise_date, zone, option="promised by") if promise_date.strip() else None
    except ShopmonError as exc:
        return _case_page(request, session, case_id, problem=str(exc), status_code=422)
    return _apply(request, session, case_id, who, contact=channel or None, state=outcome or None,
                  promise_date=promise, note=note.strip() or None)


@router.post("/cases/{case_id}/state")
def move(case_id: int, request: Request, state: str = Form(...), who: Viewer = Depends(csrf),
         session: Session = DB) -> Response:
    return _apply(request, session, case_id, who, state=state)


@router.post("/cases/{case_id}/assign")
def assign(case_id: int, request: Request, owner: str = Form(...), who: Viewer = Depends(csrf),
           session: Session = DB) -> Response:
    return _apply(request, session, case_id, who, owner=owner)
