"""主管领导布置的工作 (§1.4): a leader's tasks for staff, and my part of them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock, params, tasks
from server.auth import requires_leader
from server.flash import flash
from server.models import User
from server.params import Id

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/tasks", name="tasks", sync_to_thread=True)
def my_tasks(request: Request[User, dict, object], db: Session) -> Template:
    return _page(db, request.user)


@post("/tasks/assign", name="assign_task", guards=[requires_leader], sync_to_thread=True)
def assign_task(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    user = request.user
    if not tasks.may_assign(user):
        raise PermissionDeniedException("只有系部负责人和学工处可以布置工作。")
    typed = {k: params.one(data, k) for k in ("title", "detail", "due")}
    try:
        due = params.parse_date(params.one(data, "due"), "完成期限")
        staff_ids = params.form_ids(data, "staff_ids")
        tasks.assign(db, user, params.one(data, "title"), params.one(data, "detail"), due,
                     staff_ids)  # fmt: skip
    except params.BadInput as exc:
        db.rollback()
        return _page(db, user, exc.detail, 422, typed)
    except tasks.TaskError as exc:
        db.rollback()
        return _page(db, user, str(exc), 422, typed)
    db.commit()
    flash(request, "工作已布置。")
    return Redirect(request.app.route_reverse("tasks"), status_code=303)


@post("/tasks/parts/{part_id:int}/done", name="task_done", sync_to_thread=True)
def task_done(
    request: Request[User, dict, object], db: Session, part_id: Id, data: Form
) -> Template | Redirect:
    user = request.user
    try:
        tasks.mark_done(db, user, part_id, params.one(data, "note"))
    except LookupError as exc:
        raise NotFoundException(str(exc)) from None
    except PermissionError as exc:
        raise PermissionDeniedException(str(exc)) from None
    except tasks.TaskError as exc:
        db.rollback()
        return _page(db, user, str(exc), 422)
    db.commit()
    flash(request, "已标记完成。")
    return Redirect(request.app.route_reverse("tasks"), status_code=303)


def _page(
    db: Session, user: User, error: str = "", status: int = 200, typed: dict | None = None
) -> Template:
    leads = tasks.may_assign(user)
    return Template(
        "tasks.html",
        context={
            "open": tasks.open_for(db, user), "done": tasks.done_by(db, user),
            "leads": leads, "assigned": tasks.assigned_by(db, user) if leads else [],
            "staff": tasks.assignable(db, user) if leads else [], "error": error,
            "typed": typed or {}, "today": clock.today(),
        },
        status_code=status,
    )  # fmt: skip


ROUTES = [my_tasks, assign_task, task_done]
