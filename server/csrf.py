"""CSRF tokens bound to the session.

Litestar's CSRFMiddleware is a double-submit cookie: a random value signed with the app's
secret, the same in the cookie and in the form or `x-csrftoken` header. Such a token proves
nothing about *whose* session sent it: one planted in the browser before the login (or copied
from another session) stays valid. Here the signature also covers a random key kept in the
encrypted session cookie (`session["csrf"]`, new at every login), so a token is valid only for
the session it was issued to; at login the response carries a fresh token, and any request
whose cookie token does not fit the session gets a new one.

A service worker cannot read cookies, so `/sync` is excluded here and protected otherwise
(server/sync/api.py).
"""

from __future__ import annotations

import hashlib
from secrets import compare_digest
from typing import Any

from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import (
    CSRF_SECRET_LENGTH,
    CSRFMiddleware,
    generate_csrf_hash,
    generate_csrf_token,
)
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from server.auth import FILE_PATHS
from server.settings import Settings

# static files, icons and the worker set no CSRF cookie: 200 bytes on each of a first load's
# twenty responses, and a Set-Cookie keeps a shared cache from keeping a file
EXCLUDE = ["/sync", *FILE_PATHS]


def config(settings: Settings) -> CSRFConfig:
    secret = hashlib.sha256(f"csrf:{settings.secret_keys[0]}".encode()).hexdigest()
    return CSRFConfig(secret=secret, cookie_secure=settings.secure_cookies, exclude=EXCLUDE)


def on_app_init(settings: Settings):
    """Add the middleware after the session middleware, so it sees the decoded session."""
    csrf_config = config(settings)

    def add(app_config: AppConfig) -> AppConfig:
        app_config.middleware.append(DefineMiddleware(SessionCSRFMiddleware, config=csrf_config))
        return app_config

    return add


def _session_secret(secret: str, session: Any) -> str:
    key = session.get("csrf", "") if isinstance(session, dict) else ""
    # sessions without a key (anonymous, or from before this check) share the plain secret
    return f"{secret}:{key}" if key else secret


def new_token(settings: Settings, session: dict[str, Any]) -> str:
    return generate_csrf_token(secret=_session_secret(config(settings).secret, session))


def cookie(settings: Settings, session: dict[str, Any]) -> Cookie:
    """The CSRF cookie for a session just started (login) or changed (password change)."""
    csrf_config = config(settings)
    return Cookie(
        key=csrf_config.cookie_name,
        value=new_token(settings, session),
        path=csrf_config.cookie_path,
        secure=csrf_config.cookie_secure,
        httponly=csrf_config.cookie_httponly,
        samesite=csrf_config.cookie_samesite,
    )


def _valid(token: str | None, secret: str) -> str | None:
    """The token's random part when it is signed for this secret."""
    if not token or len(token) < CSRF_SECRET_LENGTH + 1:
        return None
    value, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return value if compare_digest(signature, generate_csrf_hash(value, secret)) else None


class SessionCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF middleware with the token's signature bound to the session."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return

        session = scope.get("session")
        secret = _session_secret(self.config.secret, None if session is Empty else session)
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie_token = request.cookies.get(self.config.cookie_name)
        state = ScopeState.from_scope(scope)

        if request.method in self.config.safe_methods:
            if _valid(cookie_token, secret):
                state.csrf_token = cookie_token
                await self.app(scope, receive, send)
            else:
                # no cookie, or one issued to another session: hand out this session's token
                token = state.csrf_token = generate_csrf_token(secret=secret)
                await self.app(scope, receive, self.create_send_wrapper(send, token, None))
            return

        sent = request.headers.get(self.config.header_name)
        content_type, _ = request.content_type
        if not sent and content_type in {
            RequestEncodingType.URL_ENCODED,
            RequestEncodingType.MULTI_PART,
        }:
            sent = (await request.form()).get("_csrf_token")
        value = _valid(sent, secret)
        if value is None or not compare_digest(value, _valid(cookie_token, secret) or ""):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = sent
        await self.app(scope, receive, send)
