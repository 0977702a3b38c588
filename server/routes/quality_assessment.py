"""综合素质测评 (§1.6): the class teacher's results and submission, the leader's list."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock, params, quality_assessment, scope
from server.auth import requires_leader
from server.flash import flash
from server.models import SchoolClass, User
from server.params import Id

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
qa = quality_assessment


@get("/quality", name="quality", sync_to_thread=True)
def my_quality(request: Request[User, dict, object], db: Session, year: str = "") -> Template:
    """My classes' 综合素质测评 of a school year (this one by default)."""
    user = request.user
    year = _year(year)
    rows = [
        (c, qa.submission(db, c.id, year), len(qa.results(db, c, year)), len(qa.students_of(db, c)))
        for c in qa.my_classes(db, user)
    ]
    return Template("quality.html", context={"rows": rows, "year": year})


@get("/quality/classes/{class_id:int}", name="quality_class", sync_to_thread=True)
def quality_class(
    request: Request[User, dict, object], db: Session, class_id: Id, year: str = ""
) -> Template:
    school_class = _class(db, request.user, class_id)
    return _class_page(db, school_class, _year(year))


@post("/quality/classes/{class_id:int}/results", name="save_quality", sync_to_thread=True)
def save_quality(
    request: Request[User, dict, object], db: Session, class_id: Id, data: Form
) -> Template | Redirect:
    school_class = _class(db, request.user, class_id)
    year = _year(params.one(data, "year"))
    rows = {}
    try:
        for student in qa.students_of(db, school_class):
            rows[student.id] = (
                params.one(data, f"score_{student.id}"),
                params.one(data, f"level_{student.id}"),
            )
        saved = qa.save(db, school_class, year, rows)
    except qa.AssessmentError as exc:
        db.rollback()
        return _class_page(db, school_class, year, str(exc), 422, typed=rows)
    db.commit()
    flash(request, f"已保存 {saved} 名学生的测评结果。")
    return Redirect(
        request.app.route_reverse("quality_class", class_id=class_id) + f"?year={year}",
        status_code=303,
    )


@post("/quality/classes/{class_id:int}/submit", name="submit_quality", sync_to_thread=True)
def submit_quality(
    request: Request[User, dict, object], db: Session, class_id: Id, data: Form
) -> Template | Redirect:
    school_class = _class(db, request.user, class_id)
    year = _year(params.one(data, "year"))
    try:
        qa.submit(db, request.user, school_class, year)
    except qa.AssessmentError as exc:
        db.rollback()
        return _class_page(db, school_class, year, str(exc), 409)
    db.commit()
    flash(request, "测评结果已提交系部。")
    return Redirect(
        request.app.route_reverse("quality_class", class_id=class_id) + f"?year={year}",
        status_code=303,
    )


@get("/department/quality", name="department_quality", guards=[requires_leader],
     sync_to_thread=True)  # fmt: skip
def department_quality(
    request: Request[User, dict, object], db: Session, department: params.OptionalId = None,
    year: str = "",
) -> Template:  # fmt: skip
    dept = scope.department_for(
        db, request.user, department, refusal="只能查看本系部的综合素质测评。"
    )
    year = _year(year)
    rows = qa.department_status(db, dept.id, year)
    return Template(
        "department_quality.html",
        context={"dept": dept, "year": year, "rows": rows,
                 "open": [r for r in rows if r.submitted is None]},
    )  # fmt: skip


def _year(text: str) -> str:
    if not (text or "").strip():
        return qa.school_year(clock.today())
    try:
        return qa.parse_year(text)
    except qa.AssessmentError as exc:
        raise params.BadInput(str(exc)) from None


def _class(db: Session, user: User, class_id: int) -> SchoolClass:
    try:
        return qa.class_to_record(db, user, class_id)
    except LookupError as exc:
        raise NotFoundException(str(exc)) from None
    except PermissionError as exc:
        raise PermissionDeniedException(str(exc)) from None


def _class_page(
    db: Session, school_class: SchoolClass, year: str, error: str = "", status: int = 200,
    typed: dict | None = None,
) -> Template:  # fmt: skip
    return Template(
        "quality_class.html",
        context={"school_class": school_class, "year": year, "error": error,
                 "students": qa.students_of(db, school_class),
                 "results": qa.results(db, school_class, year),
                 "submitted": qa.submission(db, school_class.id, year),
                 "levels": qa.LEVELS, "typed": typed or {}},
        status_code=status,
    )  # fmt: skip


ROUTES = [my_quality, quality_class, save_quality, submit_quality, department_quality]
