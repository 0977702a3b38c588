"""Logins, sessions and role guards.

The session cookie is encrypted and holds only the user id and the user's session epoch:
bumping `users.session_epoch` logs that person out on every phone (logout, a password change,
an admin's "log out everywhere": server/accounts.py). Failed logins are counted in the
database, so several app processes enforce one limit; argon2 runs in threads of its own,
never while a database connection is held.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import ipaddress
import math
import os
import secrets
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.session.client_side import AAD as SESSION_AAD
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.security.session_auth import SessionAuth
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, joinedload

from server.escalations import open_count
from server.models import LoginFailure, Role, User
from server.settings import Settings

SESSION_MAX_AGE_SECONDS = 60 * 24 * 3600  # a phone stays logged in for two months of duty
FAILURE_WINDOW = timedelta(hours=24)  # failures older than a day are forgotten
BACKOFF_FIRST_SECONDS = 30  # the wait after login_max_failures failures from one address …
BACKOFF_MAX_SECONDS = 15 * 60  # … doubles with each further failure, up to this
ACCOUNT_WINDOW = timedelta(minutes=15)
ACCOUNT_UNDER_ATTACK = 20  # failures from all addresses within ACCOUNT_WINDOW …
ACCOUNT_SLOW_SECONDS = 10  # … space out password checks for that account, never lock it
PUBLIC_PATHS = ["/login", "/static", "/healthz", "/sw.js", "/favicon.ico"]
# files, not pages: no session is read or sent back (the cookie, renewed on every response,
# is 260 bytes on each of a first load's twenty files), and no CSRF cookie (server/csrf.py)
FILE_PATHS = ["^/static/", "^/icons/", "^/favicon.ico$", "^/manifest.webmanifest$", "^/sw.js$"]

# module level, so tests can swap in cheap parameters (server.auth.hasher = PasswordHasher(...))
hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return hasher.hash("not-a-password")


# one limiter per event loop (a server has one; tests may run several clients at once)
_limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hashing_limiter() -> anyio.CapacityLimiter:
    """Argon2 runs in threads of its own, at most one per CPU: a flood of logins queues here
    instead of taking the worker threads (and database connections) every page needs."""
    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters[loop] = anyio.CapacityLimiter(os.cpu_count() or 1)
    return _limiters[loop]


async def run_hashing(fn, *args):
    """Run `fn` (argon2 work, no database) outside the event loop, a bounded number at once."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=hashing_limiter())


class LoginRefused(Exception):
    """The reason, in Chinese, is shown on the login page."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Attempt:
    """A login attempt, written down as a failure before the password is checked."""

    id: int
    username: str
    address: str
    user_id: int | None
    password_hash: str | None


def client_address(host: str | None, forwarded_for: str | None, settings: Settings) -> str:
    """The address a login is counted against.

    X-Forwarded-For is believed only when the connection comes from a proxy named in
    XUEGONG_TRUSTED_PROXIES; then the right-most hop that is not one of those proxies is the
    client (anything left of it was written by the client and proves nothing).
    """
    host = host or "unknown"
    if not settings.trusted_proxies or not forwarded_for or not _trusted(host, settings):
        return host
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _trusted(hop, settings):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return host  # a proxy we trust wrote garbage: count the proxy itself
    return host


def _trusted(address: str, settings: Settings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.proxy_networks)


async def log_in(state, settings: Settings, username: str, password: str, address: str) -> User:
    """Return the user for a correct login, or raise LoginRefused with a reason to show.

    Three steps, so that no database connection is held while argon2 runs: write the attempt
    down (refusing it when this account and address must wait), check the password in a
    hashing thread, then forget this address's failures on success.
    """
    attempt = await run_writing(state, begin_attempt, settings, username, address)
    ok, new_hash = await run_hashing(_verify, attempt.password_hash, password)
    if not ok:
        raise LoginRefused("用户名或密码不正确。")
    return await run_writing(state, finish_attempt, attempt, new_hash)


async def run_writing(state, fn, *args):
    """Run `fn(write_sessionmaker, *args)`, a short write, in the handlers' worker threads
    (the pool is sized to them); on SQLite it waits for the writers' turn like a POST."""
    async with state.get("writers") or contextlib.nullcontext():
        return await sync_to_thread(fn, state.write_sessionmaker, *args)


