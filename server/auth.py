"""Logins, sessions and role guards.

The session cookie is encrypted and holds only the user id and the user's session epoch:
bumping `users.session_epoch` logs that person out on every phone. Failed logins are counted
in the database, so several app processes enforce one limit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.security.session_auth import SessionAuth
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from server.models import LoginFailure, Role, User
from server.settings import Settings

SESSION_MAX_AGE_SECONDS = 60 * 24 * 3600  # a phone stays logged in for two months of duty
FAILURE_WINDOW = timedelta(minutes=15)
PUBLIC_PATHS = ["/login", "/static", "/healthz", "/sw.js", "/schema", "/favicon.ico"]

hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return hasher.hash(password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginRefused(Exception):
    """The reason, in Chinese, is shown on the login page."""


def check_login(
    db: Session, settings: Settings, username: str, password: str, address: str
) -> User:
    """Return the user for a correct login, or raise LoginRefused with a reason to show."""
    username = username.strip()
    since = datetime.now(UTC) - FAILURE_WINDOW
    failures = db.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.username == username,
            LoginFailure.address == address,
            LoginFailure.at > since,
        )
    )
    if failures >= settings.login_max_failures:
        raise LoginRefused("登录失败次数过多，请 15 分钟后再试。")

    user = db.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not _password_matches(user.password_hash, password):
        db.add(LoginFailure(username=username, address=address, at=datetime.now(UTC)))
        db.commit()
        raise LoginRefused("用户名或密码不正确。")

    db.execute(
        delete(LoginFailure).where(
            LoginFailure.username == username, LoginFailure.address == address
        )
    )
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.commit()
    return user


def session_data(user: User) -> dict[str, Any]:
    return {"uid": user.id, "epoch": user.session_epoch}


def _load_user(sessionmaker, data: dict[str, Any]) -> User | None:
    with sessionmaker() as db:
        # one query for the user, the department and the roles: this runs on every request
        user = db.scalar(
            select(User)
            .options(joinedload(User.department), joinedload(User.role_rows))
            .where(User.id == data.get("uid"))
        )
        if user is None or not user.active or user.session_epoch != data.get("epoch"):
            return None
        return user


async def retrieve_user(session: dict[str, Any], connection: ASGIConnection) -> User | None:
    if "uid" not in session:
        return None
    # a database read: off the event loop, in the same worker threads as the handlers (the
    # pool is sized to them), with a session of its own that is closed before the handler runs
    return await sync_to_thread(_load_user, connection.app.state.sessionmaker, session)


class _TolerantCookieBackend(ClientSideSessionBackend):
    """A tampered or garbage session cookie is no session (logged out), never a 500:
    Litestar's backend reads the cookie's clear-text expiry before checking the tag, and
    raises on bad JSON or a missing or wrongly typed `expires_at`."""

    def load_data(self, data: list[bytes]) -> dict[str, Any]:
        try:
            return super().load_data(data)
        except Exception:
            return {}


@dataclass
class _SessionCookieConfig(CookieBackendConfig):
    _backend_class: type[ClientSideSessionBackend] = field(
        default=_TolerantCookieBackend, init=False
    )


def session_auth(settings: Settings) -> SessionAuth:
    # AES-GCM needs a 32-byte key: derive it from the newest secret key
    secret = hashlib.sha256(f"session:{settings.secret_keys[0]}".encode()).digest()
    return SessionAuth[User, Any](
        retrieve_user_handler=retrieve_user,
        session_backend_config=_SessionCookieConfig(
            secret=secret,
            max_age=SESSION_MAX_AGE_SECONDS,
            secure=settings.secure_cookies,
            httponly=True,
            samesite="lax",
            key="xg_session",
        ),
        exclude=[f"^{p}" for p in PUBLIC_PATHS],
    )


def role_guard(*roles: Role):
    """A guard that lets a request through when the user has any of these roles."""
    names = ", ".join(r.label for r in roles)

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = connection.user
        if user is None:
            raise NotAuthorizedException()
        if not user.has(*roles):
            raise PermissionDeniedException(f"此页面仅供{names}使用。")

    guard.__name__ = f"requires_{'_or_'.join(r.value for r in roles)}"
    return guard


STAFF = (Role.counselor, Role.class_teacher)
LEADERS = (Role.leader, Role.office, Role.admin)
requires_staff = role_guard(*STAFF, *LEADERS)
requires_leader = role_guard(*LEADERS)
requires_office = role_guard(Role.office, Role.admin)
requires_admin = role_guard(Role.admin)
