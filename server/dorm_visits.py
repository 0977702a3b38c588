"""Dorm visits (深入宿舍 / 宿舍访谈, guideline §2.7) and hygiene stars (§2.9).

A visit names the room, who was there, optional hygiene stars (then it also counts as a
hygiene check), issues seen, optional talk notes (then it also counts as a dorm talk) and an
optional concern. A concern goes at once to the student affairs office and the department
leader (§2.7.2: escalate what the visitor cannot resolve).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.entries import (
    Kind,
    Placement,
    Rejected,
    Written,
    keep_escalation,
    register,
    remembered,
    text,
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
STARS = range(1, 6)


def residents(db: Session, room_id: int) -> list[tuple[Bed, Student]]:
    rows = db.execute(
        select(Bed, Student)
        .join(Student, Bed.student_id == Student.id)
        .options(joinedload(Student.school_class))
        .where(Bed.room_id == room_id)
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


def check(db: Session, user: User, payload: dict) -> Placement:
    room_id = payload.get("room_id")
    if not isinstance(room_id, int) or isinstance(room_id, bool):
        raise Rejected("宿舍不存在。")
    where = remembered(db, ("room_scope", user.id, room_id), lambda: _room_scope(db, user, room_id))
    if where == "missing":
        raise Rejected("宿舍不存在。")
    if where == "outside":
        raise Rejected("这个宿舍不在您的工作范围内。")

    living_here = remembered(db, ("residents", room_id), lambda: _resident_ids(db, room_id))
    presence = payload.get("presence") or {}
    if not isinstance(presence, dict):
        raise Rejected("在寝情况格式不正确。")
    cleaned_presence = {}
    for student_id, status in presence.items():
        if not str(student_id).isdigit() or int(student_id) not in living_here:
            raise Rejected("在寝情况里有不住在这个宿舍的学生，请刷新后重新填写。")
        if status not in PRESENCE:
            raise Rejected(f"在寝情况“{status}”无法识别。")
        cleaned_presence[str(int(student_id))] = status

    stars = payload.get("stars")
    if stars in ("", None):
        stars = None
    elif not isinstance(stars, int) or isinstance(stars, bool) or stars not in STARS:
        raise Rejected("卫生星级应为 1 到 5 星。")

    issues = payload.get("issues") or []
    if not isinstance(issues, list) or any(i not in ISSUES for i in issues):
        raise Rejected("问题清单里有无法识别的选项。")

    concern = payload.get("concern") or None
    if concern is not None:
        if not isinstance(concern, dict) or concern.get("category") not in CONCERNS:
            raise Rejected("请选择关注类别（心理、身体、经济困难、人际）。")
        concern = {"category": concern["category"], "note": text(concern, "note", label="关注说明")}

    cleaned = {
        "room_id": room_id,
        "presence": cleaned_presence,
        "stars": stars,
        "issues": sorted(set(issues)),
        "issue_other": text(payload, "issue_other", label="其他问题"),
        "talk_notes": text(payload, "talk_notes", label="谈心记录"),
        "concern": concern,
    }
    return Placement(
        cleaned,
        room_id=room_id,
        department_id=user.department_id
        or remembered(db, ("room_department", room_id), lambda: _room_department(db, room_id)),
    )


def _room_scope(db: Session, user: User, room_id: int) -> str:
    if db.get(Room, room_id) is None:
        return "missing"
    if not db.scalar(select(Room.id).where(Room.id == room_id, scope.room_condition(user))):
        return "outside"
    return "inside"


def _resident_ids(db: Session, room_id: int) -> set[int]:
    return set(
        db.scalars(
            select(Bed.student_id).where(Bed.room_id == room_id, Bed.student_id.is_not(None))
        )
    )


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


def from_form(form: dict) -> dict:
    """Turn the visit form's fields into the entry payload (the same shape the phone sends)."""
    presence = {
        k.removeprefix("presence_"): v for k, v in form.items() if k.startswith("presence_")
    }
    stars = form.get("stars") or None
    category = form.get("concern_category") or None
    issues = form.get("issues") or []
    if isinstance(issues, str):
        issues = [issues]
    return {
        "room_id": int(form["room_id"]) if str(form.get("room_id", "")).isdigit() else None,
        "presence": presence,
        "stars": int(stars) if stars and str(stars).isdigit() else stars,
        "issues": issues,
        "issue_other": form.get("issue_other", ""),
        "talk_notes": form.get("talk_notes", ""),
        "concern": {"category": category, "note": form.get("concern_note", "")}
        if category
        else None,
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


register(
    Kind(
        name=KIND,
        label="宿舍走访",
        check=check,
        after_write=raise_concern,
        from_form=from_form,
        students=students,
        summary=summary,
        counts_as=counts_as,
    )
)
