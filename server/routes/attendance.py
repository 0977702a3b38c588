"""检查上课: attendance checks of a class, its history and warnings, and its course roles.

The check form lives at one URL per class without a query (/classes/<id>/attendance/new), so
准备巡查 can cache it; course, period and date are chosen in the form. It posts to
/attendance/checks, which writes the entry through the same merge rules as the offline sync.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import attendance, clock, homes, params, scope, semesters
from server.models import ClassCourse, Course, Entry, SchoolClass, User
from server.params import Id
from server.routes import forms
from server.sync.ids import new_entry_id

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/attendance", name="attendance", sync_to_thread=True)
def my_classes(request: Request[User, dict, object], db: Session) -> Template:
    mine, others = attendance.classes_of(db, request.user)
    return Template(
        "attendance.html", context={"mine": mine, "others": others, "user": request.user}
    )


@get("/attendance/warnings", name="attendance_warnings", sync_to_thread=True)
def attendance_warnings(request: Request[User, dict, object], db: Session) -> Template:
    """考勤预警: every student with 预警 in the classes the user works with (the leader's home)."""
    return Template(
        "attendance_warnings.html",
        context={"rows": homes.attendance_warnings(db, request.user),
                 "absences": attendance.WARNING_ABSENCES, "days": attendance.WARNING_DAYS},
    )  # fmt: skip


@get("/classes/{class_id:int}/attendance/new", name="attendance_form", sync_to_thread=True)
def attendance_form(request: Request[User, dict, object], db: Session, class_id: Id) -> Template:
    return _form(db, scope.class_for(db, request.user, class_id, to_record=True))


@post("/attendance/checks", name="save_attendance", sync_to_thread=True)
def save_attendance(
    request: HTMXRequest, db: Session, data: Form
) -> Template | Redirect | ClientRedirect:
    """Answers like `save_visit`: 303 (plain post) or a client redirect (htmx) to my records;
    a refused check comes back as the form with what was marked and why (422)."""
    entry_id, outcome, typed = forms.save(request, db, attendance.ATTENDANCE_CHECK, data)
    if forms.stored(outcome):
        return forms.saved(request, entry_id)
    class_id = forms.id_of(typed.get("class_id"))
    if not class_id:
        return forms.refused(outcome)
    # only a class the user records checks for is drawn again (its roster): another class
    # answers 403 like its GET
    return _form(
        db,
        scope.class_for(db, request.user, class_id, to_record=True),
        error=outcome.reason,
        typed=typed,
        entry_id=new_entry_id(),
        status=422,
        partial=bool(request.htmx),
    )


@get("/classes/{class_id:int}/attendance", name="attendance_history", sync_to_thread=True)
def attendance_history(request: Request[User, dict, object], db: Session, class_id: Id) -> Template:
    school_class = scope.class_for(db, request.user, class_id)
    today = clock.today()
    rows = attendance.history(db, class_id, today)
    term = semesters.term_of(db, today)
    checks = attendance.checks_of(
        db, class_id, term.first, today + timedelta(days=attendance.MAX_DAYS_AHEAD)
    )
    enrolled = len(rows)
    return Template(
        "attendance_history.html",
        context={
            "school_class": school_class,
            "rows": rows,
            "warnings": attendance.warnings(rows),
            "checks": [(c, attendance.counts(enrolled, c.payload["marks"])) for c in checks],
            "courses": {c.id: c.name for c in attendance.courses_of(db, class_id)},
            "may_record": attendance.may_record(db, request.user, class_id),
            "semester_start": term.first,
            "marks": attendance.MARKS,
            "periods": attendance.PERIODS,
            "warning_days": attendance.WARNING_DAYS,
            "warning_absences": attendance.WARNING_ABSENCES,
        },
    )


@get("/classes/{class_id:int}/course-roles", name="course_roles", sync_to_thread=True)
def course_roles(request: Request[User, dict, object], db: Session, class_id: Id) -> Template:
    school_class = scope.class_for(db, request.user, class_id, to_record=True)
    roles = attendance.course_roles(db, class_id)
    students = {s.id: s for s in attendance.roster(db, class_id)}
    return Template(
        "course_roles.html",
        context={
            "school_class": school_class,
            "courses": attendance.courses_of(db, class_id),
            "roles": roles,
            "students": students,
            "labels": attendance.COURSE_ROLES,
        },
    )


@get(
    "/classes/{class_id:int}/course-roles/{course_id:int}",
    name="course_roles_form",
    sync_to_thread=True,
)
def course_roles_form(
    request: Request[User, dict, object], db: Session, class_id: Id, course_id: Id
) -> Template:
    school_class = scope.class_for(db, request.user, class_id, to_record=True)
    return Template(
        "course_roles_form.html",
        context={
            "school_class": school_class,
            "course": _course_of(db, class_id, course_id),
            "students": attendance.roster(db, class_id),
            "roles": attendance.course_roles(db, class_id).get(course_id, {}),
        },
    )


@post(
    "/classes/{class_id:int}/course-roles/{course_id:int}/save",
    name="save_course_roles",
    sync_to_thread=True,
)
def save_course_roles(
    request: Request[User, dict, object], db: Session, class_id: Id, course_id: Id, data: Form
) -> Redirect:
    scope.class_for(db, request.user, class_id, to_record=True)
    _course_of(db, class_id, course_id)
    attendance.set_course_roles(
        db,
        class_id,
        course_id,
        params.form_id(data, "representative"),
        set(params.form_ids(data, "group_leaders")),
    )
    db.commit()
    return Redirect(request.app.route_reverse("course_roles", class_id=class_id), status_code=303)


# --- helpers ----------------------------------------------------------------------------------


def _course_of(db: Session, class_id: int, course_id: int) -> Course:
    course = db.scalar(
        select(Course)
        .join(ClassCourse, ClassCourse.course_id == Course.id)
        .where(ClassCourse.class_id == class_id, Course.id == course_id)
    )
    if course is None:
        raise NotFoundException("本班没有这门课程。")
    return course


def edit_form(
    db: Session,
    user: User,
    entry: Entry,
    *,
    error: str = "",
    typed: dict | None = None,
    status: int = 200,
    partial: bool = False,
) -> Template:
    """A check's form with its marks, for its author to change a mark (an update on the
    revision shown; /entries/<id>/edit, server/routes/records.py)."""
    return _form(
        db,
        scope.class_for(db, user, entry.class_id, to_record=True),
        error=error,
        typed=entry.payload if typed is None else typed,
        editing=entry,
        status=status,
        partial=partial,
    )


def _form(
    db: Session,
    school_class: SchoolClass,
    *,
    error: str = "",
    typed: dict | None = None,
    entry_id: uuid.UUID | None = None,
    editing: Entry | None = None,
    status: int = 200,
    partial: bool = False,
) -> Template:
    typed = typed or {}
    students = attendance.roster(db, school_class.id)
    marks = {k: v for k, v in (typed.get("marks") or {}).items() if v in attendance.MARKS}
    courses = attendance.courses_of(db, school_class.id)
    if typed.get("period") == attendance.EVENING:
        selected_course = None
    else:
        selected_course = typed.get("course_id") or (courses[0].id if courses else None)
    today = clock.today()
    return Template(
        "_attendance_form.html" if partial else "attendance_form.html",
        context={
            "school_class": school_class,
            "students": students,
            "courses": courses,
            "course_roles": attendance.course_roles(db, school_class.id),
            "role_labels": attendance.COURSE_ROLES,
            # made when the form is drawn: posting the same form twice stores one check
            "entry_id": editing.id if editing else entry_id or new_entry_id(),
            "editing": editing,
            "typed": typed,
            "marked": marks,
            "counts": attendance.counts(len(students), marks),
            "error": error,
            "marks": attendance.MARKS,
            "periods": attendance.PERIODS,
            "selected_course": selected_course,
            # the phone redraws these from its own today (attendance.js): the page may be a
            # copy cached days ago
            "today": today,
            "date_min": today - timedelta(days=attendance.MAX_DAYS_BACK),
            "date_max": today + timedelta(days=attendance.MAX_DAYS_AHEAD),
        },
        status_code=status,
    )


ROUTES = [
    attendance_warnings,
    my_classes,
    attendance_form,
    save_attendance,
    attendance_history,
    course_roles,
    course_roles_form,
    save_course_roles,
]
