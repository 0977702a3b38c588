"""Login, logout and changing one's password."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import accounts, auth, csrf, params
from server.auth import requires_staff
from server.models import User
from server.settings import Settings

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/login", name="login", sync_to_thread=False)
def login_page(request: Request, next: str = "") -> Template:
    return _login_template(request, next)


# async: the steps that touch the database and argon2 run in threads of their own
# (server/auth.py), so no connection is held while a password is checked
@post("/login", name="login_submit", status_code=303)
async def login_submit(request: Request, settings: Settings, data: Form) -> Template | Redirect:
    address = auth.client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        settings,
    )
    try:
        next_path, username = params.one(data, "next"), params.one(data, "username")
        password = params.one(data, "password")
    except params.BadInput as exc:
        return _login_template(request, "", error=exc.detail, status=400)
    try:
        user = await auth.log_in(request.app.state, settings, username, password, address)
    except auth.LoginRefused as exc:
        return _login_template(
            request,
            next_path,
            error=str(exc),
            username=username,
            status=400 if exc.retry_after is None else 429,
            headers={} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)},
        )
    return _start_session(request, settings, user, _safe_next(request, next_path))


@post("/logout", name="logout", status_code=303, sync_to_thread=True)
def logout(request: Request, db: Session) -> Redirect:
    if isinstance(request.user, User):
        # every copy of this session cookie stops working, on this phone and any other
        accounts.end_sessions(db, request.user)
        db.commit()
    request.clear_session()
    # a shared phone keeps nothing of this person: cached pages, the outbox (IndexedDB) and
    # the service worker go; the page's own script warns first when the outbox is not empty
    response = Redirect(
        request.app.route_reverse("login"),
        status_code=303,
        headers={"Clear-Site-Data": '"cache", "storage"'},
    )
    response.delete_cookie(csrf.config(request.app.state.settings).cookie_name)
    return response


@get("/account/password", name="password_form", guards=[requires_staff], sync_to_thread=False)
def password_form(request: Request, changed: bool = False) -> Template:
    return _password_template(request, "", changed)


# async, without the request's `db`: a POST's session would hold SQLite's writers' turn
# while argon2 runs; the check runs in a hashing thread, the write is one short step
@post(
    "/account/password/change",
    name="change_password",
    guards=[requires_staff],
    status_code=303,
)
async def change_password(request: Request, settings: Settings, data: Form) -> Template | Redirect:
    user = request.user
    new = data.get("new_password", "")
    try:
        if new != data.get("new_password_again", ""):
            raise accounts.PasswordRefused("两次输入的新密码不一致。")
        new_hash = await auth.run_hashing(
            accounts.new_password_hash, user, data.get("current_password", ""), new
        )
    except accounts.PasswordRefused as exc:
        return _password_template(request, str(exc), False, status=400)
    await auth.run_writing(request.app.state, _set_password, user, new_hash)
    # every other phone is logged out; this one goes on with a session of the new epoch
    done = request.app.route_reverse("password_form")
    return _start_session(request, settings, user, f"{done}?changed=1")


def _set_password(sessionmaker, user: User, new_hash: str) -> None:
    with sessionmaker() as db:
        accounts.set_password(db, user, new_hash)
        db.commit()


def _password_template(request: Request, error: str, changed: bool, status: int = 200) -> Template:
    return Template(
        "account_password.html",
        context={
            "error": error,
            "changed": changed,
            "forced": request.user.must_change_password,
        },
        status_code=status,
    )


def _start_session(request: Request, settings: Settings, user: User, to: str) -> Redirect:
    session = auth.session_data(user)
    request.set_session(session)
    # a CSRF token issued before does not fit the new session: hand out its own
    return Redirect(to, status_code=303, cookies=[csrf.cookie(settings, session)])


def _login_template(
    request: Request,
    next_path: str,
    error: str = "",
    username: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        "login.html",
        context={"next": next_path, "error": error, "username": username},
        status_code=status,
        headers=headers,
    )


def _safe_next(request: Request, next_path: str) -> str:
    # only paths on this site: "//evil.example" and "https://…" would leave it
    if next_path.startswith("/") and not next_path.startswith("//"):
        return next_path
    return request.app.route_reverse("home")


ROUTES = [login_page, login_submit, logout, password_form, change_password]
