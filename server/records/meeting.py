"""会议 meetings (§2.1–§2.3, §1.4): staff and cadre meetings, a class's committee or class
meeting (then the class is required), and the 年级讲评 (grade review, §1.4: then the grade, the
入学年份, is required). Who attended is picked from the department's staff (`attendee_ids`), and
so is the chair (`chair_id`, required for the department's meetings); students and guests are
named in `attendees` (free text). The weekly expectation is server/meetings.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.entries import Id, Kind, Placement, Rejected, Text, blank_is_none, many, one
from server.models import Role, User
from server.records.common import class_in_scope, day_in_window, department_of

MEETING_TYPES = {
    "staff": "工作例会",  # §2.1
    "cadre": "学生干部例会",  # §2.2
    "committee": "班委会",  # §2.3
    "class_meeting": "主题班会",  # §2.3, the class meeting handbook
    "grade_review": "年级讲评",  # §1.4
}
CHAIRED = {"staff", "cadre", "grade_review"}  # the department's meetings name their chair
MAX_ATTENDEES = 100
CLASS_MEETINGS = {"committee", "class_meeting"}  # held by a class: the class is required


class MeetingV1(msgspec.Struct, forbid_unknown_fields=True):
    meeting_type: Literal[tuple(MEETING_TYPES)] | None = None  # type: ignore[valid-type]
    class_id: Id | None = None
    theme: Text | None = ""
    date: date | None = None
    attendees: Text | None = ""
    last_week: Text | None = ""
    this_week: Text | None = ""
    attendee_ids: Annotated[list[Id], Meta(max_length=MAX_ATTENDEES)] | None = None
    chair_id: Id | None = None
    grade: Annotated[int, Meta(ge=2000, le=2099)] | None = None  # 入学年份 of a 年级讲评


def department_staff(db: Session, department_id: int | None) -> list[User]:
    """The active staff of a department, whom a meeting's attendees and chair are picked from."""
    if department_id is None:
        return []
    return list(
        db.scalars(
            select(User)
            .where(User.department_id == department_id, User.active.is_(True))
            .order_by(User.name)
        )
    )


def _staff(
    db: Session, department_id: int | None, meeting: MeetingV1
) -> tuple[list[int], int | None]:
    people = {u.id: u for u in department_staff(db, department_id)}
    staff = set(people)
    ids = sorted(set(meeting.attendee_ids or []))
    if any(i not in staff for i in ids):
        raise Rejected("参会人员只能从本系部的老师中选择。")
    chair = meeting.chair_id
    if chair is not None and chair not in staff:
        raise Rejected("主持人只能从本系部的老师中选择。")
    if chair is None and meeting.meeting_type in CHAIRED:
        raise Rejected("请选择主持人。")
    if meeting.meeting_type == "staff" and chair is not None and not people[chair].has(Role.leader):
        # §2.1: "会议由系部学生工作负责人主持"
        raise Rejected("工作例会由系部学生工作负责人主持：请选择本系部的负责人。")
    if chair is not None and chair not in ids:
        ids = sorted({*ids, chair})  # the chair attended
    return ids, chair


def check(db: Session, user: User, meeting: MeetingV1) -> Placement:
    if meeting.meeting_type is None:
        raise Rejected("请选择会议类型。")
    school_class = None
    if meeting.meeting_type in CLASS_MEETINGS:
        school_class = class_in_scope(db, user, meeting.class_id)
    if meeting.meeting_type == "class_meeting" and not meeting.theme:
        raise Rejected("主题班会请填写主题。")
    if meeting.meeting_type == "grade_review" and meeting.grade is None:
        raise Rejected("年级讲评请填写年级（入学年份）。")
    department_id = department_of(user, school_class)
    attendee_ids, chair_id = _staff(db, department_id, meeting)
    cleaned = {
        "meeting_type": meeting.meeting_type,
        "class_id": school_class.id if school_class else None,
        "theme": meeting.theme or "",
        "date": day_in_window(meeting.date, label="会议日期"),
        "attendees": meeting.attendees or "",
        "last_week": meeting.last_week or "",
        "this_week": meeting.this_week or "",
        "attendee_ids": attendee_ids,
        "chair_id": chair_id,
        "grade": meeting.grade if meeting.meeting_type == "grade_review" else None,
    }
    return Placement(
        cleaned, class_id=school_class.id if school_class else None, department_id=department_id
    )


def form_fields(form: dict) -> dict:
    return {
        "meeting_type": blank_is_none(one(form, "meeting_type")),
        "class_id": blank_is_none(one(form, "class_id")),
        "theme": one(form, "theme"),
        "date": blank_is_none(one(form, "date")),
        "attendees": one(form, "attendees"),
        "last_week": one(form, "last_week"),
        "this_week": one(form, "this_week"),
        "attendee_ids": many(form, "attendee_ids"),
        "chair_id": blank_is_none(one(form, "chair_id")),
        "grade": blank_is_none(one(form, "grade")),
    }


def summary(payload: dict) -> str:
    theme = f"：{payload['theme']}" if payload.get("theme") else ""
    if payload.get("grade"):
        theme = f"（{payload['grade']}级）{theme}"
    return f"{MEETING_TYPES.get(payload.get('meeting_type'), '')}{theme}"


MEETING = Kind(
    name="meeting",
    label="会议",
    payloads={1: MeetingV1},
    check=check,
    form=form_fields,
    field_labels={
        "meeting_type": "会议类型",
        "class_id": "班级",
        "theme": "主题",
        "date": "会议日期",
        "attendees": "其他参会人员",
        "attendee_ids": "参会老师",
        "chair_id": "主持人",
        "grade": "年级",
        "last_week": "上周工作小结",
        "this_week": "本周工作安排",
    },
    choices={"meeting_type": MEETING_TYPES},
    summary=summary,
    record_form=True,
)
