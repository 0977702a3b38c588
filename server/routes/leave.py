"""请假 (staff leave, §1.9): my requests, and the department's for its leaders."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock, leave, scope
from server.auth import requires_leader
from server.models import User

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/leave", name="leave", sync_to_thread=True)
def my_leave(request: Request[User, dict, object], db: Session) -> Template:
    return _my_page(db, request.user)


@post("/leave/requests", name="request_leave", sync_to_thread=True)
def request_leave(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    try:
        start = date.fromisoformat(str(data.get("start", "")))
        end = date.fromisoformat(str(data.get("end", "")))
    except ValueError:
        return _my_page(db, request.user, "请填写开始和结束日期。", 422)
    try:
        leave.ask(db, request.user, start, end, str(data.get("reason") or ""))
    except leave.LeaveError as exc:
        return _my_page(db, request.user, str(exc), 422)
    db.commit()
    return Redirect(request.app.route_reverse("leave"), status_code=303)


@get("/department/leave", name="department_leave", guards=[requires_leader], sync_to_thread=True)
def department_leave(request: Request[User, dict, object], db: Session) -> Template:
    return _department_page(db, request.user)


@post(
    "/leave/{leave_id:int}/decide",
    name="decide_leave",
    guards=[requires_leader],
    sync_to_thread=True,
)
def decide_leave(
    request: Request[User, dict, object], db: Session, leave_id: int, data: Form
) -> Template | Redirect:
    user = request.user
    asked = scope.leave_for(db, user, leave_id)
    try:
        leave.decide(db, asked, user, str(data.get("decision") or ""), str(data.get("note") or ""))
    except leave.LeaveError as exc:
        db.rollback()
        return _department_page(db, user, str(exc), 409)
    db.commit()
    return Redirect(request.app.route_reverse("department_leave"), status_code=303)


def _my_page(db: Session, user: User, error: str = "", status: int = 200) -> Template:
    return Template(
        "leave.html",
        context={"leaves": leave.mine(db, user), "error": error, "today": clock.today()},
        status_code=status,
    )


def _department_page(db: Session, user: User, error: str = "", status: int = 200) -> Template:
    return Template(
        "department_leave.html",
        context={"leaves": leave.of_department(db, user), "error": error, "today": clock.today()},
        status_code=status,
    )


ROUTES = [my_leave, request_leave, department_leave, decide_leave]
