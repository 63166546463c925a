"""Who is asking: signed session cookie, roles and CSRF tokens."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session

from monitor.accounts import can, resume_session
from monitor.db import session_scope

SESSION_COOKIE = "shopmon_session"
LOGIN_COOKIE = "shopmon_login"


class NotSignedIn(Exception):
    """Raised by the dependencies below; the app turns it into a redirect to the sign-in page."""


@dataclass(frozen=True)
class Viewer:
    """Plain values copied from the user row: error pages render after the request's session is gone."""

    user_id: int
    name: str
    role: str
    language: str | None
    csrf_token: str


def _transaction(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it raises."""
    with session_scope(request.app.state.settings) as session:
        yield session


# scope="function": the commit happens before the response is sent. With FastAPI's default
# ("request") it came after, so the page a POST redirects to could be read before the POST's
# change was committed (a language switch showed the old language under load).
DB = Depends(_transaction, scope="function")


def signer(request: Request) -> URLSafeSerializer:
    return request.app.state.signer


def cookie_secure(request: Request) -> bool:
    base = request.app.state.settings.web.base_url
    return request.url.scheme == "https" or (base is not None and str(base).startswith("https://"))


def viewer(request: Request, session: Session = DB) -> Viewer:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise NotSignedIn()
    try:
        token = signer(request).loads(raw, salt="session")
    except BadSignature:
        raise NotSignedIn() from None
    signed_in = resume_session(session, token) if isinstance(token, str) else None
    if signed_in is None:
        raise NotSignedIn()
    u = signed_in.user
    request.state.viewer = Viewer(u.id, u.name, u.role, u.language, signed_in.csrf_token)
    return request.state.viewer


def require(role: str) -> Callable[..., Viewer]:
    def check(who: Viewer = Depends(viewer)) -> Viewer:
        if not can(who.role, role):
            raise HTTPException(status_code=403)
        return who

    return check


async def csrf(request: Request, who: Viewer = Depends(viewer)) -> Viewer:
    """Every state-changing request carries the session's token (form field or htmx header)."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, who.csrf_token):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    return who
