"""One case: what the email shows plus photos, revisions, flags, guidance; contact log and transitions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import and_, or_
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


def case_flags(session: Session, case: Case) -> list[Flag]:
    """The review's flags, then the flag that opened the case, then the attack its parent case
    stands for (alerts.attacks hangs each member's case under its attack's case), in one query.
    Reading the shop's attack flags to search their JSON member lists cost a scan that grew with
    every attack the shop had."""
    wanted = []
    if case.review_id is not None:
        wanted.append(Flag.review_id == case.review_id)
    if case.flag_id is not None:
        wanted.append(Flag.id == case.flag_id)
    if case.parent_id is not None:
        parent_flag = select(Case.flag_id).where(Case.id == case.parent_id).scalar_subquery()
        wanted.append(and_(Flag.id == parent_flag, Flag.kind == "attack"))
    if not wanted:
        return []
    found = session.exec(select(Flag).where(or_(*wanted)).order_by(Flag.id)).all()
    return sorted(found, key=lambda f: 0 if case.review_id is not None and f.review_id == case.review_id
                  else 1 if f.id == case.flag_id else 2)


def _case_page(request: Request, session: Session, case_id: int, *, problem: str | None = None,
               status_code: int = 200) -> Response:
    # The case with its review, shop and listing in one query: on PostgreSQL each look-up of its
    # own was a round trip to the server.
    row = session.exec(select(Case, Review, Shop, Listing).where(Case.id == case_id)
                       .outerjoin(Review, Review.id == Case.review_id).outerjoin(Shop, Shop.id == Case.shop_id)
                       .outerjoin(Listing, Listing.id == Case.listing_id)).first()
    if row is None:
        raise HTTPException(status_code=404)
    case, review, shop, listing = row
    revisions = (session.exec(select(ReviewRevision).where(ReviewRevision.review_id == case.review_id)
                              .order_by(ReviewRevision.seen_at)).all() if case.review_id else [])
    users = session.exec(select(User.name).where(User.disabled.is_(False)).order_by(User.name)).all()
    settings = request.app.state.settings
    return render(
        request, "case.html", status_code=status_code, case=case, review=review, revisions=revisions,
        flags=case_flags(session, case), events=case_events(session, case_id),
        transitions=TRANSITIONS.get(case.state, ()), channels=CONTACT_CHANNELS, outcomes=OUTCOMES,
        users=users, shop=shop, zone=settings.locale_for(shop.config_id if shop else None).timezone,
        listing=listing, problem=problem, message=request.query_params.get("saved") and "saved",
    )


@router.get("/cases/{case_id}")
def case_page(case_id: int, request: Request, who: Viewer = Depends(viewer),
              session: Session = DB) -> Response:
    return _case_page(request, session, case_id)


def _apply(request: Request, session: Session, case_id: int, who: Viewer, **change: object) -> Response:
    """One update through the case workflow; a refusal re-shows the page with the reason and changes nothing.

    No savepoint around it: update_case checks everything before it changes anything, so a
    refusal has nothing to undo. On SQLite a SAVEPOINT opened the write transaction before
    update_case read the case, and a write transaction that reads before it writes fails at once
    with "database is locked" when another worker committed in between (its snapshot is stale;
    the busy timeout does not apply), where the write alone waits its turn."""
    try:
        update_case(session, case_id, actor=who.name, config=request.app.state.settings.cases, **change)
    except ShopmonError as exc:
        if isinstance(exc, CaseError) and session.get(Case, case_id) is None:
            raise HTTPException(status_code=404) from None
        return _case_page(request, session, case_id, problem=str(exc), status_code=422)
    return RedirectResponse(f"/cases/{case_id}?saved=1", status_code=303)


def _case_zone(request: Request, session: Session, case_id: int) -> str:
    """The time zone a promised-by date is meant in: the case's shop's, else the team's."""
    config_id = session.exec(select(Shop.config_id).join(Case, Case.shop_id == Shop.id)
                             .where(Case.id == case_id)).first()
    return request.app.state.settings.locale_for(config_id).timezone


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
    try:
        promise = parse_when(promise_date, _case_zone(request, session, case_id),
                             option="promised by") if promise_date.strip() else None
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
