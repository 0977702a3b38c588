"""Accounts for the admin (/admin/accounts): find, create, edit, disable, reset a password,
log someone out everywhere, and a printable sheet of one-time passwords (server/accounts.py)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import accounts
from server.auth import requires_admin
from server.models import ROLE_LABELS, Department, Role, User
from server.settings import Settings

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
ADMIN = {"guards": [requires_admin], "sync_to_thread": True}


@get("/admin/accounts", name="accounts_list", **ADMIN)
def accounts_list(
    db: Session, q: str = "", department: str = "", role: str = "", done: str = "",
    never: bool = False,
) -> Template:  # fmt: skip
    department_id = int(department) if department.isdigit() else None
    chosen_role = Role(role) if role in Role.__members__ else None
    found = accounts.search(db, q, department_id, chosen_role)
    if never:  # the admin's home: one-time passwords never used to log in
        found = [u for u in found if u.active and u.must_change_password]
    return Template(
        "admin_accounts.html",
        context={
            "users": found,
            "q": q,
            "department_id": department_id,
            "role": chosen_role,
            "done": DONE.get(done, ""),
            **_choices(db),
        },
    )


DONE = {
    "created": "账号已创建。",
    "saved": "已保存。",
    "disabled": "账号已停用，这个人已在所有设备上退出登录。",
    "enabled": "账号已启用。",
    "ended": "这个人已在所有设备上退出登录。",
}


@get("/admin/accounts/new", name="account_new", **ADMIN)
def account_new(db: Session) -> Template:
    return _form(db, None, {})


@post("/admin/accounts/create", name="account_create", status_code=200, **ADMIN)
def account_create(db: Session, data: Form) -> Template:
    try:
        form = _parse(db, data)
        user, password = accounts.create_account(db, data.get("username", ""), form)
    except accounts.AccountRefused as exc:
        db.rollback()
        return _form(db, None, data, error=str(exc))
    db.commit()
    return _one_time(user, password, created=True)


@get("/admin/accounts/{user_id:int}", name="account_edit", **ADMIN)
def account_edit(db: Session, user_id: int) -> Template:
    return _form(db, _user(db, user_id), {})


@post("/admin/accounts/{user_id:int}/save", name="account_update", status_code=303, **ADMIN)
def account_update(
    request: Request[User, dict, object], db: Session, user_id: int, data: Form
) -> Template | Redirect:
    user = _user(db, user_id)
    try:
        accounts.update_account(db, request.user, user, _parse(db, data))
    except accounts.AccountRefused as exc:
        db.rollback()
        return _form(db, _user(db, user_id), data, error=str(exc))
    db.commit()
    return _back(request, "saved")


@post("/admin/accounts/{user_id:int}/disable", name="account_disable", status_code=303, **ADMIN)
def account_disable(request: Request[User, dict, object], db: Session, user_id: int) -> Any:
    return _set_active(request, db, user_id, False)


@post("/admin/accounts/{user_id:int}/enable", name="account_enable", status_code=303, **ADMIN)
def account_enable(request: Request[User, dict, object], db: Session, user_id: int) -> Any:
    return _set_active(request, db, user_id, True)


@post("/admin/accounts/{user_id:int}/reset-password", name="account_reset_password",
      status_code=200, **ADMIN)  # fmt: skip
def account_reset_password(db: Session, user_id: int) -> Template:
    user = _user(db, user_id)
    password = accounts.issue_one_time_password(db, user)
    db.commit()
    return _one_time(user, password, created=False)


@post("/admin/accounts/{user_id:int}/end-sessions", name="account_end_sessions",
      status_code=303, **ADMIN)  # fmt: skip
def account_end_sessions(request: Request[User, dict, object], db: Session, user_id: int) -> Any:
    accounts.end_sessions(db, _user(db, user_id))
    db.commit()
    return _back(request, "ended")


@get("/admin/password-sheet", name="password_sheet_pick", **ADMIN)
def password_sheet_pick(db: Session, department: str = "") -> Template:
    department_id = int(department) if department.isdigit() else None
    return Template(
        "admin_password_sheet_pick.html",
        context={
            "users": accounts.accounts_without_password(db, department_id),
            "department_id": department_id,
            "error": "",
            **_choices(db),
        },
    )


@post("/admin/password-sheet/issue", name="password_sheet", status_code=200, **ADMIN)
def password_sheet(db: Session, settings: Settings, data: Form) -> Template:
    ids = [int(v) for v in _list(data.get("user_id")) if str(v).isdigit()]
    if not ids:
        return Template(
            "admin_password_sheet_pick.html",
            context={
                "users": accounts.accounts_without_password(db),
                "department_id": None,
                "error": "请至少选择一个账号。",
                **_choices(db),
            },
            status_code=400,
        )
    issued = accounts.issue_one_time_passwords(db, ids)
    db.commit()
    # shown once: the page is never cached (no-store, server/app.py) and the passwords exist
    # nowhere else in clear
    return Template(
        "admin_password_sheet.html",
        context={"issued": issued, "address": settings.base_url},
    )


def _set_active(request, db: Session, user_id: int, active: bool) -> Template | Redirect:
    user = _user(db, user_id)
    try:
        accounts.set_active(db, request.user, user, active)
    except accounts.AccountRefused as exc:
        db.rollback()
        return _form(db, _user(db, user_id), {}, error=str(exc))
    db.commit()
    return _back(request, "enabled" if active else "disabled")


def _parse(db: Session, data: dict[str, Any]) -> accounts.AccountForm:
    return accounts.parse_form(
        db,
        str(data.get("name", "")),
        str(data.get("department", "")),
        [str(r) for r in _list(data.get("roles"))],
        str(data.get("phone", "")),
    )


def _list(value) -> list:
    # a repeated field (several roles, several accounts) comes as a list, a single one as is
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundException("没有这个账号。")
    return user


def _choices(db: Session) -> dict[str, Any]:
    return {
        "departments": db.scalars(select(Department).order_by(Department.name)).all(),
        "roles": list(Role),
        "role_labels": ROLE_LABELS,
    }


def _form(db: Session, user: User | None, data: dict[str, Any], error: str = "") -> Template:
    if data:  # a refused form shows what was typed
        values = {
            "username": data.get("username", ""),
            "name": data.get("name", ""),
            "department": str(data.get("department", "")),
            "roles": {str(r) for r in _list(data.get("roles"))},
            "phone": data.get("phone", ""),
        }
    elif user is not None:
        values = {
            "username": user.username,
            "name": user.name,
            "department": str(user.department_id or ""),
            "roles": {r.value for r in user.roles},
            "phone": user.phone or "",
        }
    else:
        values = {"username": "", "name": "", "department": "", "roles": set(), "phone": ""}
    return Template(
        "admin_account_form.html",
        context={"account": user, "values": values, "error": error, **_choices(db)},
        status_code=400 if error else 200,
    )


def _one_time(user: User, password: str, created: bool) -> Template:
    return Template(
        "admin_one_time_password.html",
        context={"account": user, "password": password, "created": created},
    )


def _back(request: Request, done: str) -> Redirect:
    return Redirect(f"{request.app.route_reverse('accounts_list')}?done={done}", status_code=303)


ROUTES = [
    accounts_list,
    account_new,
    account_create,
    account_edit,
    account_update,
    account_disable,
    account_enable,
    account_reset_password,
    account_end_sessions,
    password_sheet_pick,
    password_sheet,
]
