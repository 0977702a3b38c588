"""What the guideline's record kinds share: choices, field types, scope checks, dates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, scope
from server.entries import Placement, Rejected
from server.models import ClassCourse, SchoolClass, Student, User

CONTACT_METHODS = {
    "phone": "电话",
    "sms": "短信",
    "letter": "书信",
    "email": "电子邮件",
    "in_person": "当面",
}
LONG_TEXT = 10_000  # plans and summaries are documents, not notes
DATE_WINDOW_DAYS = 60  # a record dated more than two months away is a typing mistake

LongText = Annotated[str, Meta(max_length=LONG_TEXT)]


def day_in_window(
    value: date | None, *, label: str, required: bool = True, window: int = DATE_WINDOW_DAYS
) -> str | None:
    """A record's date as stored (ISO), refused when missing or too far from today."""
    if value is None:
        if required:
            raise Rejected(f"请填写{label}。")
        return None
    if abs((value - clock.today()).days) > window:
        raise Rejected(f"{label}离今天太远，请检查。")
    return value.isoformat()


def students_in_scope(db: Session, user: User, ids: list[int]) -> list[Student]:
    found = db.scalars(
        select(Student).where(Student.id.in_(ids), Student.id.in_(scope.student_ids_in_scope(user)))
    ).all()
    if len(found) != len(set(ids)):
        raise Rejected("所选学生里有不在您工作范围内的学生。")
    return list(found)


def class_in_scope(db: Session, user: User, class_id: int | None) -> SchoolClass:
    if class_id is None:
        raise Rejected("请选择班级。")
    school_class = db.scalar(
        select(SchoolClass).where(SchoolClass.id == class_id, scope.class_condition(user))
    )
    if school_class is None:
        raise Rejected("这个班级不在您的工作范围内。")
    return school_class


def class_course(
    db: Session, user: User, class_course_id: int | None
) -> tuple[ClassCourse, SchoolClass]:
    """The course of one of my classes a record is about (听课, 联系任课教师)."""
    if class_course_id is None:
        raise Rejected("请选择课程和任课教师。")
    taught = db.get(ClassCourse, class_course_id)
    if taught is None:
        raise Rejected("所选课程不存在。")
    return taught, class_in_scope(db, user, taught.class_id)


def course_placement(
    user: User, taught: ClassCourse, school_class: SchoolClass, fields: dict
) -> Placement:
    """The course, its teacher and the class as the form's choice named them, then the
    record's own fields."""
    cleaned = {
        "class_course_id": taught.id,
        "class_id": taught.class_id,
        "course_id": taught.course_id,
        "teacher_id": taught.teacher_id,
        **fields,
    }
    return Placement(
        cleaned, class_id=taught.class_id, department_id=department_of(user, school_class)
    )


def department_of(user: User, school_class: SchoolClass | None) -> int | None:
    return school_class.department_id if school_class is not None else user.department_id
