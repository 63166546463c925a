"""People who use the web board, and their signed-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow
from models.roles import Role


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, description="login name; also the actor in case histories")
    role: str = Field(default=Role.STAFF.value, description="a models.roles.Role value")
    password_hash: str
    language: str | None = Field(default=None, description="en or zh; unset: alerts.language")
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries only the (signed) id; logging out deletes the row."""

    id: str = Field(primary_key=True, description="sha256 of the random token in the cookie")
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept for web.login_window_minutes. In the database, not in a process's
    memory, so every `shopmon web` worker process counts the same attempts."""

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(description="the client's address")
    name: str = Field(description="the name tried, lower-cased, at most 64 characters")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


Index("ix_loginfailure_key", LoginFailure.address, LoginFailure.name, LoginFailure.at)
