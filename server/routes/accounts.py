"""Login and logout."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import auth, params
from server.settings import Settings

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/login", name="login", sync_to_thread=False)
def login_page(request: Request, next: str = "") -> Template:
    return _login_template(request, next)


# not a writer of server/app.py's kind: its writes are single statements after the password
# check, which must not hold SQLite's write lock (or the writers' turn) while argon2 runs
@post("/login", name="login_submit", status_code=303, sync_to_thread=True, opt={"writes": False})
def login_submit(
    request: Request, db: Session, settings: Settings, data: Form
) -> Template | Redirect:
    address = request.client.host if request.client else "unknown"
    try:
        next_path, username = params.one(data, "next"), params.one(data, "username")
        password = params.one(data, "password")
        user = auth.check_login(db, settings, username, password, address)
    except params.BadInput as exc:
        return _login_template(request, "", error=exc.detail, status=400)
    except auth.LoginRefused as exc:
        return _login_template(request, next_path, error=str(exc), username=username, status=400)
    request.set_session(auth.session_data(user))
    return Redirect(_safe_next(request, next_path), status_code=303)


@post("/logout", name="logout", status_code=303, sync_to_thread=False)
def logout(request: Request) -> Redirect:
    request.clear_session()
    # a shared phone keeps nothing of this person: cached pages, the outbox (IndexedDB) and
    # the service worker go; the page's own script warns first when the outbox is not empty
    return Redirect(
        request.app.route_reverse("login"),
        status_code=303,
        headers={"Clear-Site-Data": '"cache", "storage"'},
    )


def _login_template(
    request: Request, next_path: str, error: str = "", username: str = "", status: int = 200
) -> Template:
    return Template(
        "login.html",
        context={"next": next_path, "error": error, "username": username},
        status_code=status,
    )


def _safe_next(request: Request, next_path: str) -> str:
    # only paths on this site: "//evil.example" and "https://…" would leave it
    if next_path.startswith("/") and not next_path.startswith("//"):
        return next_path
    return request.app.route_reverse("home")


ROUTES = [login_page, login_submit, logout]
