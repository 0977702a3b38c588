"""The app factory: the one place where routes, templates, sessions and errors are wired."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jinja2 import pass_context
from litestar import Litestar, Request, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from sqlalchemy.orm import Session

from server import auth, clock, csrf, errors, flash, homes, params, static_files
from server import notify as notify_loop
from server.db import APP_POOL, WORKER_THREADS, make_engine, make_sessionmaker, writing
from server.escalations import STATES as ESCALATION_STATES
from server.escalations import badge_count as escalation_badge
from server.kinds import KINDS
from server.models import ROLE_LABELS
from server.routes import (
    accounts,
    admin_accounts,
    admin_import,
    assessment,
    attendance,
    cohorts,
    conflicts,
    course_teachers,  # §2.6.2 任课教师通讯录
    department,
    department_rules,
    department_week,
    discipline,
    dorm_visits,
    due,
    duty,
    duty_leave,  # §1.9 approved leave meets the §2.4 roster
    duty_roster,
    escalations,
    evaluations,
    health,
    home,
    install,
    labels,
    leave,
    photos,
    prepare,
    pwa,
    records,
    rooms,
    second_classroom,
    semester_start,
    semesters,
    students,
    upkeep,
    worklog,
)
from server.routes import meetings as meeting_routes  # §2.1–2.3 weekly meetings, 班会手册
from server.routes import quality_assessment as quality_routes  # §1.6 综合素质测评
from server.routes import tasks as task_routes  # §1.4 主管领导布置的工作
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
    *conflicts.ROUTES,
    *photos.ROUTES,
    *due.ROUTES,
    *leave.ROUTES,
    *second_classroom.ROUTES,
    *semester_start.ROUTES,
    *department_rules.ROUTES,
    *dorm_visits.ROUTES,
    *evaluations.ROUTES,
    *rooms.ROUTES,
    *attendance.ROUTES,
    *duty.ROUTES,
    *duty_roster.ROUTES,
    *department.ROUTES,
    *department_week.ROUTES,
    *discipline.ROUTES,
    *worklog.ROUTES,
    *labels.ROUTES,
    *semesters.ROUTES,
    *upkeep.ROUTES,
    *students.ROUTES,
    *admin_import.ROUTES,
    *cohorts.ROUTES,
    *health.ROUTES,
    *pwa.ROUTES,
    *install.ROUTES,
    *prepare.ROUTES,
    *sync_api.ROUTES,
    *meeting_routes.ROUTES,
    *task_routes.ROUTES,
    *quality_routes.ROUTES,
    *duty_leave.ROUTES,
    *course_teachers.ROUTES,
    *assessment.ROUTES,
    *escalations.ROUTES,
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


def _remembered_url_for():
    """Litestar's `url_for` for templates, remembering the paths it made: a page's menu asks
    for forty, a due list for three a student, and reversing a route name walks the whole
    route table each time (a tenth of a simple page's time, issue 16). The table is fixed
    once the app is built; the paths with parameters are kept up to a bound."""

    @functools.lru_cache(maxsize=8192)
    def path(reverse, route_name: str, parameters: tuple) -> str:
        return reverse(route_name, **dict(parameters))

    @pass_context
    def url_for(context: Mapping[str, Any], route_name: str, **path_parameters: Any) -> str:
        reverse = context["request"].app.route_reverse
        try:
            return path(reverse, route_name, tuple(sorted(path_parameters.items())))
        except TypeError:  # a parameter that cannot be a key (none of the app's templates)
            return reverse(route_name, **path_parameters)

    return url_for


def _templates(settings: Settings) -> TemplateConfig:
    def configure(engine: JinjaTemplateEngine) -> None:
        # checking every template file's mtime on every render cost a stat per template per
        # request (issue 16); a release starts new processes, and XUEGONG_DEBUG=1 reloads
        engine.engine.auto_reload = settings.debug
        engine.engine.filters["local_time"] = clock.local_time
        engine.engine.globals["ROLE_LABELS"] = ROLE_LABELS
        engine.engine.globals["asset"] = asset_url
        # every kind is corrected by its author (server/routes/records.py: /entries/<id>/edit)
        engine.engine.globals["EDITABLE_KINDS"] = set(KINDS)
        # base.html shows the confirmations waiting in the session once (server/flash.py)
        engine.engine.globals["take_flashes"] = flash.take
        # the menu's count of open escalations for leaders and the office (server/escalations.py)
        engine.engine.globals["escalation_badge"] = escalation_badge
        engine.engine.globals["ESCALATION_STATES"] = ESCALATION_STATES
        engine.engine.globals["url_for"] = _remembered_url_for()

    return TemplateConfig(
        directory=WEB_DIR / "templates", engine=JinjaTemplateEngine, engine_callback=configure
    )


STATIC_DIRS = [WEB_DIR / "static", *NPM_DIRS]
# a static file asked for under its content's hash never changes: the browser keeps it a year
# and never asks again; asked for without (ES module imports) it is revalidated (ETag, 304)
# on every use
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@functools.cache
def asset_url(file_path: str) -> str:
    """`/static/<file>?v=<hash of its content>` for templates (`asset('/app.css')`,
    `asset('/npm/idb/umd.js')`) and the service worker's shell (server/routes/pwa.py).

    Cached for the life of the process: static files ship with the app and change only with a
    new release, which starts new processes."""
    path = static_files.find(file_path, STATIC_DIRS, pwa.NPM_PACKAGES)
    if path is None:
        raise FileNotFoundError(file_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"/static{file_path}?v={digest}"


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
# files that are not documents: no Content-Security-Policy (server/csrf.py: no CSRF cookie)
STATIC_PREFIXES = ("/static/", "/icons/", "/favicon.ico", "/manifest.webmanifest")


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
        static = scope["path"].startswith(STATIC_PREFIXES)
        for name, value in fixed.items():
            # a policy governs documents and workers (sw.js): on a script, a style sheet or an
            # icon it is 290 bytes that do nothing, a sixth of a first load's headers
            if not (static and name == "Content-Security-Policy"):
                headers[name] = value
        if scope["path"].startswith("/static/") and message["status"] == 200:
            versioned = b"v=" in scope.get("query_string", b"")
            headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
            if versioned and "etag" in headers:
                del headers["etag"]  # never revalidated: 35 bytes for nothing
        content_type = (headers.get("content-type") or "").encode()
        if content_type.startswith(NO_STORE_TYPES) and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"

    return before_send


def _compression() -> CompressionConfig:
    # brotli (quality 5) for every response of 500 bytes or more, gzip (level 6) for browsers
    # that do not take brotli (Chromium asks for "br" over https and from localhost): a phone
    # on a dorm corridor's signal gets a page in a fifth of the bytes. Brotli 5 is smaller than
    # gzip 6 (a page by about 15 %, 准备巡查's bundle of door pages by 45 %) for about the same
    # CPU; higher qualities cost many times more.
    # Static files and the worker come compressed already, at brotli's best
    # (server/static_files.py).
    return CompressionConfig(
        backend="brotli",
        brotli_quality=5,
        gzip_compress_level=6,
        minimum_size=500,
        exclude=["^/static/", "^/sw.js$"],
    )


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
    homes.ACK_HOURS[0] = settings.escalation_ack_hours  # the overdue card (server/homes.py)

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
            static_files.handler(STATIC_DIRS, pwa.NPM_PACKAGES),
        ],
        dependencies={
            "db": Provide(provide_db),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        state=State(
            {
                "settings": settings,
                "engine": engine,
                # for reads
                "sessionmaker": make_sessionmaker(engine, photo_dir=settings.photo_dir),
                "write_sessionmaker": make_sessionmaker(
                    writing(engine), photo_dir=settings.photo_dir
                ),
                "writers": None,  # the SQLite writers' turn, set at start-up
            }
        ),
        # the CSRF middleware runs inside the session middleware: tokens are bound to sessions
        on_app_init=[auth.session_auth(settings).on_app_init, csrf.on_app_init(settings)],
        before_send=[security_headers(settings)],
        # a one-time password opens only /account/password (server/auth.py)
        guards=[auth.password_change_guard],
        template_config=_templates(settings),
        compression_config=_compression(),
        plugins=[HTMXPlugin()],
        exception_handlers=errors.HANDLERS,
        before_request=params.screen_request,
        openapi_config=_openapi(),
        # only Litestar's own logger: the root logger stays the server's (uvicorn) or the
        # test runner's, so other libraries' logs are not sent to a stream that has closed
        logging_config=LoggingConfig(configure_root_logger=False),
        on_startup=[start_worker_threads, notify_loop.start_loop],
        on_shutdown=[notify_loop.stop_loop, dispose_engine],
        debug=settings.debug,
    )
