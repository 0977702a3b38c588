"""The guideline's work records (§2.1–§2.8, §1.3, §3), each a kind of entry written on a phone.

谈心谈话 talk (§2.8), 联系家长 parent contact (§2.5), 听课 lecture observation (§2.6),
联系任课教师 course-teacher contact (§2.6.2), 会议 meeting (§2.1–§2.3) and 计划与总结 plans and
summaries (§1.3, §3). Like dorm visits they go through server.sync.merge (online or from the
outbox), are edited by their author only, and keep every revision.

Each kind: its choices (Chinese labels), `check` (validation and scope), `from_form` (the
HTML form's fields to the payload), `students` and `summary` (for the work log).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, scope
from server.attendance import PERIODS  # the same lesson periods as attendance checks
from server.entries import Kind, Placement, Rejected, Written, keep_escalation, register, text
from server.models import ClassCourse, Guardian, SchoolClass, Student, User

TALK_CATEGORIES = {
    "thought": "思想",
    "study": "学业",
    "life": "生活",
    "mental": "心理",
    "career": "就业",
    "discipline": "纪律",
    "other": "其他",
}
CONTACT_METHODS = {
    "phone": "电话",
    "sms": "短信",
    "letter": "书信",
    "email": "电子邮件",
    "in_person": "当面",
}
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
MEETING_TYPES = {
    "staff": "工作例会",  # §2.1
    "cadre": "学生干部例会",  # §2.2
    "committee": "班委会",  # §2.3
    "class_meeting": "主题班会",  # §2.3, the class meeting handbook
}
CLASS_MEETINGS = {"committee", "class_meeting"}  # held by a class: the class is required
PLAN_TYPES = {
    "semester_plan": "学期工作计划",
    "weekly_plan": "周工作计划",
    "semester_summary": "学期工作总结",
}
MAX_STUDENTS_PER_TALK = 20  # a talk with more is a class meeting
LONG_TEXT = 10_000  # plans and summaries are documents, not notes
DATE_WINDOW_DAYS = 60  # a record dated more than two months away is a typing mistake


# --- shared checks --------------------------------------------------------------------------


def _choice(payload: dict, key: str, choices: dict[str, str], *, label: str) -> str:
    value = payload.get(key)
    if value not in choices:
        raise Rejected(f"请选择{label}。")
    return value


def _day(
    payload: dict, key: str, *, label: str, required: bool = True, window: int = DATE_WINDOW_DAYS
) -> str | None:
    value = payload.get(key) or None
    if value is None:
        if required:
            raise Rejected(f"请填写{label}。")
        return None
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise Rejected(f"{label}格式不正确。") from None
    if abs((day - clock.today()).days) > window:
        raise Rejected(f"{label}离今天太远，请检查。")
    return day.isoformat()


def _ids(value: object) -> list[int]:
    values = value if isinstance(value, list) else [value]
    ids = []
    for v in values:
        if isinstance(v, bool) or not str(v).isdigit():
            raise Rejected("所选学生无法识别，请刷新页面后重新选择。")
        ids.append(int(v))
    return ids


def _students_in_scope(db: Session, user: User, ids: list[int]) -> list[Student]:
    found = db.scalars(
        select(Student).where(
            Student.id.in_(ids), Student.class_id.in_(scope.class_ids_in_scope(user))
        )
    ).all()
    if len(found) != len(set(ids)):
        raise Rejected("所选学生里有不在您工作范围内的学生。")
    return list(found)


def _class_in_scope(db: Session, user: User, class_id: object) -> SchoolClass:
    if isinstance(class_id, bool) or not isinstance(class_id, int):
        raise Rejected("请选择班级。")
    school_class = db.scalar(
        select(SchoolClass).where(SchoolClass.id == class_id, scope.class_condition(user))
    )
    if school_class is None:
        raise Rejected("这个班级不在您的工作范围内。")
    return school_class


def _class_course(db: Session, user: User, payload: dict) -> tuple[ClassCourse, SchoolClass]:
    """The course of one of my classes a record is about (听课, 联系任课教师)."""
    class_course_id = payload.get("class_course_id")
    if isinstance(class_course_id, bool) or not isinstance(class_course_id, int):
        raise Rejected("请选择课程和任课教师。")
    taught = db.get(ClassCourse, class_course_id)
    if taught is None:
        raise Rejected("所选课程不存在。")
    return taught, _class_in_scope(db, user, taught.class_id)


def _course_placement(
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
        cleaned, class_id=taught.class_id, department_id=_department(user, school_class)
    )


def _department(user: User, school_class: SchoolClass | None) -> int | None:
    return school_class.department_id if school_class is not None else user.department_id


def _int_or_none(value: object) -> int | object:
    return int(value) if isinstance(value, str) and value.isdigit() else (value or None)


def _flag(value: object) -> bool:
    return value in (True, "on", "true", "1", "yes")


def _kind(name: str, label: str, check, from_form, students, summary, **more) -> Kind:
    return register(
        Kind(
            name=name,
            label=label,
            check=check,
            from_form=from_form,
            students=students,
            summary=summary,
            **more,
        )
    )


# --- 谈心谈话 talk (§2.8) ---------------------------------------------------------------------


def check_talk(db: Session, user: User, payload: dict) -> Placement:
    ids = _ids(payload.get("student_ids") or [])
    if not ids:
        raise Rejected("请至少选择一名学生。")
    if len(ids) > MAX_STUDENTS_PER_TALK:
        raise Rejected(f"一次谈话最多 {MAX_STUDENTS_PER_TALK} 名学生；更多请记为班会。")
    students = _students_in_scope(db, user, ids)
    category = _choice(payload, "category", TALK_CATEGORIES, label="谈话类别")
    referral = _flag(payload.get("needs_referral"))
    if referral and category != "mental":
        raise Rejected("只有心理类谈话可以申请转介。")
    cleaned = {
        "student_ids": sorted(set(ids)),
        "place": text(payload, "place", label="地点"),
        "category": category,
        "summary": text(payload, "summary", label="谈话内容"),
        "measures": text(payload, "measures", label="措施"),
        "follow_up": _day(
            payload, "follow_up", label="回访日期", required=False, window=2 * DATE_WINDOW_DAYS
        ),
        "needs_referral": referral,
    }
    if not cleaned["summary"]:
        raise Rejected("请填写谈话内容。")
    classes = {s.class_id for s in students}
    only_class = db.get(SchoolClass, classes.pop()) if len(classes) == 1 else None
    return Placement(
        cleaned,
        class_id=only_class.id if only_class else None,
        department_id=_department(user, only_class),
    )


def refer_talk(db: Session, entry: Written) -> None:
    """A 心理 talk that needs referral escalates like a dorm concern (§2.7.2, §2.8)."""
    p = entry.payload
    concern = None
    if p.get("category") == "mental" and p.get("needs_referral"):
        concern = {"category": "mental", "note": p.get("summary", "")}
    keep_escalation(db, entry, concern)


def talk_from_form(form: dict) -> dict:
    ids = form.get("student_ids") or []
    return {
        "student_ids": ids if isinstance(ids, list) else [ids],
        "place": form.get("place", ""),
        "category": form.get("category") or None,
        "summary": form.get("summary", ""),
        "measures": form.get("measures", ""),
        "follow_up": form.get("follow_up") or None,
        "needs_referral": _flag(form.get("needs_referral")),
    }


def talk_students(payload: dict) -> set[int]:
    return {int(i) for i in payload.get("student_ids", [])}


def talk_summary(payload: dict) -> str:
    category = TALK_CATEGORIES.get(payload.get("category"), "")
    return f"{category}：{payload.get('summary', '')[:40]}"


TALK = _kind("talk", "谈心谈话", check_talk, talk_from_form, talk_students, talk_summary,
             after_write=refer_talk)  # fmt: skip


# --- 联系家长 parent contact (§2.5) -------------------------------------------------------------


def check_parent_contact(db: Session, user: User, payload: dict) -> Placement:
    student_id = payload.get("student_id")
    if isinstance(student_id, bool) or not isinstance(student_id, int):
        raise Rejected("请选择学生。")
    (student,) = _students_in_scope(db, user, [student_id])
    guardian_id = payload.get("guardian_id")
    guardian = (
        db.get(Guardian, guardian_id)
        if isinstance(guardian_id, int) and not isinstance(guardian_id, bool)
        else None
    )
    if guardian is None or guardian.student_id != student.id:
        raise Rejected("请选择这名学生的家长。")
    cleaned = {
        "student_id": student.id,
        "guardian_id": guardian.id,
        "method": _choice(payload, "method", CONTACT_METHODS, label="联系方式"),
        "reason": _choice(payload, "reason", CONTACT_REASONS, label="联系原因"),
        "summary": text(payload, "summary", label="联系内容"),
    }
    school_class = db.get(SchoolClass, student.class_id)
    return Placement(
        cleaned, class_id=student.class_id, department_id=_department(user, school_class)
    )


def parent_contact_from_form(form: dict) -> dict:
    return {
        "student_id": _int_or_none(form.get("student_id")),
        "guardian_id": _int_or_none(form.get("guardian_id")),
        "method": form.get("method") or None,
        "reason": form.get("reason") or None,
        "summary": form.get("summary", ""),
    }


def parent_contact_summary(payload: dict) -> str:
    method = CONTACT_METHODS.get(payload.get("method"), "")
    reason = CONTACT_REASONS.get(payload.get("reason"), "")
    return f"{method} · {reason}"


PARENT_CONTACT = _kind(
    "parent_contact", "联系家长", check_parent_contact, parent_contact_from_form,
    lambda p: {p["student_id"]} if p.get("student_id") else set(), parent_contact_summary,
)  # fmt: skip


# --- 听课 lecture observation (§2.6) and 联系任课教师 course-teacher contact (§2.6.2) ----------------


def check_lecture(db: Session, user: User, payload: dict) -> Placement:
    taught, school_class = _class_course(db, user, payload)
    return _course_placement(user, taught, school_class, {
        "date": _day(payload, "date", label="听课日期"),
        "period": _choice(payload, "period", PERIODS, label="节次"),
        "first_lesson": _flag(payload.get("first_lesson")),
        "notes": text(payload, "notes", label="学生听课情况"),
    })  # fmt: skip


def lecture_from_form(form: dict) -> dict:
    return {
        "class_course_id": _int_or_none(form.get("class_course_id")),
        "date": form.get("date") or None,
        "period": form.get("period") or None,
        "first_lesson": _flag(form.get("first_lesson")),
        "notes": form.get("notes", ""),
    }


def lecture_summary(payload: dict) -> str:
    first = " · 专业基础课第一课" if payload.get("first_lesson") else ""
    return f"{payload.get('date', '')} {PERIODS.get(payload.get('period'), '')}{first}"


LECTURE = _kind("lecture_observation", "听课", check_lecture, lecture_from_form,
                lambda p: set(), lecture_summary)  # fmt: skip


def check_teacher_contact(db: Session, user: User, payload: dict) -> Placement:
    taught, school_class = _class_course(db, user, payload)
    return _course_placement(user, taught, school_class, {
        "method": _choice(payload, "method", CONTACT_METHODS, label="联系方式"),
        "summary": text(payload, "summary", label="沟通内容"),
    })  # fmt: skip


def teacher_contact_from_form(form: dict) -> dict:
    return {
        "class_course_id": _int_or_none(form.get("class_course_id")),
        "method": form.get("method") or None,
        "summary": form.get("summary", ""),
    }


TEACHER_CONTACT = _kind(
    "teacher_contact", "联系任课教师", check_teacher_contact, teacher_contact_from_form,
    lambda p: set(), lambda p: CONTACT_METHODS.get(p.get("method"), ""),
)  # fmt: skip


# --- 会议 meetings (§2.1–§2.3) and 计划与总结 plans and summaries (§1.3, §3) -------------------------


def check_meeting(db: Session, user: User, payload: dict) -> Placement:
    meeting = _choice(payload, "meeting_type", MEETING_TYPES, label="会议类型")
    school_class = None
    if meeting in CLASS_MEETINGS:
        school_class = _class_in_scope(db, user, payload.get("class_id"))
    cleaned = {
        "meeting_type": meeting,
        "class_id": school_class.id if school_class else None,
        "theme": text(payload, "theme", label="主题"),
        "date": _day(payload, "date", label="会议日期"),
        "attendees": text(payload, "attendees", label="参会人员"),
        "last_week": text(payload, "last_week", label="上周工作小结"),
        "this_week": text(payload, "this_week", label="本周工作安排"),
    }
    if meeting == "class_meeting" and not cleaned["theme"]:
        raise Rejected("主题班会请填写主题。")
    return Placement(
        cleaned,
        class_id=school_class.id if school_class else None,
        department_id=_department(user, school_class),
    )


def meeting_from_form(form: dict) -> dict:
    return {
        "meeting_type": form.get("meeting_type") or None,
        "class_id": _int_or_none(form.get("class_id")),
        "theme": form.get("theme", ""),
        "date": form.get("date") or None,
        "attendees": form.get("attendees", ""),
        "last_week": form.get("last_week", ""),
        "this_week": form.get("this_week", ""),
    }


def meeting_summary(payload: dict) -> str:
    theme = f"：{payload['theme']}" if payload.get("theme") else ""
    return f"{MEETING_TYPES.get(payload.get('meeting_type'), '')}{theme}"


MEETING = _kind("meeting", "会议", check_meeting, meeting_from_form, lambda p: set(),
                meeting_summary)  # fmt: skip


def check_plan(db: Session, user: User, payload: dict) -> Placement:
    plan = _choice(payload, "plan_type", PLAN_TYPES, label="类型")
    body = payload.get("text") or ""
    if not isinstance(body, str) or not body.strip():
        raise Rejected("请填写内容。")
    if len(body) > LONG_TEXT:
        raise Rejected(f"内容太长（最多 {LONG_TEXT} 字）。")
    cleaned = {
        "plan_type": plan,
        "period": text(payload, "period", label="时段"),
        "text": body.strip(),
    }
    if not cleaned["period"]:
        raise Rejected("请填写时段，例如“2026-2027学年第一学期”或“第12周”。")
    return Placement(cleaned, department_id=user.department_id)


def plan_from_form(form: dict) -> dict:
    return {
        "plan_type": form.get("plan_type") or None,
        "period": form.get("period", ""),
        "text": form.get("text", ""),
    }


PLAN = _kind(
    "plan", "计划与总结", check_plan, plan_from_form, lambda p: set(),
    lambda p: f"{PLAN_TYPES.get(p.get('plan_type'), '')} · {p.get('period', '')}",
)  # fmt: skip

RECORD_KINDS: dict[str, Kind] = {
    k.name: k for k in (TALK, PARENT_CONTACT, LECTURE, TEACHER_CONTACT, MEETING, PLAN)
}
