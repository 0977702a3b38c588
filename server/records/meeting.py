"""会议 meetings (§2.1–§2.3): staff and cadre meetings, and a class's committee or class
meeting (then the class is required)."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec
from sqlalchemy.orm import Session

from server.entries import Id, Kind, Placement, Rejected, Text, blank_is_none, one
from server.models import User
from server.records.common import class_in_scope, day_in_window, department_of

MEETING_TYPES = {
    "staff": "工作例会",  # §2.1
    "cadre": "学生干部例会",  # §2.2
    "committee": "班委会",  # §2.3
    "class_meeting": "主题班会",  # §2.3, the class meeting handbook
}
CLASS_MEETINGS = {"committee", "class_meeting"}  # held by a class: the class is required


class MeetingV1(msgspec.Struct, forbid_unknown_fields=True):
    meeting_type: Literal[tuple(MEETING_TYPES)] | None = None  # type: ignore[valid-type]
    class_id: Id | None = None
    theme: Text | None = ""
    date: date | None = None
    attendees: Text | None = ""
    last_week: Text | None = ""
    this_week: Text | None = ""


def check(db: Session, user: User, meeting: MeetingV1) -> Placement:
    if meeting.meeting_type is None:
        raise Rejected("请选择会议类型。")
    school_class = None
    if meeting.meeting_type in CLASS_MEETINGS:
        school_class = class_in_scope(db, user, meeting.class_id)
    if meeting.meeting_type == "class_meeting" and not meeting.theme:
        raise Rejected("主题班会请填写主题。")
    cleaned = {
        "meeting_type": meeting.meeting_type,
        "class_id": school_class.id if school_class else None,
        "theme": meeting.theme or "",
        "date": day_in_window(meeting.date, label="会议日期"),
        "attendees": meeting.attendees or "",
        "last_week": meeting.last_week or "",
        "this_week": meeting.this_week or "",
    }
    return Placement(
        cleaned,
        class_id=school_class.id if school_class else None,
        department_id=department_of(user, school_class),
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
    }


def summary(payload: dict) -> str:
    theme = f"：{payload['theme']}" if payload.get("theme") else ""
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
        "attendees": "参会人员",
        "last_week": "上周工作小结",
        "this_week": "本周工作安排",
    },
    choices={"meeting_type": MEETING_TYPES},
    summary=summary,
    record_form=True,
)
