"""Rendering: one Jinja2 environment (autoescaped), the viewer's language and the team's time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from alerts.untrusted_text import safe_url
from models.base import utcnow
from monitor.web.i18n import Words

TEMPLATES = Path(__file__).resolve().parent / "templates"


def local_time(value: datetime | None, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


def age(value: datetime | None, t: Words, now: datetime | None = None) -> str:
    """How long ago ``value`` was, in hours below two days, else days (``now``: one clock read
    shared by a whole page)."""
    if value is None:
        return "-"
    hours = ((now or utcnow()) - value).total_seconds() / 3600
    return f"{hours / 24:.0f}{t.days}" if hours >= 48 else f"{hours:.0f}{t.hours_short}"


def templates() -> Jinja2Templates:
    tpl = Jinja2Templates(directory=str(TEMPLATES))
    tpl.env.filters["safe_url"] = safe_url
    tpl.env.globals["urlencode"] = urlencode
    return tpl


def language_of(request: Request) -> str:
    who = getattr(request.state, "viewer", None)
    if who is not None and who.language:
        return who.language
    return request.app.state.settings.alerts.language


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    t = Words(language_of(request))
    zone = context.pop("zone", None) or settings.alerts.timezone
    who = getattr(request.state, "viewer", None)
    base = {
        "request": request,
        "t": t,
        "viewer": who,
        "csrf": who.csrf_token if who else context.pop("login_csrf", ""),
        "when": lambda v, fmt="%Y-%m-%d %H:%M", tz=None: local_time(v, tz or zone, fmt),
        # A shop may keep its own time zone (shops[].timezone); its cases are shown in it.
        "shop_zone": lambda shop: settings.locale_for(shop.config_id if shop is not None else None).timezone,
        "age": lambda v: age(v, t),
        "zone": zone,
    }
    return request.app.state.templates.TemplateResponse(request, template, {**base, **context},
                                                        status_code=status_code)
