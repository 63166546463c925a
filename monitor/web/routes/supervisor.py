"""Supervisor: last week's report, who holds how much work, and whether crawling and the scheduler are healthy."""

from __future__ import annotations

import base64
import statistics
from collections import defaultdict
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import case, func
from sqlmodel import Session, select

from alerts.cases import RESOLVED_STATES
from alerts.charts import report_charts
from alerts.render import render_bodies, subject_for
from alerts.reports import report_period, report_stats
from models.base import utcnow
from models.cases import Case, CaseEvent
from models.crawl import FAILED_CRAWL_STATUSES, CrawlRun
from models.scheduler import FAILED_JOB_STATUSES, JobRun
from monitor.web.auth import Viewer, DB, require
from monitor.web.pages import language_of, render

router = APIRouter()
RESPONSE_WINDOW_DAYS = 30
HEALTH_DAYS = 7


def workload(session: Session, *, overdue_hours: float, now) -> list[dict]:  # noqa: ANN001
    """Per owner: open cases, those without progress past the escalation time, and the median
    hours from opening to the first contact over the last 30 days."""
    rows: dict[str, dict] = defaultdict(lambda: {"open": 0, "overdue": 0, "waits": []})
    cutoff = now - timedelta(hours=overdue_hours)
    for owner, n, overdue in session.exec(
        select(Case.owner, func.count(), func.sum(case((Case.last_progress_at < cutoff, 1), else_=0)))
        .where(Case.state.not_in(RESOLVED_STATES)).group_by(Case.owner)
    ).all():
        rows[owner or "-"].update(open=n, overdue=int(overdue or 0))
    first_contact = (select(CaseEvent.case_id, func.min(CaseEvent.at).label("at"))
                     .where(CaseEvent.action == "contact").group_by(CaseEvent.case_id).subquery())
    for owner, opened, contacted in session.exec(
        select(Case.owner, Case.opened_at, first_contact.c.at).join(first_contact, first_contact.c.case_id == Case.id)
        .where(Case.opened_at >= now - timedelta(days=RESPONSE_WINDOW_DAYS))
    ).all():
        rows[owner or "-"]["waits"].append((contacted - opened).total_seconds() / 3600)
    out = []
    for owner, r in sorted(rows.items()):
        median = statistics.median(r["waits"]) if r["waits"] else None
        out.append({"owner": owner, "open": r["open"], "overdue": r["overdue"], "median_hours": median,
                    "contacted": len(r["waits"])})
    return out


def _latest_by(session: Session, model, key, since, failed: tuple[str, ...]):  # noqa: ANN001, ANN202
    """The newest row per key, and per key the rows since ``since`` whose status is in ``failed``."""
    newest = select(key, func.max(model.id).label("id")).group_by(key).subquery()
    latest = session.exec(select(model).join(newest, newest.c.id == model.id).order_by(key)).all()
    failures = dict(session.exec(
        select(key, func.count()).where(model.status.in_(failed),
                                        model.started_at >= since).group_by(key)).all())
    return [(row, failures.get(getattr(row, key.key), 0)) for row in latest]


REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"


@router.get("/supervisor/report")
def weekly_report(request: Request, who: Viewer = Depends(require("supervisor")),
                  session: Session = DB) -> Response:
    """Last week's report exactly as the email shows it, charts inline."""
    settings = request.app.state.settings
    now = utcnow()
    language = language_of(request)
    payload = report_stats(session, settings, report_period(settings, "weekly_report", now), now=now)
    charts, cjk_missing = report_charts(payload, language)
    subject = subject_for("weekly_report", [payload], language)
    _, html = render_bodies("weekly_report", [payload], language, subject, settings.alerts.timezone,
                            charts={c.name: c.name for c in charts}, cjk_missing=cjk_missing)
    for chart in charts:
        html = html.replace(f"cid:{chart.name}", "data:image/png;base64," + base64.b64encode(chart.png).decode())
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/supervisor")
def supervisor(request: Request, who: Viewer = Depends(require("supervisor")),
               session: Session = DB) -> Response:
    settings = request.app.state.settings
    now = utcnow()
    period = report_period(settings, "weekly_report", now)
    since = now - timedelta(days=HEALTH_DAYS)
    return render(
        request, "supervisor.html", period=period, stats=report_stats(session, settings, period, now=now),
        staff=workload(session, overdue_hours=settings.alerts.escalation_hours, now=now),
        crawls=_latest_by(session, CrawlRun, CrawlRun.shop_config_id, since, FAILED_CRAWL_STATUSES),
        jobs=_latest_by(session, JobRun, JobRun.job_id, since, FAILED_JOB_STATUSES),
    )
