"""The app factory: the one place where routes, templates, sessions and errors are wired."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.orm import Session

from server import auth, clock, errors
from server.db import make_engine, make_sessionmaker
from server.kinds import RECORD_KINDS
from server.models import ROLE_LABELS
from server.routes import (
    accounts,
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


def provide_db(state: State) -> Iterator[Session]:
    # handlers that write commit themselves, in their worker thread; this only closes
    with state.sessionmaker() as db:
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


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    csrf_secret = hashlib.sha256(f"csrf:{settings.secret_keys[0]}".encode()).hexdigest()

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
            {"settings": settings, "engine": engine, "sessionmaker": make_sessionmaker(engine)}
        ),
        on_app_init=[auth.session_auth(settings).on_app_init],
        csrf_config=CSRFConfig(
            secret=csrf_secret, cookie_secure=settings.secure_cookies, exclude=["/sync"]
        ),
        template_config=_templates(),
        plugins=[HTMXPlugin()],
        exception_handlers=errors.HANDLERS,
        openapi_config=OpenAPIConfig(title="学工随行 API", version="1", path="/schema"),
        # only Litestar's own logger: the root logger stays the server's (uvicorn) or the
        # test runner's, so other libraries' logs are not sent to a stream that has closed
        logging_config=LoggingConfig(configure_root_logger=False),
        on_shutdown=[dispose_engine],
        debug=settings.debug,
    )
