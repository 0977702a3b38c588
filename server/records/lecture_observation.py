"""听课 lecture observation (§2.6): a lesson of one of my classes' courses, and how the
students listened."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec
from sqlalchemy.orm import Session

from server.attendance import PERIODS  # the same lesson periods as attendance checks
from server.entries import Id, Kind, Placement, Rejected, Text, blank_is_none, flag, one
from server.models import User
from server.records.common import class_course, course_placement, day_in_window


class LectureObservationV1(msgspec.Struct, forbid_unknown_fields=True):
    class_course_id: Id | None = None
    date: date | None = None
    period: Literal[tuple(PERIODS)] | None = None  # type: ignore[valid-type]
    first_lesson: bool | None = False
    notes: Text | None = ""
    # filled in by the server from class_course_id; accepted back as stored, never trusted
    class_id: Id | None = None
    course_id: Id | None = None
    teacher_id: Id | None = None


def check(db: Session, user: User, lecture: LectureObservationV1) -> Placement:
    taught, school_class = class_course(db, user, lecture.class_course_id)
    on = day_in_window(lecture.date, label="听课日期")
    if lecture.period is None:
        raise Rejected("请选择节次。")
    return course_placement(user, taught, school_class, {
        "date": on,
        "period": lecture.period,
        "first_lesson": bool(lecture.first_lesson),
        "notes": lecture.notes or "",
    })  # fmt: skip


def form_fields(form: dict) -> dict:
    return {
        "class_course_id": blank_is_none(one(form, "class_course_id")),
        "date": blank_is_none(one(form, "date")),
        "period": blank_is_none(one(form, "period")),
        "first_lesson": flag(form.get("first_lesson")),
        "notes": one(form, "notes"),
    }


def summary(payload: dict) -> str:
    first = " · 专业基础课第一课" if payload.get("first_lesson") else ""
    return f"{payload.get('date', '')} {PERIODS.get(payload.get('period'), '')}{first}"


LECTURE_OBSERVATION = Kind(
    name="lecture_observation",
    label="听课",
    payloads={1: LectureObservationV1},
    check=check,
    form=form_fields,
    field_labels={
        "class_course_id": "课程",
        "date": "听课日期",
        "period": "节次",
        "first_lesson": "专业基础课第一课",
        "notes": "学生听课情况",
        "class_id": "班级",
        "course_id": "课程",
        "teacher_id": "任课教师",
    },
    choices={"period": PERIODS},
    summary=summary,
    record_form=True,
)
