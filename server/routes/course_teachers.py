"""任课教师通讯录 (§2.6.2 "班主任要与任课教师互留联系方式"): the course teachers of the
classes one works with, with their phone numbers to tap and call."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.models import ClassCourse, SchoolClass, User


@get("/course-teachers", name="course_teachers", sync_to_thread=True)
def course_teachers(request: Request[User, dict, object], db: Session) -> Template:
    """The class teacher's (and counselor's) classes, each with its courses and teachers."""
    classes = db.scalars(
        select(SchoolClass)
        .where(scope.recording_class_condition(request.user))
        .order_by(SchoolClass.name)
    ).all()
    taught = db.scalars(
        select(ClassCourse)
        .options(joinedload(ClassCourse.course), joinedload(ClassCourse.teacher))
        .where(ClassCourse.class_id.in_([c.id for c in classes]))
        .order_by(ClassCourse.class_id, ClassCourse.id)
    ).all() if classes else []  # fmt: skip
    return Template(
        "course_teachers.html",
        context={"groups": [(c, [t for t in taught if t.class_id == c.id]) for c in classes]},
    )


ROUTES = [course_teachers]
