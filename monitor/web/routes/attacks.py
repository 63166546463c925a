"""Coordinated attacks: members, timeline, shared text, and one step for all members' cases."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from alerts.bulk import update_cases
from alerts.cases import CaseError
from models.cases import Case
from models.detection import Flag
from models.reviews import Review
from models.users import User
from monitor.errors import ShopmonError
from monitor.web.auth import Viewer, csrf, DB, viewer
from monitor.web.pages import render

router = APIRouter()
BULK_ACTIONS = {"appeal": {"state": "platform_appeal"}, "close": {"state": "closed"}}


def _attack(session: Session, flag_id: int) -> Flag:
    flag = session.get(Flag, flag_id)
    if flag is None or flag.kind != "attack":
        raise HTTPException(status_code=404)
    return flag


def _parent(session: Session, flag: Flag) -> Case | None:
    """The attack's own case (its members' cases hang under it); the newest incident's when there are several."""
    return session.exec(select(Case).where(Case.flag_id == flag.id, Case.review_id.is_(None))
                        .order_by(Case.id.desc())).first()


def _member_cases(session: Session, flag: Flag) -> list[Case]:
    ids = list(flag.members or [])
    cases = list(session.exec(select(Case).where(Case.review_id.in_(ids or [-1]))).all())
    return sorted(cases, key=lambda c: c.opened_at)


@router.get("/attacks")
def attacks(request: Request, who: Viewer = Depends(viewer), session: Session = DB) -> Response:
    flags = session.exec(select(Flag).where(Flag.kind == "attack").order_by(Flag.created_at.desc()).limit(200)).all()
    return render(request, "attacks.html", flags=flags)


def _attack_page(request: Request, session: Session, flag_id: int, **extra: object) -> Response:
    flag = _attack(session, flag_id)
    reviews = list(session.exec(select(Review).where(Review.id.in_(list(flag.members) or [-1]))).all())
    reviews.sort(key=lambda r: r.created_at or r.first_seen)
    shared = [(text, n) for text, n in Counter(" ".join(r.text.split()) for r in reviews if r.text).most_common(5)
              if n > 1]
    users = session.exec(select(User.name).where(User.disabled.is_(False)).order_by(User.name)).all()
    return render(request, "attack.html", flag=flag, reviews=reviews, cases=_member_cases(session, flag),
                  parent=_parent(session, flag),
                  shared=shared, users=users, **extra)


@router.get("/attacks/{flag_id}")
def attack(flag_id: int, request: Request, who: Viewer = Depends(viewer),
           session: Session = DB) -> Response:
    return _attack_page(request, session, flag_id)


@router.post("/attacks/{flag_id}/bulk")
def bulk(
    flag_id: int,
    request: Request,
    action: str = Form(...),
    owner: str = Form(""),
    note: str = Form(""),
    who: Viewer = Depends(csrf),
    session: Session = DB,
) -> Response:
    """One update for the attack's case and all its members (alerts.bulk: all or none, each
    member's history written; members follow the parent into platform_appeal or closed)."""
    flag = _attack(session, flag_id)
    parent = _parent(session, flag)
    if action == "assign":
        change: dict[str, object] = {"owner": owner}
    elif action in BULK_ACTIONS:
        change = dict(BULK_ACTIONS[action])
    else:
        raise HTTPException(status_code=400, detail=f"unknown action {action!r}")
    note = note.strip() or f"attack #{flag.id}: {action}"
    try:
        if parent is None:
            raise CaseError(f"attack #{flag.id} has no case yet (the post-crawl pipeline opens it)")
        updated = update_cases(session, [], actor=who.name, attack=parent.id, note=note,
                               config=request.app.state.settings.cases, **change)
    except ShopmonError as exc:
        session.rollback()
        return _attack_page(request, session, flag_id, problem=str(exc), status_code=422)
    return _attack_page(request, session, flag_id, message="saved", message_detail=f"({len(updated)})")
