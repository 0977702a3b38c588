"""请假 (staff leave, §1.9): my requests, and the department's for its leaders."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock, leave, params, scope
from server.auth import requires_leader
from server.flash import flash
from server.models import LeaveStatus, User
from server.params import Id

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/leave", name="leave", sync_to_thread=True)
def my_leave(request: Request[User, dict, object], db: Session) -> Template:
    return _my_page(db, request.user)


@post("/leave/requests", name="request_leave", sync_to_thread=True)
def request_leave(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    try:
        start = params.parse_date(params.one(data, "start"), "开始日期")
        end = params.parse_date(params.one(data, "end"), "结束日期")
    except params.BadInput as exc:
        return _my_page(db, request.user, exc.detail, 422)
    try:
        leave.ask(db, request.user, start, end, params.one(data, "reason"))
    except leave.LeaveError as exc:
        return _my_page(db, request.user, str(exc), 422)
    db.commit()
    flash(request, "请假申请已提交，等负责人审批。")
    return Redirect(request.app.route_reverse("leave"), status_code=303)


@get("/department/leave", name="department_leave", guards=[requires_leader], sync_to_thread=True)
def department_leave(
    request: Request[User, dict, object], db: Session, waiting: bool = False
) -> Template:
    """The department's requests; `waiting`: only those not decided yet (the leader's home)."""
    return _department_page(db, request.user, waiting=waiting)


@post(
    "/leave/{leave_id:int}/decide",
    name="decide_leave",
    guards=[requires_leader],
    sync_to_thread=True,
)
def decide_leave(
    request: Request[User, dict, object], db: Session, leave_id: Id, data: Form
) -> Template | Redirect:
    user = request.user
    asked = scope.leave_for(db, user, leave_id)
    try:
        leave.decide(db, asked, user, params.one(data, "decision"), params.one(data, "note"))
    except leave.LeaveError as exc:
        db.rollback()
        return _department_page(db, user, str(exc), 409)
    db.commit()
    flash(request, "已记录审批结果。")
    return Redirect(request.app.route_reverse("department_leave"), status_code=303)


def _my_page(db: Session, user: User, error: str = "", status: int = 200) -> Template:
    return Template(
        "leave.html",
        context={"leaves": leave.mine(db, user), "error": error, "today": clock.today()},
        status_code=status,
    )


def _department_page(
    db: Session, user: User, error: str = "", status: int = 200, *, waiting: bool = False
) -> Template:
    leaves = leave.of_department(db, user)
    if waiting:
        leaves = [item for item in leaves if item.status == LeaveStatus.requested]
    return Template(
        "department_leave.html",
        context={"leaves": leaves, "error": error, "today": clock.today(), "waiting": waiting},
        status_code=status,
    )


ROUTES = [my_leave, request_leave, department_leave, decide_leave]
