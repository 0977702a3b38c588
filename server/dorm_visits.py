"""Dorm visits (深入宿舍 / 宿舍访谈, guideline §2.7) and hygiene stars (§2.9).

A visit names the room, who was there, optional hygiene stars (then it also counts as a
hygiene check), issues seen, optional talk notes (then it also counts as a dorm talk) and an
optional concern. A concern goes at once to the student affairs office and the department
leader (§2.7.2: escalate what the visitor cannot resolve).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.entries import (
    Id,
    Kind,
    Placement,
    Rejected,
    Text,
    Written,
    blank_is_none,
    keep_escalation,
    many,
    one,
    remembered,
)
from server.models import Bed, Room, SchoolClass, Student, User

KIND = "dorm_visit"

PRESENCE = {"present": "在寝", "absent": "未归", "late": "晚归", "leave": "请假"}
ISSUES = {
    "appliance": "违章电器",
    "hygiene": "卫生差",
    "safety": "安全隐患",
    "late_return": "晚归未归",
}
CONCERNS = {"mental": "心理", "physical": "身体", "financial": "经济困难", "relationships": "人际"}


def residents(db: Session, room_id: int) -> list[tuple[Bed, Student]]:
    rows = db.execute(
        select(Bed, Student)
        .join(Student, Bed.student_id == Student.id)
        .options(joinedload(Student.school_class))
        .where(Bed.room_id == room_id, scope.enrolled())
        .order_by(Bed.number)
    )
    return [(bed, student) for bed, student in rows]


def _room_department(db: Session, room_id: int) -> int | None:
    """The department most of the room's residents belong to (for rooms of office staff)."""
    return db.scalar(
        select(SchoolClass.department_id)
        .join(Student, Student.class_id == SchoolClass.id)
        .join(Bed, Bed.student_id == Student.id)
        .where(Bed.room_id == room_id)
        .limit(1)
    )


class Concern(msgspec.Struct, forbid_unknown_fields=True):
    category: Literal[tuple(CONCERNS)] | None = None  # type: ignore[valid-type]
    note: Text | None = ""


class DormVisitV1(msgspec.Struct, forbid_unknown_fields=True):
    """The payload of schema version 1, as phones send it and entries store it."""

    room_id: Id
    presence: dict[Id, Literal[tuple(PRESENCE)]] | None = None  # type: ignore[valid-type]
    stars: Annotated[int, Meta(ge=1, le=5)] | None = None
    issues: Annotated[list[Literal[tuple(ISSUES)]], Meta(max_length=len(ISSUES))] | None = None  # type: ignore[valid-type]
    issue_other: Text | None = ""
    talk_notes: Text | None = ""
    concern: Concern | None = None


def check(db: Session, user: User, visit: DormVisitV1) -> Placement:
    room_id = visit.room_id
    writable = remembered(
        db, ("writable_rooms", user.id), lambda: scope.writable_room_ids(db, user)
    )
    if writable is None or room_id not in writable:
        # the office's rooms are every room; anyone else's miss is out of scope or missing
        where = remembered(db, ("room_exists", room_id), lambda: _room_exists(db, room_id))
        if not where:
            raise Rejected("宿舍不存在。")
        if writable is not None:
            raise Rejected("这个宿舍不在您的工作范围内。")

    living_here = remembered(db, ("residents", room_id), lambda: _resident_ids(db, [room_id]))
    presence = visit.presence or {}
    if not living_here.issuperset(presence):
        raise Rejected("在寝情况里有不住在这个宿舍的学生，请刷新后重新填写。")

    concern = None
    if visit.concern is not None and (visit.concern.category or visit.concern.note):
        if visit.concern.category is None:
            raise Rejected("请选择关注类别（心理、身体、经济困难、人际）。")
        concern = {"category": visit.concern.category, "note": visit.concern.note or ""}

    cleaned = {
        "room_id": room_id,
        "presence": {str(student_id): status for student_id, status in presence.items()},
        "stars": visit.stars,
        "issues": sorted(set(visit.issues or [])),
        "issue_other": visit.issue_other or "",
        "talk_notes": visit.talk_notes or "",
        "concern": concern,
    }
    return Placement(
        cleaned,
        room_id=room_id,
        department_id=user.department_id
        or remembered(db, ("room_department", room_id), lambda: _room_department(db, room_id)),
    )


def _room_exists(db: Session, room_id: int) -> bool:
    return db.get(Room, room_id) is not None


