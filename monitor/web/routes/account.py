"""Sign in, sign out, language."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature
from sqlmodel import Session

from models.users import User
from monitor.accounts import (authenticate, end_session, login_blocked, login_failed, login_succeeded, set_language,
                              start_session)
from monitor.web.auth import LOGIN_COOKIE, SESSION_COOKIE, Viewer, cookie_secure, csrf, DB, signer
from monitor.web.pages import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only paths on this site: "//evil.example" or "https://..." would make the login an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status_code=status_code, login_csrf=token, error=error,
                      next=_safe_next(request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, signer(request).dumps(token, salt="login"), httponly=True,
                        samesite="strict", secure=cookie_secure(request), max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    name: str = Form(...),
    password: str = Form(...),
    csrf_token: str = Form("", alias="csrf"),
    next_: str = Form("/", alias="next"),
    session: Session = DB,
) -> Response:
    try:
        expected = signer(request).loads(request.cookies.get(LOGIN_COOKIE, ""), salt="login")
    except BadSignature:
        expected = None
    if not isinstance(expected, str) or not secrets.compare_digest(expected, csrf_token):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    web = request.app.state.settings.web
    window_s = web.login_window_minutes * 60
    address = request.client.host if request.client else "-"
    if login_blocked(session, address, name, attempts=web.login_attempts, window_s=window_s):
        return _login_page(request, error="too_many", status_code=429)
    user = authenticate(session, name, password)
    if user is None:
        login_failed(session, address, name, window_s=window_s)
        return _login_page(request, error="bad_login", status_code=401)
    login_succeeded(session, address, name)
    # A new random session id on every sign-in: a cookie planted before login is worthless.
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        try:
            end_session(session, signer(request).loads(old, salt="session"))
        except BadSignature:
            pass
    token = start_session(session, user, hours=request.app.state.settings.web.session_hours)
    response = RedirectResponse(_safe_next(next_), status_code=303)
    response.set_cookie(SESSION_COOKIE, signer(request).dumps(token, salt="session"), httponly=True,
                        samesite="lax", secure=cookie_secure(request),
                        max_age=int(request.app.state.settings.web.session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, who: Viewer = Depends(csrf), session: Session = DB) -> Response:
    end_session(session, signer(request).loads(request.cookies[SESSION_COOKIE], salt="session"))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/account/language")
def language(
    request: Request,
    language: str = Form(...),
    back: str = Form("/"),
    who: Viewer = Depends(csrf),
    session: Session = DB,
) -> Response:
    set_language(session, session.get(User, who.user_id), language)
    return RedirectResponse(_safe_next(back), status_code=303)
