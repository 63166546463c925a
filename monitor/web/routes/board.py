"""The board: the team's shared table of cases, filters, paging and export."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from alerts.case_export import FORMATS, export_rows, write_export
from models.cases import CASE_STATES, SEVERITIES
from models.detection import CAUSES, FLAG_KINDS
from models.roles import parse_role
from models.users import User
from monitor.web.auth import Viewer, DB, viewer
from monitor.web.board_query import BoardFilter, all_matching, board_page
from monitor.web.board_rows import board_rows
from monitor.web.i18n import Words
from monitor.web.pages import language_of, render

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _owners(session: Session) -> list[str]:
    # The people who can own cases; a scan of 100k cases for stray owner names would cost more
    # than the rest of the page.
    return list(session.exec(select(User.name).where(User.disabled.is_(False)).order_by(User.name)).all())


@router.get("/")
def board(request: Request, who: Viewer = Depends(viewer), session: Session = DB) -> Response:
    settings = request.app.state.settings
    f = BoardFilter.from_query(request.query_params, me=who.name)
    page = board_page(session, f, page_size=settings.web.page_size, overdue_hours=settings.alerts.escalation_hours)
    rows = board_rows(page.rows, page.shops, settings, Words(language_of(request)))
    return render(request, "board.html", page=page, rows=rows, f=f, states=CASE_STATES, severities=SEVERITIES,
                  causes=CAUSES, kinds=FLAG_KINDS, owners=_owners(session), params=f.params(),
                  mine=bool(request.query_params.get("mine")))


@router.get("/export.{fmt}")
def export_view(fmt: str, request: Request, who: Viewer = Depends(viewer),
                session: Session = DB) -> Response:
    """The filtered view as the team's spreadsheet (alerts.case_export: the handbook's columns,
    contact details masked unless the viewer's role may take them out, formulas written as text)."""
    if fmt not in FORMATS:
        return Response(status_code=404)
    settings = request.app.state.settings
    f = BoardFilter.from_query(request.query_params, me=who.name)
    cases = [c for chunk in all_matching(session, f, overdue_hours=settings.alerts.escalation_hours) for c in chunk]
    rows = export_rows(session, cases, role=parse_role(who.role), language=language_of(request),
                       timezone=settings.alerts.timezone, currency=settings.cases.currency)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"cases.{fmt}"
        write_export(rows, path, fmt)
        body = path.read_bytes()
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="cases.{fmt}"'})
