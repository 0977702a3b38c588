"""查找学生 and a student's page (server/students.py): search as you type, the profile with
its timeline, and the offline list that 准备巡查 caches (filtered in web/static/students.js).

The search page is a plain GET form; htmx fetches only the results fragment, at its own URL
(the service worker keeps pages by URL and must never keep a fragment in a page's place).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Parameter
from litestar.response import Template
from sqlalchemy.orm import Session

from server import clock, scope, students
from server.kinds import KINDS, RECORD_KINDS
from server.models import ContactGrade, Role, User
from server.params import Id
from server.routes.prepare import rooms_to_prepare

# longer than any name or 学号: refused with 400 (params.py); searched are the first MAX_QUERY
Query = Annotated[str, Parameter(max_length=100)]
Page = Annotated[int, Parameter(ge=1, le=10_000)]
GRADES = {ContactGrade.special: "特殊", ContactGrade.key: "重点", ContactGrade.general: "一般"}
DISCIPLINE = "discipline"  # the kind a counselor opens a case with, once it is in the registry


@get("/students", name="students", sync_to_thread=True)
def find_students(
    request: Request[User, dict, object], db: Session, q: Query = "", page: Page = 1
) -> Template:
    return Template("students.html", context=_results(db, request.user, q, page))


@get("/students/results", name="students_results", sync_to_thread=True)
def students_results(
    request: Request[User, dict, object], db: Session, q: Query = "", page: Page = 1
) -> Template:
    return Template("_student_results.html", context=_results(db, request.user, q, page))


@get("/students/offline", name="students_offline", sync_to_thread=True)
def students_offline(request: Request[User, dict, object], db: Session) -> Template:
    """Every student 准备巡查 caches, with their pinyin keys: the page filters them offline."""
    user = request.user
    rooms = [room.id for room in rooms_to_prepare(db, user, clock.today())]
    return Template(
        "students_offline.html",
        context={"rows": students.prepared(db, user, rooms), "grades": GRADES,
                 "limit": students.MAX_PREPARED},
    )  # fmt: skip


@get("/students/{student_id:int}", name="student", opt={"writes": True}, sync_to_thread=True)
def student_page(
    request: Request[User, dict, object], db: Session, student_id: Id, page: Page = 1
) -> Template:
    user = request.user
    student = scope.student_for(db, user, student_id)
    profile = students.profile(db, student)
    shown, entries = students.timeline(
        db, user, student, profile.room.id if profile.room else None, page
    )
    if scope.note_sensitive_reads(db, user, entries, "student"):
        db.commit()
    return Template(
        "student.html",
        context={
            "profile": profile,
            "timeline": shown,
            "grades": GRADES,
            "record_kinds": RECORD_KINDS,
            # the discipline case slot: counselors, once that kind is in the registry
            "discipline": DISCIPLINE in KINDS and user.has(Role.counselor),
            "may_keep": _may_keep(db, user, student.id),
            "warning_absences": students.attendance.WARNING_ABSENCES,
        },
    )


def _may_keep(db: Session, user: User, student_id: int) -> bool:
    """Whether the page links to the student's data page (guardians, contact grade)."""
    try:
        scope.student_to_keep(db, user, student_id, "guardians")
    except (PermissionDeniedException, NotFoundException):
        return False
    return True


def _results(db: Session, user: User, q: str, page: int) -> dict:
    return {"q": students.clean_query(q), "found": students.search(db, user, q, page)}


ROUTES = [find_students, students_results, students_offline, student_page]