def begin_attempt(sessionmaker, settings: Settings, username: str, address: str) -> Attempt:
    """Count this attempt as a failure before the password is checked, in one transaction
    that attempts at the same account wait for: twelve parallel tries against a limit of
    five get five password checks, not ten."""
    username = username.strip()[:50]
    now = datetime.now(UTC)
    with sessionmaker() as db:
        if db.get_bind().dialect.name == "postgresql":
            # PostgreSQL: one attempt per account at a time (also for names that do not exist)
            key = int.from_bytes(hashlib.sha256(username.encode()).digest()[:8], signed=True)
            db.execute(select(func.pg_advisory_xact_lock(key)))
        # SQLite: the insert takes the database's write lock, so the counts below see every
        # attempt that came before and none can come in between
        row = LoginFailure(username=username, address=address[:64], at=now)
        db.add(row)
        db.flush()
        db.execute(
            delete(LoginFailure).where(
                LoginFailure.username == username, LoginFailure.at < now - FAILURE_WINDOW
            )
        )
        wait = _wait_seconds(db, settings, row, now)
        if wait > 0:
            db.rollback()
            raise LoginRefused(f"登录失败次数过多，请 {_duration(wait)}后再试。", wait)
        user = db.scalar(select(User).where(User.username == username))
        attempt = Attempt(
            id=row.id,
            username=username,
            address=row.address,
            user_id=user.id if user is not None and user.active else None,
            password_hash=user.password_hash if user is not None and user.active else None,
        )
        db.commit()
        return attempt


def _wait_seconds(db: Session, settings: Settings, row: LoginFailure, now: datetime) -> int:
    """Seconds this attempt must wait: exponential back-off per account and address, and a
    short spacing for an account failing from many addresses (slowed for its owner too,
    never locked)."""
    others = (LoginFailure.username == row.username, LoginFailure.id != row.id)
    failures, last = db.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            *others, LoginFailure.address == row.address
        )
    ).one()
    wait = 0.0
    if failures >= settings.login_max_failures:
        backoff = BACKOFF_FIRST_SECONDS * 2 ** (failures - settings.login_max_failures)
        wait = min(backoff, BACKOFF_MAX_SECONDS) - _seconds_since(last, now)
    recent, last_any = db.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            *others, LoginFailure.at > now - ACCOUNT_WINDOW
        )
    ).one()
    if recent >= ACCOUNT_UNDER_ATTACK:
        wait = max(wait, ACCOUNT_SLOW_SECONDS - _seconds_since(last_any, now))
    return math.ceil(wait) if wait > 0 else 0


def _seconds_since(moment, now: datetime) -> float:
    if isinstance(moment, str):  # SQLite's max() of a datetime column
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return (now - moment).total_seconds()


