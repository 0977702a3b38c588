"""联系家长 parent contact (§2.5): which student's which guardian, how, why, what was said."""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy.orm import Session

from server.entries import Id, Kind, Placement, Rejected, Text, blank_is_none, one
from server.models import Guardian, SchoolClass, User
from server.records.common import CONTACT_METHODS, department_of, students_in_scope

# the guideline's triggers for contacting parents (§2.5.2, §2.5.3), and good news (§2.5.1)
CONTACT_REASONS = {
    "thinking_changed": "思想状况重大变化",
    "discipline": "违纪经教育无改观",
    "late_return": "未按时返校/注册",
    "hospital": "生病住院",
    "injury": "意外伤害",
    "grades": "成绩下滑/学业警告",
    "praise": "获奖表彰/好人好事",
    "other": "其他",
}


class ParentContactV1(msgspec.Struct, forbid_unknown_fields=True):
    student_id: Id | None = None
    guardian_id: Id | None = None
    method: Literal[tuple(CONTACT_METHODS)] | None = None  # type: ignore[valid-type]
    reason: Literal[tuple(CONTACT_REASONS)] | None = None  # type: ignore[valid-type]
    summary: Text | None = ""


def check(db: Session, user: User, contact: ParentContactV1) -> Placement:
    if contact.student_id is None:
        raise Rejected("请选择学生。")
    (student,) = students_in_scope(db, user, [contact.student_id])
    guardian = db.get(Guardian, contact.guardian_id) if contact.guardian_id else None
    if guardian is None or guardian.student_id != student.id:
        raise Rejected("请选择这名学生的家长。")
    if contact.method is None:
        raise Rejected("请选择联系方式。")
    if contact.reason is None:
        raise Rejected("请选择联系原因。")
    cleaned = {
        "student_id": student.id,
        "guardian_id": guardian.id,
        "method": contact.method,
        "reason": contact.reason,
        "summary": contact.summary or "",
    }
    school_class = db.get(SchoolClass, student.class_id)
    return Placement(
        cleaned, class_id=student.class_id, department_id=department_of(user, school_class)
    )


def form_fields(form: dict) -> dict:
    return {
        "student_id": blank_is_none(one(form, "student_id")),
        "guardian_id": blank_is_none(one(form, "guardian_id")),
        "method": blank_is_none(one(form, "method")),
        "reason": blank_is_none(one(form, "reason")),
        "summary": one(form, "summary"),
    }


def summary(payload: dict) -> str:
    method = CONTACT_METHODS.get(payload.get("method"), "")
    reason = CONTACT_REASONS.get(payload.get("reason"), "")
    return f"{method} · {reason}"


PARENT_CONTACT = Kind(
    name="parent_contact",
    label="联系家长",
    payloads={1: ParentContactV1},
    check=check,
    form=form_fields,
    field_labels={
        "student_id": "学生",
        "guardian_id": "家长",
        "method": "联系方式",
        "reason": "联系原因",
        "summary": "联系内容",
    },
    choices={"method": CONTACT_METHODS, "reason": CONTACT_REASONS},
    students=lambda p: {p["student_id"]} if p.get("student_id") else set(),
    summary=summary,
    record_form=True,
)
