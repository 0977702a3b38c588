"""违纪处理 discipline case (§1.8): the counselor's proposal about one or more of their
students — when and where, the facts, the rule broken, the evidence, the proposed handling.

The case is an entry like every record (work log, exports, timelines read it by `students`);
where it stands in the flow — 辅导员提出 → 系部学生工作领导小组审议 → 学院审批 → 已处理 — is
the append-only table `discipline_steps` (server/discipline.py). The counselor edits the case
only while it is with them: before it is submitted, and after the department returned it.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, scope
from server.entries import (
    Id,
    Kind,
    Placement,
    Rejected,
    Text,
    Written,
    blank_is_none,
    many,
    one,
)
from server.models import DisciplineStep, Role, SchoolClass, Student, User

# the national scale of sanctions (普通高等学校学生管理规定 art. 52), and education without one
HANDLINGS = {
    "criticism": "批评教育",
    "warning": "警告",
    "serious_warning": "严重警告",
    "demerit": "记过",
    "probation": "留校察看",
    "expulsion": "开除学籍",
}
Day = date  # the payload's field is named `date`: its annotation must not read the field
MAX_STUDENTS_PER_CASE = 20  # students of one incident; more is not one case
CASE_DAYS_BACK = 180  # an incident older than a semester is a typing mistake

# where a case stands, from its last step (None: not submitted yet)
STATES = {
    "draft": "草稿（未提交）",
    "review": "待系部审议",
    "office_returned": "学院退回，待系部重新审议",
    "approval": "待学院审批",
    "returned": "系部退回辅导员",
    "done": "已处理",
}
WITH_COUNSELOR = ("draft", "returned")
WITH_LEADER = ("review", "office_returned")
WITH_OFFICE = ("approval",)
DECISIONS = {
    "submit": "提交审议",
    "agree": "同意",
    "change": "变更处理意见",
    "return": "退回",
    "approve": "批准",
}
STEPS = {"submit": "辅导员提出", "review": "系部学生工作领导小组审议", "approve": "学院审批"}


def state_after(step: str | None, decision: str | None) -> str:
    """Where a case stands after its last step."""
    if step is None:
        return "draft"
    if step == "submit":
        return "review"
    if step == "review":
        return "returned" if decision == "return" else "approval"
    return "office_returned" if decision == "return" else "done"


def last_step(db: Session, entry_id: uuid.UUID) -> DisciplineStep | None:
    return db.scalar(
        select(DisciplineStep)
        .where(DisciplineStep.entry_id == entry_id)
        .order_by(DisciplineStep.number.desc())
        .limit(1)
    )


def state_of(db: Session, entry_id: uuid.UUID) -> str:
    last = last_step(db, entry_id)
    return state_after(last.step, last.decision) if last else "draft"


def locked(db: Session, entry_id: uuid.UUID) -> str:
    """Why the counselor may not change the case now ('' while it is with them)."""
    state = state_of(db, entry_id)
    if state in WITH_COUNSELOR:
        return ""
    return f"这个违纪处理{STATES[state]}，只有在草稿或被退回时才能修改。"


class DisciplineV1(msgspec.Struct, forbid_unknown_fields=True):
    student_ids: Annotated[list[Id], Meta(max_length=100)] | None = None
    date: Day | None = None
    place: Text | None = ""
    facts: Text | None = ""
    rule: Text | None = ""
    evidence: Text | None = ""
    handling: Literal[tuple(HANDLINGS)] | None = None  # type: ignore[valid-type]


def check(db: Session, user: User, case: DisciplineV1) -> Placement:
    if not user.has(Role.counselor):
        raise Rejected("只有辅导员可以提出违纪处理意见（§1.8）。")
    ids = case.student_ids or []
    if not ids:
        raise Rejected("请至少选择一名学生。")
    if len(ids) > MAX_STUDENTS_PER_CASE:
        raise Rejected(f"一个违纪处理最多 {MAX_STUDENTS_PER_CASE} 名学生。")
    students = db.scalars(
        select(Student).where(
            Student.id.in_(ids), Student.id.in_(scope.counseled_student_ids(user))
        )
    ).all()
    if len(students) != len(set(ids)):
        raise Rejected("所选学生里有不是您所带班级的学生。")
    if case.date is None:
        raise Rejected("请填写违纪日期。")
    today = clock.today()
    if case.date > today:
        raise Rejected("违纪日期不能晚于今天。")
    if case.date < today - timedelta(days=CASE_DAYS_BACK):
        raise Rejected("违纪日期离今天太远，请检查。")
    if not case.facts:
        raise Rejected("请填写违纪事实。")
    if not case.rule:
        raise Rejected("请填写违反的校规校纪。")
    if case.handling is None:
        raise Rejected("请选择拟处理意见。")
    classes = {s.class_id for s in students}
    departments = set(
        db.scalars(select(SchoolClass.department_id).where(SchoolClass.id.in_(classes)))
    )
    if len(departments) != 1:
        raise Rejected("一个违纪处理只能包含同一系部的学生，请分开提出。")
    cleaned = {
        "student_ids": sorted(set(ids)),
        "date": case.date.isoformat(),
        "place": case.place or "",
        "facts": case.facts,
        "rule": case.rule,
        "evidence": case.evidence or "",
        "handling": case.handling,
    }
    return Placement(
        cleaned,
        class_id=classes.pop() if len(classes) == 1 else None,
        department_id=departments.pop(),
    )


def keep_with_counselor(db: Session, entry: Written) -> None:
    """An edit or deletion of a case that is with the department or the college is refused
    (the write's savepoint is rolled back, online and from a phone's outbox alike)."""
    if entry.revision == 1:
        return
    reason = locked(db, entry.id)
    if reason:
        raise Rejected(reason)


def form_fields(form: dict) -> dict:
    return {
        "student_ids": many(form, "student_ids"),
        "date": blank_is_none(one(form, "date")),
        "place": one(form, "place"),
        "facts": one(form, "facts"),
        "rule": one(form, "rule"),
        "evidence": one(form, "evidence"),
        "handling": blank_is_none(one(form, "handling")),
    }


def summary(payload: dict) -> str:
    handling = HANDLINGS.get(payload.get("handling"), "")
    facts = payload.get("facts", "")[:30]
    return f"拟{handling}：{facts}" if handling else facts


DISCIPLINE = Kind(
    name="discipline",
    label="违纪处理",
    payloads={1: DisciplineV1},
    check=check,
    form=form_fields,
    field_labels={
        "student_ids": "学生",
        "date": "违纪日期",
        "place": "地点",
        "facts": "违纪事实",
        "rule": "违反的规定",
        "evidence": "证据",
        "handling": "拟处理意见",
    },
    choices={"handling": HANDLINGS},
    after_write=keep_with_counselor,
    students=lambda p: {int(i) for i in p.get("student_ids", [])},
    summary=summary,
    record_form=True,
    locked=locked,
    page="discipline_case",
)