def _resident_ids(db: Session, room_ids: list[int]) -> set[int]:
    return set(
        db.scalars(
            select(Bed.student_id).where(Bed.room_id.in_(room_ids), Bed.student_id.is_not(None))
        )
    )


_RESIDENTS = select(Bed.room_id, Bed.student_id).where(
    Bed.room_id.in_(bindparam("rooms", expanding=True)), Bed.student_id.is_not(None)
)


def prepare(db: Session, user: User, visits: list[DormVisitV1]) -> None:
    """Before a batch is checked: the residents of every room it names, in one query, kept
    for `check` (entries.py `batch_memo`); the user's rooms come with the first check."""
    memo = db.info.get("batch_memo")
    if memo is None:
        return
    wanted = {v.room_id for v in visits} - {key[1] for key in memo if key[0] == "residents"}
    if not wanted:
        return
    living: dict[int, set[int]] = {room_id: set() for room_id in wanted}
    for room_id, student_id in db.connection().execute(_RESIDENTS, {"rooms": list(wanted)}):
        living[room_id].add(student_id)
    for room_id, students in living.items():
        memo[("residents", room_id)] = students


def raise_concern(db: Session, entry: Written) -> None:
    """Open an escalation for a visit with a concern (once per entry; an edit updates it)."""
    keep_escalation(db, entry, entry.payload.get("concern"))


def counts_as(payload: dict) -> list[str]:
    """Which weekly quotas this visit fills (DESIGN.md): always a visit; stars → hygiene; notes → talk."""
    kinds = ["dorm_visit"]
    if payload.get("stars"):
        kinds.append("hygiene_check")
    if payload.get("talk_notes"):
        kinds.append("dorm_talk")
    return kinds


def form_fields(form: dict) -> dict:
    """The visit form's fields in the payload's shape (converted by `Kind.decode_form`)."""
    category = blank_is_none(one(form, "concern_category"))
    note = one(form, "concern_note")
    return {
        "room_id": one(form, "room_id"),
        "presence": {
            k.removeprefix("presence_"): one(form, k) for k in form if k.startswith("presence_")
        },
        "stars": blank_is_none(one(form, "stars")),
        "issues": many(form, "issues"),
        "issue_other": one(form, "issue_other"),
        "talk_notes": one(form, "talk_notes"),
        "concern": {"category": category, "note": note} if category else None,
    }


def students(payload: dict) -> set[int]:
    """The students the visit is about: everyone whose presence was marked."""
    return {int(student_id) for student_id in payload.get("presence") or {}}


SUMMARY_NOTE_CHARS = 20  # talk notes are cut to this many characters in one-line lists


def summary(payload: dict) -> str:
    """A few words for the work log: stars, who was not in, issues, talk, concern."""
    parts = []
    if payload.get("stars"):
        parts.append(f"卫生 {payload['stars']} 星")
    away = [PRESENCE[s] for s in (payload.get("presence") or {}).values() if s != "present"]
    for status in dict.fromkeys(away):
        parts.append(f"{status} {away.count(status)} 人")
    issues = [ISSUES.get(i, i) for i in payload.get("issues") or []]
    if payload.get("issue_other"):
        issues.append(payload["issue_other"])
    if issues:
        parts.append("问题：" + "、".join(issues))
    notes = payload.get("talk_notes") or ""
    if notes:
        cut = notes[:SUMMARY_NOTE_CHARS] + ("…" if len(notes) > SUMMARY_NOTE_CHARS else "")
        parts.append(f"谈心：{cut}")
    concern = payload.get("concern")
    if concern:
        parts.append(f"关注：{CONCERNS.get(concern.get('category'), concern.get('category'))}")
    return "；".join(parts) or "走访，无异常"


DORM_VISIT = Kind(
    name=KIND,
    label="宿舍走访",
    payloads={1: DormVisitV1},
    check=check,
    form=form_fields,
    field_labels={
        "room_id": "宿舍",
        "presence": "在寝情况",
        "stars": "卫生星级",
        "issues": "问题",
        "issue_other": "其他问题",
        "talk_notes": "谈心记录",
        "concern": "关注",
        "concern.category": "关注类别",
        "concern.note": "关注说明",
    },
    messages={
        "stars": "卫生星级应为 1 到 5 星。",
        "concern.category": "请选择关注类别（心理、身体、经济困难、人际）。",
    },
    choices={"presence": PRESENCE, "issues": ISSUES, "concern.category": CONCERNS},
    after_write=raise_concern,
    prepare=prepare,
    students=students,
    summary=summary,
    counts_as=counts_as,
)