def _duration(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"


def _verify(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(password correct, a new hash when the parameters changed); argon2 only, no database."""
    if password_hash is None:
        password_matches(_dummy_hash(), password)  # as slow as a real check: names stay secret
        return False, None
    if not password_matches(password_hash, password):
        return False, None
    return True, hash_password(password) if hasher.check_needs_rehash(password_hash) else None


def finish_attempt(sessionmaker, attempt: Attempt, new_hash: str | None) -> User:
    with sessionmaker() as db:
        db.execute(
            delete(LoginFailure).where(
                LoginFailure.username == attempt.username,
                LoginFailure.address == attempt.address,
            )
        )
        user = db.get(User, attempt.user_id)
        if new_hash is not None:
            user.password_hash = new_hash
        db.commit()
        return user


def session_data(user: User) -> dict[str, Any]:
    # "csrf": a random key per login that CSRF tokens are bound to (server/csrf.py)
    return {"uid": user.id, "epoch": user.session_epoch, "csrf": secrets.token_hex(16)}


# one query for the user, the department and the roles: this runs on every request, so the
# statement is built once (building it and its loader options took half the lookup's time)
_USER_BY_ID = (
    select(User)
    .options(joinedload(User.department), joinedload(User.role_rows))
    .where(User.id == bindparam("uid"))
)


def _load_user(sessionmaker, data: dict[str, Any]) -> tuple[User | None, int]:
    """The session's user, and the menu's count of open escalations for leaders and the
    office (base.html): counted here, because the template is drawn on the event loop while
    the handler's session still holds its connection — a second session opened there waited
    for the pool on the loop itself, and 32 leaders at once stalled the app (issue 16)."""
    with sessionmaker() as db:
        user = db.scalar(_USER_BY_ID, {"uid": data.get("uid")})
        if user is None or not user.active or user.session_epoch != data.get("epoch"):
            return None, 0
        return user, open_count(db, user)


async def retrieve_user(session: dict[str, Any], connection: ASGIConnection) -> User | None:
    if "uid" not in session:
        return None
    # a database read: off the event loop, in the same worker threads as the handlers (the
    # pool is sized to them), with a session of its own that is closed before the handler runs
    user, badge = await sync_to_thread(_load_user, connection.app.state.sessionmaker, session)
    connection.scope["escalation_badge"] = badge
    return user


class _TolerantCookieBackend(ClientSideSessionBackend):
    """A tampered or garbage session cookie is no session (logged out), never a 500:
    Litestar's backend reads the cookie's clear-text expiry before checking the tag, and
    raises on bad JSON or a missing or wrongly typed `expires_at`.

    An unchanged session is sealed again at most once a day, not on every response: the
    two months of SESSION_MAX_AGE_SECONDS still run from the last day the phone was used,
    and a page is spared the encryption and its Set-Cookie header (issue 16)."""

    def load_data(self, data: list[bytes]) -> dict[str, Any]:
        try:
            return super().load_data(data)
        except Exception:
            return {}

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session = await super().load_from_connection(connection)
        if session:
            connection.scope[_SEALED] = (self.serialize_data(session), _sealed_at(connection, self))
        return session

    async def store_in_message(self, scope_session, message, connection: ASGIConnection) -> None:
        sealed = connection.scope.get(_SEALED)
        if (
            sealed is not None
            and scope_session
            and time.time() - sealed[1] < SESSION_RESEAL_SECONDS
            and self.serialize_data(scope_session) == sealed[0]
        ):
            return  # the browser keeps the cookie it sent
        await super().store_in_message(scope_session, message, connection)


_SEALED = "xuegong.session_sealed"  # (the session as the cookie held it, when it was sealed)
SESSION_RESEAL_SECONDS = 24 * 3600


def _sealed_at(connection: ASGIConnection, backend: ClientSideSessionBackend) -> float:
    """When the request's session cookie was sealed: its clear-text expiry (checked by the
    tag, since the cookie decrypted) less the session's lifetime; 0 when unreadable."""
    cookie = b"".join(connection.cookies[k].encode() for k in backend.get_cookie_keys(connection))
    try:
        clear = base64.b64decode(cookie).split(SESSION_AAD, 1)[1]
        return float(msgspec.json.decode(clear)["expires_at"]) - backend.config.max_age
    except Exception:
        return 0.0


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
            exclude=FILE_PATHS,
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


class PasswordChangeRequired(PermissionDeniedException):
    """The user logged in with a one-time password and has not set their own yet."""


# what a person with a one-time password may still reach: the form that ends it, logging
# out, static files and the offline shell (the service worker fetches those on its own)
OPEN_BEFORE_PASSWORD_CHANGE = frozenset(
    ["password_form", "change_password", "logout", "login", "login_submit", "static"]
    + ["service_worker", "offline", "door_not_prepared", "saved_offline", "outbox", "shell_pages"]
    + ["manifest", "app_icon", "install", "scan", "healthz"]
)


def password_change_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide: a one-time password opens only the page that replaces it."""
    user = connection.scope.get("user")  # public paths have no user in their scope
    if user is None or not getattr(user, "must_change_password", False):
        return
    name = handler.name or ""
    if name in OPEN_BEFORE_PASSWORD_CHANGE:
        return
    raise PasswordChangeRequired("请先设置新密码：一次性密码只能用来修改密码。")
