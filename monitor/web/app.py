"""The app factory: settings, cookie signer, templates, security headers, routers."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from itsdangerous import URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.config import Settings
from monitor.db import POOL_SIZE
from monitor.web.auth import NotSignedIn
from monitor.web.pages import render, templates
from monitor.web.routes import account, alerts_page, analysts, attacks, board, case, listings, supervisor

log = logging.getLogger(__name__)
ROUTE_MODULES = (account, board, case, attacks, listings, alerts_page, analysts, supervisor)
STATIC = Path(__file__).resolve().parent / "static"
# Scripts only from our own static folder: a buyer's "<script>" can never run even if escaping failed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
                    "referrer-policy": "same-origin", "x-frame-options": "DENY"}


class SecurityHeaders:
    """CSP and friends on every response, and no-store on every page but sign-in and static files.

    Plain ASGI: Starlette's BaseHTTPMiddleware (``@app.middleware("http")``) ran each request
    through an extra task and memory stream, a millisecond of CPU per request under load."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = dict(SECURITY_HEADERS)
        if path != "/login" and not path.startswith("/static/"):
            extra["cache-control"] = "no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class InFlightCap:
    """At most POOL_SIZE requests (the connections monitor.db's pool keeps) inside the app at once
    in this process; the rest wait here, in arrival order. Each request holds a database connection
    for its whole transaction, so with 50 clients and no cap the pool opened and closed a connection
    per request beyond the kept ones, on PostgreSQL a new server process each time; and a CPU-bound
    page gains nothing from more threads taking turns at the GIL."""

    def __init__(self, app: ASGIApp, limit: int = POOL_SIZE) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="shopmon case board", docs_url=None, redoc_url=None, openapi_url=None)
    key = settings.web.secret_key.get_secret_value() if settings.web.secret_key else None
    if key is None:
        log.warning("web.secret_key is not set (SHOPMON_WEB__SECRET_KEY): using a random key, "
                    "so everyone signs in again after a restart")
        key = secrets.token_hex(32)
    app.state.settings = settings
    app.state.signer = URLSafeSerializer(key, salt="shopmon-web")
    app.state.templates = templates()
    app.add_middleware(SecurityHeaders)
    app.add_middleware(InFlightCap)  # added last: outermost, so a waiting request holds nothing
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in ROUTE_MODULES:
        app.include_router(module.router)

    @app.exception_handler(NotSignedIn)
    async def _sign_in_first(request: Request, _exc: NotSignedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = "/login?next=" + quote(target, safe="")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(HTTPException)
    async def _error_page(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (403, 404) and getattr(request.state, "viewer", None) is not None:
            key = "forbidden" if exc.status_code == 403 else "not_found"
            return render(request, "error.html", status_code=exc.status_code, key=key, detail=exc.detail)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    return app
