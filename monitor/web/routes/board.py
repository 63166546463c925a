"""The board: the team's shared table of cases, filters, paging and export."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from models.cases import CASE_STATES, SEVERITIES, Case
from models.detection import CAUSES, FLAG_KINDS
from models.users import User
from monitor.web import export
from monitor.web.auth import Viewer, db, viewer
from monitor.web.board_query import BoardFilter, all_matching, board_page, reviews_of, shops
from monitor.web.i18n import Words
from monitor.web.pages import language_of, render

router = APIRouter()


def _owners(session: Session) -> list[str]:
    names = set(session.exec(select(User.name).where(User.disabled.is_(False))).all())
    names |= {o for o in session.exec(select(Case.owner).distinct()).all() if o}
    return sorted(names)


@router.get("/")
def board(request: Request, who: Viewer = Depends(viewer), session: Session = Depends(db)) -> Response:
    settings = request.app.state.settings
    f = BoardFilter.from_query(request.query_params, me=who.name)
    page = board_page(session, f, page_size=settings.web.page_size, overdue_hours=settings.alerts.escalation_hours)
    return render(request, "board.html", page=page, f=f, states=CASE_STATES, severities=SEVERITIES,
                  causes=CAUSES, kinds=FLAG_KINDS, owners=_owners(session), params=f.params(),
                  mine=bool(request.query_params.get("mine")))


def _chunks(session: Session, f: BoardFilter, overdue_hours: float):  # noqa: ANN202
    shop_map = shops(session)
    for cases in all_matching(session, f, overdue_hours=overdue_hours):
        yield cases, reviews_of(session, cases), shop_map


@router.get("/export.{fmt}")
def export_view(fmt: str, request: Request, who: Viewer = Depends(viewer),
                session: Session = Depends(db)) -> Response:
    settings = request.app.state.settings
    f = BoardFilter.from_query(request.query_params, me=who.name)
    t = Words(language_of(request))
    table = export.rows(_chunks(session, f, settings.alerts.escalation_hours), t, settings.alerts.timezone)
    if fmt == "csv":
        body = b"".join(export.as_csv(table))
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="cases.csv"'})
    if fmt == "xlsx":
        return Response(export.as_xlsx(table),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="cases.xlsx"'})
    return Response(status_code=404)
