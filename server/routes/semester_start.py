"""Semester-start duties (§1.7, §2.6.1, §1.3): the counselor's grades analysis and report,
and the leader's lists of reports, missed first lessons and plans not submitted."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock, first_lessons, grades, scope, semester_plans, semesters
from server.auth import requires_leader
from server.models import Role, User
from server.params import OptionalId

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/grades", name="grades", sync_to_thread=True)
def grades_page(
    request: Request[User, dict, object], db: Session, counselor: OptionalId = None
) -> Template:
    """上学期成绩分析: a counselor's classes, retake students and the report (leaders read
    their department's counselors')."""
    return _grades(db, request.user, counselor)


@get("/grades/report.xlsx", name="grades_report_xlsx", sync_to_thread=True)
def grades_report_xlsx(
    request: Request[User, dict, object], db: Session, counselor: OptionalId = None
) -> Response:
    staff = _counselor(db, request.user, counselor)
    current = grades.report(db, staff, clock.today())
    return Response(
        grades.workbook(current),
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''retake-report.xlsx"},
    )


@post("/grades/report/submit", name="submit_grades_report", sync_to_thread=True)
def submit_grades_report(request: Request[User, dict, object], db: Session) -> Template | Redirect:
    user = request.user
    try:
        grades.submit(db, user, clock.today())
    except grades.ReportError as exc:
        db.rollback()
        if not user.has(Role.counselor):
            raise PermissionDeniedException(str(exc)) from None
        return _grades(db, user, None, str(exc), 409)
    db.commit()
    return Redirect(request.app.route_reverse("grades"), status_code=303)


@get(
    "/department/retake-reports",
    name="department_retake_reports",
    guards=[requires_leader],
    sync_to_thread=True,
)
def department_retake_reports(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    dept = scope.department_for(db, request.user, department, refusal="只能查看本系部的成绩分析报告。")
    today = clock.today()
    reports = grades.department_reports(db, dept.id, today)
    return Template(
        "department_retake_reports.html",
        context={"reports": reports, "dept": dept, "today": today,
                 "open": [r for r in reports if r.submitted is None]},
    )  # fmt: skip


@get(
    "/department/first-lessons",
    name="department_first_lessons",
    guards=[requires_leader],
    sync_to_thread=True,
)
def department_first_lessons(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    dept = scope.department_for(db, request.user, department, refusal="只能查看本系部的听课情况。")
    today = clock.today()
    return Template(
        "department_first_lessons.html",
        context={"missed": first_lessons.missed_in(db, dept.id, today), "dept": dept,
                 "term": semesters.term_of(db, today)},
    )  # fmt: skip


@get("/department/plans", name="department_plans", guards=[requires_leader], sync_to_thread=True)
def department_plans(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    dept = scope.department_for(db, request.user, department, refusal="只能查看本系部的工作计划。")
    today = clock.today()
    return Template(
        "department_plans.html",
        context={"missing": semester_plans.not_submitted(db, dept.id, today), "dept": dept,
                 "today": today, "term": semesters.term_of(db, today)},
    )  # fmt: skip


def _counselor(db: Session, user: User, counselor: int | None) -> User:
    staff = scope.staff_for(db, user, counselor)
    if not staff.has(Role.counselor):
        raise PermissionDeniedException("成绩统计分析由辅导员负责：这位老师不是辅导员。")
    return staff


def _grades(
    db: Session, user: User, counselor: int | None, error: str = "", status: int = 200
) -> Template:
    staff = _counselor(db, user, counselor)
    today = clock.today()
    return Template(
        "grades.html",
        context={"report": grades.report(db, staff, today), "today": today, "error": error,
                 "own": staff.id == user.id},
        status_code=status,
    )  # fmt: skip


ROUTES = [grades_page, grades_report_xlsx, submit_grades_report, department_retake_reports,
          department_first_lessons, department_plans]  # fmt: skip
