"""Board users: argon2 password hashes, roles, server-side sessions.

A session row is the only thing that makes a cookie valid: logging out, disabling the user or
resetting the password deletes the rows, so a copied cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func
from sqlmodel import Session, select

from models.base import utcnow
from models.roles import parse_role
from models.users import LoginFailure, User, WebSession
from monitor.errors import DataError

MIN_PASSWORD = 8
_hasher = PasswordHasher()
# Verifying against this when the name is unknown keeps "no such user" as slow as "wrong password".
_DUMMY_HASH = _hasher.hash("not a real password")



def can(role: str, needed: str) -> bool:
    """Admins do everything; supervisors and analysts their own pages plus staff work."""
    if role == needed or role == "admin":
        return True
    return needed == "staff"


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise DataError(f"user name {name!r} must be 1-64 characters without spaces")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DataError(f"password must be at least {MIN_PASSWORD} characters")


def get_user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name.strip())).first()
    if user is None:
        raise DataError(f"no user named {name!r} (see `shopmon users list`)")
    return user


def add_user(session: Session, name: str, password: str, *, role: str, language: str | None = None) -> User:
    name = _check_name(name)
    role = parse_role(role).value
    _check_password(password)
    if language not in (None, "en", "zh"):
        raise DataError(f"language must be en or zh, not {language!r}")
    if session.exec(select(User.id).where(User.name == name)).first() is not None:
        raise DataError(f"a user named {name!r} already exists (use `shopmon users reset` to change the password)")
    user = User(name=name, role=role, password_hash=_hasher.hash(password), language=language)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)).all())


def end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def set_disabled(session: Session, name: str, disabled: bool = True) -> User:
    user = get_user(session, name)
    user.disabled = disabled
    session.add(user)
    if disabled:
        end_sessions(session, user.id)
    session.flush()
    return user


def reset_password(session: Session, name: str, password: str, *, now: datetime | None = None) -> User:
    user = get_user(session, name)
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.password_changed_at = now or utcnow()
    session.add(user)
    end_sessions(session, user.id)
    session.flush()
    return user


def set_language(session: Session, user: User, language: str) -> None:
    if language not in ("en", "zh"):
        raise DataError(f"language must be en or zh, not {language!r}")
    user.language = language
    session.add(user)


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user when the name and password match and the account is enabled; else None."""
    user = session.exec(select(User).where(User.name == name.strip())).first()
    try:
        if user is None:
            _hasher.verify(_DUMMY_HASH, password)
            return None
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    user: User
    csrf_token: str


def start_session(session: Session, user: User, *, hours: float, now: datetime | None = None) -> str:
    """A fresh random session token (never reused across logins); only its digest is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(id=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                   created_at=now, expires_at=now + timedelta(hours=hours))
    )
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return token


def resume_session(session: Session, token: str, *, now: datetime | None = None) -> SignedIn | None:
    now = now or utcnow()
    row = session.exec(
        select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == _digest(token))
    ).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= now or user.disabled:
        return None
    return SignedIn(user=user, csrf_token=web_session.csrf_token)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def new_password() -> str:
    """A random password for demo and reset-by-admin use."""
    return secrets.token_urlsafe(12)


def _attempt_key(address: str, name: str) -> tuple[str, str]:
    return address[:64], name.strip().lower()[:64]


def login_blocked(session: Session, address: str, name: str, *, attempts: int, window_s: float,
                  now: datetime | None = None) -> bool:
    """True once `attempts` sign-ins for this name from this address failed within the window."""
    address, name = _attempt_key(address, name)
    since = (now or utcnow()) - timedelta(seconds=window_s)
    failed = session.exec(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.address == address, LoginFailure.name == name, LoginFailure.at > since)).one()
    return failed >= attempts


def login_failed(session: Session, address: str, name: str, *, window_s: float, now: datetime | None = None) -> None:
    now = now or utcnow()
    address, name = _attempt_key(address, name)
    # Attempts past the window count for nothing: forgetting them here keeps the table small.
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=window_s)))
    session.add(LoginFailure(address=address, name=name, at=now))


def login_succeeded(session: Session, address: str, name: str) -> None:
    address, name = _attempt_key(address, name)
    session.execute(delete(LoginFailure).where(LoginFailure.address == address, LoginFailure.name == name))
