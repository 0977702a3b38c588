"""The app factory: the one place where routes, templates, sessions and errors are wired."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from litestar import Litestar, Request, Router
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.orm import Session

from server import auth, clock, csrf, errors, params
from server.db import APP_POOL, WORKER_THREADS, make_engine, make_sessionmaker, writing
from server.kinds import RECORD_KINDS
from server.models import ROLE_LABELS
from server.routes import (
    accounts,
    admin_accounts,
    admin_import,
    attendance,
    cohorts,
    department,
    department_rules,
    department_week,
    dorm_visits,
    due,
    duty,
    duty_roster,
    health,
    home,
    install,
    labels,
    leave,
    prepare,
    pwa,
    records,
    rooms,
    semesters,
    upkeep,
    worklog,
)
from server.settings import PROJECT_DIR, Settings
from server.sync import api as sync_api

WEB_DIR = PROJECT_DIR / "web"
# htmx comes from npm (package-lock.json), never from a copy in git or a CDN
NPM_DIRS = [PROJECT_DIR / "node_modules" / "htmx.org" / "dist"]

ROUTES = [
    *accounts.ROUTES,
    *admin_accounts.ROUTES,
    *home.ROUTES,
    *records.ROUTES,
    *due.ROUTES,
    *leave.ROUTES,
    *department_rules.ROUTES,
    *dorm_visits.ROUTES,
    *rooms.ROUTES,
    *attendance.ROUTES,
    *duty.ROUTES,
    *duty_roster.ROUTES,
    *department.ROUTES,
    *department_week.ROUTES,
    *worklog.ROUTES,
    *labels.ROUTES,
    *semesters.ROUTES,
    *upkeep.ROUTES,
    *admin_import.ROUTES,
    *cohorts.ROUTES,
    *health.ROUTES,
    *pwa.ROUTES,
    *install.ROUTES,
    *prepare.ROUTES,
    *sync_api.ROUTES,
]


# Methods whose handlers write. A GET handler that writes says so with opt={"writes": True};
# a POST whose writes are single statements after slow work says opt={"writes": False}
WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def provide_db(request: Request, state: State) -> AsyncIterator[Session]:
    """The request's session, closed on the event loop as soon as the response is built.

    Handlers run in the worker threads (db.WORKER_THREADS); those that write commit there.
    Litestar runs the cleanup of a *sync* generator dependency in that same thread pool,
    queued behind handlers that may be waiting for a pooled connection — connections that
    were held by the very requests whose cleanup waited in the queue: 32 concurrent pages
    stalled SQLite for the pool's 30 s timeout. An async generator's cleanup runs on the
    loop, at once; closing ends a read transaction (a rollback) or nothing after a commit.
    """
    writes = request.route_handler.opt.get("writes", request.method in WRITING_METHODS)
    if not writes:
        with state.sessionmaker() as db:
            yield db
        return
    # SQLite lets one writer in at a time: writing requests of this process wait their turn
    # here, in order and without holding a worker thread, rather than in SQLite's busy loop
    # (which sleeps up to 100 ms between tries and lets a waiter starve); other processes
    # and the CLI still queue on BEGIN IMMEDIATE and the busy timeout (server/db.py)
    async with state.writers or contextlib.nullcontext():
        with state.write_sessionmaker() as db:
            yield db


def provide_settings(state: State) -> Settings:
    return state.settings


def _templates() -> TemplateConfig:
    def configure(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters["local_time"] = clock.local_time
        engine.engine.globals["ROLE_LABELS"] = ROLE_LABELS
        # records with an edit form of their own (server/routes/records.py)
        engine.engine.globals["EDITABLE_KINDS"] = set(RECORD_KINDS)

    return TemplateConfig(
        directory=WEB_DIR / "templates", engine=JinjaTemplateEngine, engine_callback=configure
    )


# no inline script or style anywhere (htmx's own indicator style is off: base.html), no
# framing, nothing from other sites; 'wasm-unsafe-eval' lets the QR decoder (zxing-wasm,
# web/static/scan.js) compile its WebAssembly, it allows no JavaScript eval
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600
# pages and JSON carry student data: never kept by a browser's or a proxy's HTTP cache (the
# service worker keeps its own copies in Cache Storage, which these headers do not touch)
NO_STORE_TYPES = (b"text/html", b"application/json")


def security_headers(settings: Settings):
    """One place for the headers every response gets (a `before_send` hook sees errors and
    redirects from the middleware too)."""
    fixed = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if settings.secure_cookies:  # the base URL is https
        fixed["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_SECONDS}"

    async def before_send(message, scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in fixed.items():
            headers[name] = value
        content_type = (headers.get("content-type") or "").encode()
        if content_type.startswith(NO_STORE_TYPES) and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"

    return before_send


def _openapi() -> OpenAPIConfig:
    # only the JSON schema (at /schema and /schema/openapi.json), for logged-in users: the
    # Swagger / ReDoc / RapiDoc pages would load their scripts from CDNs
    return OpenAPIConfig(
        title="学工随行 API",
        version="1",
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        openapi_router=Router(
            "/schema", route_handlers=[], guards=[auth.requires_staff], include_in_schema=False
        ),
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url, **APP_POOL)

    def start_worker_threads(app: Litestar) -> None:
        # sync handlers (Litestar's sync_to_thread) and the user lookup run in the loop's
        # default executor: give it as many threads as the pool has connections
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="xuegong-worker")
        )
        # one per event loop (a test client runs its own loop)
        app.state.writers = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    def dispose_engine() -> None:
        engine.dispose()

    return Litestar(
        route_handlers=[
            *ROUTES,
            create_static_files_router(
                path="/static", directories=[WEB_DIR / "static", *NPM_DIRS], name="static"
            ),
        ],
        dependencies={
            "db": Provide(provide_db),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "sessionmaker": make_sessionmaker(engine),  # for reads
                "write_sessionmaker": make_sessionmaker(writing(engine)),
                "writers": None,  # the SQLite writers' turn, set at start-up
            }
        ),
        # the CSRF middleware runs inside the session middleware: tokens are bound to sessions
        on_app_init=[auth.session_auth(settings).on_app_init, csrf.on_app_init(settings)],
        before_send=[security_headers(settings)],
        # a one-time password opens only /account/password (server/auth.py)
        guards=[auth.password_change_guard],
        template_config=_templates(),
        plugins=[HTMXPlugin()],
        exception_handlers=errors.HANDLERS,
        before_request=params.screen_request,
        openapi_config=_openapi(),
        # only Litestar's own logger: the root logger stays the server's (uvicorn) or the
        # test runner's, so other libraries' logs are not sent to a stream that has closed
        logging_config=LoggingConfig(configure_root_logger=False),
        on_startup=[start_worker_threads],
        on_shutdown=[dispose_engine],
        debug=settings.debug,
    )
