"""联系任课教师 course-teacher contact (§2.6.2): a course of one of my classes, how, what."""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy.orm import Session

from server.entries import Id, Kind, Placement, Rejected, Text, blank_is_none, one
from server.models import User
from server.records.common import CONTACT_METHODS, class_course, course_placement


class TeacherContactV1(msgspec.Struct, forbid_unknown_fields=True):
    class_course_id: Id | None = None
    method: Literal[tuple(CONTACT_METHODS)] | None = None  # type: ignore[valid-type]
    summary: Text | None = ""
    # filled in by the server from class_course_id; accepted back as stored, never trusted
    class_id: Id | None = None
    course_id: Id | None = None
    teacher_id: Id | None = None


def check(db: Session, user: User, contact: TeacherContactV1) -> Placement:
    taught, school_class = class_course(db, user, contact.class_course_id)
    if contact.method is None:
        raise Rejected("请选择联系方式。")
    return course_placement(user, taught, school_class, {
        "method": contact.method,
        "summary": contact.summary or "",
    })  # fmt: skip


def form_fields(form: dict) -> dict:
    return {
        "class_course_id": blank_is_none(one(form, "class_course_id")),
        "method": blank_is_none(one(form, "method")),
        "summary": one(form, "summary"),
    }


TEACHER_CONTACT = Kind(
    name="teacher_contact",
    label="联系任课教师",
    payloads={1: TeacherContactV1},
    check=check,
    form=form_fields,
    field_labels={
        "class_course_id": "课程",
        "method": "联系方式",
        "summary": "沟通内容",
        "class_id": "班级",
        "course_id": "课程",
        "teacher_id": "任课教师",
    },
    choices={"method": CONTACT_METHODS},
    summary=lambda p: CONTACT_METHODS.get(p.get("method"), ""),
    record_form=True,
)
