"""谈心谈话 talk (§2.8): one to twenty students, a category, what was said and done."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from sqlalchemy.orm import Session

from server.entries import (
    Id,
    Kind,
    Placement,
    Rejected,
    Text,
    Written,
    blank_is_none,
    flag,
    keep_escalation,
    many,
    one,
)
from server.models import SchoolClass, User
from server.records.common import DATE_WINDOW_DAYS, day_in_window, department_of, students_in_scope

TALK_CATEGORIES = {
    "thought": "思想",
    "study": "学业",
    "life": "生活",
    "mental": "心理",
    "career": "就业",
    "discipline": "纪律",
    "other": "其他",
}
MAX_STUDENTS_PER_TALK = 20  # a talk with more is a class meeting


class TalkV1(msgspec.Struct, forbid_unknown_fields=True):
    # a longer list is refused by the check with the reason; past 100 it is not a form
    student_ids: Annotated[list[Id], Meta(max_length=100)] | None = None
    place: Text | None = ""
    category: Literal[tuple(TALK_CATEGORIES)] | None = None  # type: ignore[valid-type]
    summary: Text | None = ""
    measures: Text | None = ""
    follow_up: date | None = None
    needs_referral: bool | None = False


def check(db: Session, user: User, talk: TalkV1) -> Placement:
    ids = talk.student_ids or []
    if not ids:
        raise Rejected("请至少选择一名学生。")
    if len(ids) > MAX_STUDENTS_PER_TALK:
        raise Rejected(f"一次谈话最多 {MAX_STUDENTS_PER_TALK} 名学生；更多请记为班会。")
    students = students_in_scope(db, user, ids)
    if talk.category is None:
        raise Rejected("请选择谈话类别。")
    referral = bool(talk.needs_referral)
    if referral and talk.category != "mental":
        raise Rejected("只有心理类谈话可以申请转介。")
    if not talk.summary:
        raise Rejected("请填写谈话内容。")
    cleaned = {
        "student_ids": sorted(set(ids)),
        "place": talk.place or "",
        "category": talk.category,
        "summary": talk.summary,
        "measures": talk.measures or "",
        "follow_up": day_in_window(
            talk.follow_up, label="回访日期", required=False, window=2 * DATE_WINDOW_DAYS
        ),
        "needs_referral": referral,
    }
    classes = {s.class_id for s in students}
    only_class = db.get(SchoolClass, classes.pop()) if len(classes) == 1 else None
    return Placement(
        cleaned,
        class_id=only_class.id if only_class else None,
        department_id=department_of(user, only_class),
    )


def refer(db: Session, entry: Written) -> None:
    """A 心理 talk that needs referral escalates like a dorm concern (§2.7.2, §2.8)."""
    p = entry.payload
    concern = None
    if p.get("category") == "mental" and p.get("needs_referral"):
        concern = {"category": "mental", "note": p.get("summary", "")}
    keep_escalation(db, entry, concern)


def form_fields(form: dict) -> dict:
    return {
        "student_ids": many(form, "student_ids"),
        "place": one(form, "place"),
        "category": blank_is_none(one(form, "category")),
        "summary": one(form, "summary"),
        "measures": one(form, "measures"),
        "follow_up": blank_is_none(one(form, "follow_up")),
        "needs_referral": flag(form.get("needs_referral")),
    }


def summary(payload: dict) -> str:
    category = TALK_CATEGORIES.get(payload.get("category"), "")
    group = "集体谈话·" if len(payload.get("student_ids") or []) > 1 else ""
    return f"{group}{category}：{payload.get('summary', '')[:40]}"


TALK = Kind(
    name="talk",
    label="谈心谈话",
    payloads={1: TalkV1},
    check=check,
    form=form_fields,
    field_labels={
        "student_ids": "学生",
        "place": "地点",
        "category": "谈话类别",
        "summary": "谈话内容",
        "measures": "措施",
        "follow_up": "回访日期",
        "needs_referral": "心理转介",
    },
    choices={"category": TALK_CATEGORIES},
    after_write=refer,
    students=lambda p: {int(i) for i in p.get("student_ids", [])},
    summary=summary,
    record_form=True,
)
