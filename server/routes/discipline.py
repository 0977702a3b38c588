"""违纪处理 (discipline cases, §1.8): the lists by role, a case with its steps and the forms of
the next step, and a semester's cases of a department as an Excel sheet. A case is written
and edited with the shared record form (/records/new/discipline)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException, ValidationException
from litestar.params import Body, Parameter
from litestar.response import Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, discipline, params, scope, semesters
from server.models import Department, Role, User
from server.params import OptionalId
from server.records.discipline import (
    DECISIONS,
    HANDLINGS,
    STATES,
    STEPS,
    WITH_COUNSELOR,
    WITH_LEADER,
    WITH_OFFICE,
)

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


LISTS = ("my_open", "to_review", "to_approve")  # ?list=: one list alone (the home cards')


@get("/discipline", name="discipline_list", sync_to_thread=True)
def discipline_list(
    request: Request[User, dict, object], db: Session, only: Annotated[
        str | None, Parameter(query="list", max_length=20)] = None,
    department_id: Annotated[OptionalId, Parameter(query="department")] = None,
) -> Template:  # fmt: skip
    """My cases (counselor), to review (leader), to approve (office): each list's container
    carries data-count, the number a home card shows; `?list=` shows one list alone (of one
    department with `&department=`, to approve)."""
    user = _reader(request.user)
    if only is not None and only not in LISTS:
        raise ValidationException(f"没有这个列表：{only[:20]}")
    mine = discipline.mine(db, user)
    department = discipline.of_department(db, user)
    to_review = [c for c in department if c.state in WITH_LEADER]
    to_approve = discipline.to_approve(db, user, department_id if only == "to_approve" else None)
    recent = (
        discipline.cases_where(db, scope.discipline_condition(user), limit=200)
        if user.has(Role.office)
        else []
    )
    shown = [*mine, *department, *to_approve, *recent]
    departments = {d.id: d.name for d in db.scalars(select(Department))}
    per_department: dict[int | None, list] = {}
    for case in to_approve:
        per_department.setdefault(case.entry.department_id, []).append(case)
    return Template(
        "discipline_list.html",
        context={
            "is_counselor": user.has(Role.counselor),
            "is_leader": user.has(Role.leader) and user.department_id is not None,
            "is_office": user.has(Role.office),
            "my_open": [c for c in mine if c.state != "done"],
            "my_done": [c for c in mine if c.state == "done"],
            "to_review": sorted(to_review, key=lambda c: c.last.at),
            "department_cases": department,
            "to_approve_by_department": per_department,
            "to_approve_count": len(to_approve),
            "recent": recent,
            "departments": departments,
            "students": discipline.students_of(db, shown),
            "with_counselor": WITH_COUNSELOR,
            "semester_day": clock.today().isoformat(),
            "only": only,
        },
    )


@get("/discipline/export", name="discipline_export", sync_to_thread=True)
def discipline_export(
    request: Request[User, dict, object],
    db: Session,
    semester: str = "",
    department: OptionalId = None,
) -> Response:
    """A semester's cases of a department (the leader's own; the office picks one), one row
    per case per student with its steps. `semester` is any day of the semester."""
    user = request.user
    if not user.has(Role.leader, Role.office):
        raise PermissionDeniedException("违纪处理汇总只有系部学生工作负责人和学工部可以导出。")
    day = params.parse_date(semester, "学期日期") if semester else clock.today()
    if user.has(Role.office):
        dept = scope.department_for(db, user, department, refusal="")
    else:
        dept = scope.department_for(db, user, department, refusal="只能导出本系部的违纪处理。")
    term = semesters.term_of(db, day)
    content = discipline.export(db, user, dept, term)
    filename = quote(f"违纪处理_{dept.name}_{term.name}.xlsx")
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@get("/discipline/{entry_id:uuid}", name="discipline_case", sync_to_thread=True)
def discipline_case(
    request: Request[User, dict, object], db: Session, entry_id: uuid.UUID
) -> Template:
    return _case_page(db, request.user, scope.discipline_case_for(db, request.user, entry_id))


@post("/discipline/{entry_id:uuid}/submit", name="submit_case", sync_to_thread=True)
def submit_case(
    request: Request[User, dict, object], db: Session, entry_id: uuid.UUID
) -> Template | Redirect:
    user = request.user
    entry = scope.discipline_case_for(db, user, entry_id, to="submit")
    return _act(request, db, entry, lambda: discipline.submit(db, user, entry))


@post("/discipline/{entry_id:uuid}/review", name="review_case", sync_to_thread=True)
def review_case(
    request: Request[User, dict, object], db: Session, entry_id: uuid.UUID, data: Form
) -> Template | Redirect:
    user = request.user
    entry = scope.discipline_case_for(db, user, entry_id, to="review")
    decision, handling, reason = (
        params.one(data, "decision"), params.one(data, "handling"), params.one(data, "reason")
    )  # fmt: skip
    return _act(
        request, db, entry, lambda: discipline.review(db, user, entry, decision, handling, reason)
    )


@post("/discipline/{entry_id:uuid}/approve", name="approve_case", sync_to_thread=True)
def approve_case(
    request: Request[User, dict, object], db: Session, entry_id: uuid.UUID, data: Form
) -> Template | Redirect:
    user = request.user
    entry = scope.discipline_case_for(db, user, entry_id, to="approve")
    decision, handling, reason = (
        params.one(data, "decision"), params.one(data, "handling"), params.one(data, "reason")
    )  # fmt: skip
    typed_day = params.one(data, "decided_on")

    def act():
        try:
            day = params.parse_date(typed_day, "处理决定日期") if typed_day else None
        except params.BadInput as exc:
            raise discipline.DisciplineError(exc.detail) from None
        return discipline.approve(db, user, entry, decision, handling, reason, day)

    return _act(request, db, entry, act)


def _reader(user: User) -> User:
    if not scope.may_see_discipline(user):
        raise PermissionDeniedException(f"{scope.CASE_READERS}。")
    return user


def _act(request: Request, db: Session, entry, action) -> Template | Redirect:
    """Take a step; a refused one shows the case again with the reason (409), nothing saved."""
    try:
        action()
    except discipline.DisciplineError as exc:
        db.rollback()
        return _case_page(db, request.user, entry, error=str(exc), status=409)
    db.commit()
    return Redirect(
        request.app.route_reverse("discipline_case", entry_id=entry.id), status_code=303
    )


def _case_page(db: Session, user: User, entry, *, error: str = "", status: int = 200) -> Template:
    case = discipline.case_of(db, entry)
    state = case.state
    return Template(
        "discipline_case.html",
        context={
            "case": case,
            "entry": entry,
            "steps": discipline.steps_of(db, entry.id),
            "students": discipline.students_of(db, [case]),
            "department": db.get(Department, entry.department_id) if entry.department_id else None,
            "may_submit": entry.author_id == user.id and state in WITH_COUNSELOR,
            "may_review": user.has(Role.leader)
            and entry.department_id == user.department_id
            and state in WITH_LEADER,
            "may_approve": user.has(Role.office) and state in WITH_OFFICE,
            "handlings": HANDLINGS,
            "decisions": DECISIONS,
            "step_names": STEPS,
            "states": STATES,
            "error": error,
            "today": clock.today(),
        },
        status_code=status,
    )


ROUTES = [
    discipline_list,
    discipline_export,
    discipline_case,
    submit_case,
    review_case,
    approve_case,
]
