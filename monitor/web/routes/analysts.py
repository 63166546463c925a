"""Analysts: the label queue (one click or key per flag) and model versions (promote through the gate, roll back)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from sqlmodel import Session, select

from models.catalog import Shop
from models.detection import CAUSES, Flag
from monitor.errors import ShopmonError
from monitor.labels.single import label_flag
from monitor.labels.targets import describe, load_targets
from monitor.labels.tasks import FLAG_KIND_TASK
from monitor.registry import PromotionRefused, registry_for, sync_to_db
from monitor.training.gate import gate
from monitor.web.auth import Viewer, csrf, DB, require
from monitor.web.pages import render

router = APIRouter(prefix="/analyst")
QUEUE_SIZE = 50
analyst = require("analyst")


def _queue(session: Session) -> list[dict]:
    flags = session.exec(select(Flag).where(Flag.status == "open", Flag.kind.in_(list(FLAG_KIND_TASK)))
                         .order_by(Flag.created_at.desc(), Flag.id.desc()).limit(QUEUE_SIZE)).all()
    shops = {s.id: s for s in session.exec(select(Shop)).all()}
    targets: dict[str, dict] = {}
    for tt in {f.target_type for f in flags}:
        targets[tt] = load_targets(session, tt, [f.target_id for f in flags if f.target_type == tt])
    rows = []
    for f in flags:
        target = targets.get(f.target_type, {}).get(f.target_id)
        rows.append({"flag": f, "info": describe(f.target_type, target, shops) if target is not None else {}})
    return rows


@router.get("/labels")
def labels(request: Request, who: Viewer = Depends(analyst), session: Session = DB) -> Response:
    return render(request, "labels.html", rows=_queue(session), causes=CAUSES)


@router.post("/labels/{flag_id}")
def label(flag_id: int, request: Request, value: str = Form(...), who: Viewer = Depends(csrf),
          _role: Viewer = Depends(analyst), session: Session = DB) -> Response:
    try:
        saved = label_flag(session, flag_id, value, labeler=who.name)
    except ShopmonError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if request.headers.get("hx-request"):
        flag = session.get(Flag, flag_id)
        return render(request, "_labeled_row.html", flag=flag, label=saved)
    return RedirectResponse("/analyst/labels", status_code=303)


def _models_page(request: Request, session: Session, **extra: object) -> Response:
    reg = registry_for(request.app.state.settings)
    names = reg.names()
    versions = {name: list(reversed(reg.versions(name))) for name in names}
    return render(request, "models.html", versions=versions, **extra)


@router.get("/models")
def models(request: Request, who: Viewer = Depends(analyst), session: Session = DB) -> Response:
    return _models_page(request, session)


@router.get("/models/{name}/{version}/report")
def report(name: str, version: str, request: Request, who: Viewer = Depends(analyst)) -> Response:
    reg = registry_for(request.app.state.settings)
    try:
        meta = reg.meta(name, version)
    except ShopmonError:
        raise HTTPException(status_code=404) from None
    page = Path(meta.path) / "report.html"
    if page.is_file():
        return FileResponse(page, media_type="text/html")
    return PlainTextResponse(reg.card(name, version))


@router.post("/models/promote")
def promote(request: Request, version: str = Form(...), force: str = Form(""), who: Viewer = Depends(csrf),
            _role: Viewer = Depends(analyst), session: Session = DB) -> Response:
    """What `shopmon model promote` does: compare with live on held-out data, refuse a worse model unless forced."""
    settings = request.app.state.settings
    reg = registry_for(settings)
    verdict = None
    try:
        name = reg.resolve(version)
        verdict = gate(reg, name, version, precision_target=settings.detection.precision_target)
        reg.promote(name, version, force=bool(force), comparison=verdict)
        sync_to_db(reg, session, name=name)
    except PromotionRefused as exc:
        return _models_page(request, session, problem=str(exc), verdict=verdict, status_code=409)
    except ShopmonError as exc:
        return _models_page(request, session, problem=str(exc), verdict=verdict, status_code=422)
    return _models_page(request, session, message="saved", message_detail=f"{version} → live", verdict=verdict)


@router.post("/models/{name}/rollback")
def rollback(name: str, request: Request, who: Viewer = Depends(csrf), _role: Viewer = Depends(analyst),
             session: Session = DB) -> Response:
    reg = registry_for(request.app.state.settings)
    try:
        target = reg.rollback(name)
        sync_to_db(reg, session, name=name)
    except ShopmonError as exc:
        return _models_page(request, session, problem=str(exc), status_code=422)
    return _models_page(request, session, message="saved", message_detail=f"{name}: {target} → live")
