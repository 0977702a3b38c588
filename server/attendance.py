"""Class attendance checks (检查学生上课, guideline §1.5) and course roles (§2.11).

A check names the class, the course (none for 晚自习 evening self-study), the lesson period,
the date and the students who were not simply present; everyone else was present. The class
teacher and the counselor who covers the class record checks (`scope.class_for`); their
history shows absences per student this semester and a warning (预警) for students absent
`WARNING_ABSENCES` times within the last `WARNING_DAYS` days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import date as datetime_date  # the payload has a field named `date`
from typing import Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import clock, scope, semesters
from server.entries import Id, Kind, Placement, Rejected, Text, blank_is_none, one, remembered
from server.models import (
    ClassCourse,
    Course,
    CourseRole,
    Entry,
    SchoolClass,
    Student,
    StudentStatus,
    User,
)

KIND = "attendance_check"

# what a tap on a student cycles through, present first (the default)
MARKS = {
    "present": "出勤",
    "absent": "缺勤",
    "late": "迟到",
    "leave": "请假",
    "early_leave": "早退",
}
PERIODS = {
    "1-2": "第1-2节",
    "3-4": "第3-4节",
    "5-6": "第5-6节",
    "7-8": "第7-8节",
    "9-10": "第9-10节",
    "evening": "晚自习",
}
EVENING = "evening"
COURSE_ROLES = {"representative": "课代表", "group_leader": "学习小组长"}

MAX_DAYS_BACK = 30  # a check entered a month late is a memory, not a check
MAX_DAYS_AHEAD = 1  # the phone's today may be the server's tomorrow near midnight
WARNING_ABSENCES = 3  # 预警: this many absences …
WARNING_DAYS = 14  # … within this many days, today included


# --- the kind -------------------------------------------------------------------------------


def roster(db: Session, class_id: int, *, everyone: bool = False) -> list[Student]:
    """The class's 在读 students (scope.enrolled); `everyone` for an archived class's history,
    whose students have all graduated."""
    query = select(Student).where(Student.class_id == class_id)
    if not everyone:
        query = query.where(scope.enrolled())
    return list(db.scalars(query.order_by(Student.student_number)))


def courses_of(db: Session, class_id: int) -> list[Course]:
    return list(
        db.scalars(
            select(Course)
            .join(ClassCourse, ClassCourse.course_id == Course.id)
            .where(ClassCourse.class_id == class_id)
            .order_by(Course.name)
        )
    )


class AttendanceCheckV1(msgspec.Struct, forbid_unknown_fields=True):
    """The payload of schema version 1: `marks` holds the students not simply present."""

    class_id: Id
    period: Literal[tuple(PERIODS)] | None = None  # type: ignore[valid-type]
    course_id: Id | None = None  # none for 晚自习
    date: datetime_date | None = None
    marks: dict[Id, Literal[tuple(MARKS)]] | None = None  # type: ignore[valid-type]
    note: Text | None = ""


def check(db: Session, user: User, lesson: AttendanceCheckV1) -> Placement:
    class_id = lesson.class_id
    school_class = db.get(SchoolClass, class_id)
    if school_class is None:
        raise Rejected("班级不存在。")
    # a phone's batch names the same class again and again: look each answer up once
    if not remembered(
        db, ("records_class", user.id, class_id), lambda: may_record(db, user, class_id)
    ):
        raise Rejected(
            f"{school_class.name} 不在您的工作范围内：只有班主任和辅导员可以为本班记录查课。"
        )

    period = lesson.period
    if period is None:
        raise Rejected("请选择节次（第1-2节 … 第9-10节，或晚自习）。")
    course_id = lesson.course_id
    if period == EVENING:
        course_id = None  # evening self-study belongs to no course
    elif course_id is None:
        raise Rejected("请选择课程；晚自习请把节次选为“晚自习”。")
    elif course_id not in remembered(
        db, ("class_courses", class_id), lambda: {c.id for c in courses_of(db, class_id)}
    ):
        raise Rejected("这门课程不是本班的课程，请刷新后重新选择。")

    on = lesson.date
    if on is None:
        raise Rejected("查课日期格式不正确（例如 2026-03-02）。")
    today = clock.today()
    if (on - today).days > MAX_DAYS_AHEAD:
        raise Rejected("查课日期不能晚于明天。")
    if (today - on).days > MAX_DAYS_BACK:
        raise Rejected(f"查课日期太早：只能补记 {MAX_DAYS_BACK} 天以内的查课。")

    marks = lesson.marks or {}
    in_class = remembered(
        db, ("class_students", class_id), lambda: {s.id for s in roster(db, class_id)}
    )
    if any(student_id not in in_class for student_id in marks):
        raise Rejected("出勤情况里有不是本班的学生，请刷新后重新填写。")
    cleaned = {
        "class_id": class_id,
        "course_id": course_id,
        "period": period,
        "date": on.isoformat(),
        # present is the default: not stored
        "marks": {str(s): mark for s, mark in sorted(marks.items()) if mark != "present"},
        "note": lesson.note or "",
    }
    return Placement(cleaned, class_id=class_id, department_id=school_class.department_id)


def may_record(db: Session, user: User, class_id: int) -> bool:
    return bool(
        db.scalar(
            select(SchoolClass.id).where(
                SchoolClass.id == class_id, scope.recording_class_condition(user)
            )
        )
    )


def form_fields(form: dict) -> dict:
    """The check form's fields in the payload's shape (converted by `Kind.decode_form`)."""
    return {
        "class_id": one(form, "class_id"),
        "course_id": blank_is_none(one(form, "course_id")),
        "period": blank_is_none(one(form, "period")),
        "date": blank_is_none(one(form, "date")),
        "marks": {k.removeprefix("mark_"): one(form, k) for k in form if k.startswith("mark_")},
        "note": one(form, "note"),
    }


def students(payload: dict) -> set[int]:
    """The students the check is about (work log): those not simply present."""
    return {int(student_id) for student_id in payload.get("marks") or {}}


def summary(payload: dict) -> str:
    """A few words for the work log: the lesson and who was not simply present."""
    marks = list((payload.get("marks") or {}).values())
    away = [f"{MARKS[m]} {marks.count(m)} 人" for m in MARKS if m in marks]
    lesson = f"{payload.get('date', '')} {PERIODS.get(payload.get('period'), '')}".strip()
    return f"{lesson}：{'、'.join(away) or '全勤'}"


ATTENDANCE_CHECK = Kind(
    name=KIND,
    label="检查上课",
    payloads={1: AttendanceCheckV1},
    check=check,
    form=form_fields,
    field_labels={
        "class_id": "班级",
        "course_id": "课程",
        "period": "节次",
        "date": "查课日期",
        "marks": "出勤情况",
        "note": "备注",
    },
    choices={"period": PERIODS, "marks": MARKS},
    students=students,
    summary=summary,
)


# --- counts, history and warnings ------------------------------------------------------------


def counts(enrolled: int, marks: dict[str, str]) -> dict[str, int]:
    """应到 / 实到 / … of one check. 实到 counts everyone who came: present, late, and those who
    left early (they were in the room); the absent and those on leave are not there."""
    by_mark = Counter(marks.values())
    return {
        "expected": enrolled,
        "attended": enrolled - by_mark["absent"] - by_mark["leave"],
        **{mark: by_mark[mark] for mark in MARKS if mark != "present"},
    }


@dataclass
class StudentHistory:
    student: Student
    counts: Counter  # mark → number of lessons this semester
    recent_absences: int  # absent lessons within the warning window


def checks_of(db: Session, class_id: int, since: date, until: date) -> list[Entry]:
    """The class's checks dated from `since` to `until` (both included), newest first."""
    found = _checks_of_classes(db, [class_id], since, until)
    return sorted(found, key=lambda e: (e.payload["date"], e.payload["period"]), reverse=True)


def _checks_of_classes(
    db: Session, class_ids: list[int], since: date, until: date, *columns
) -> list:
    """The checks of these classes dated from `since` to `until`: Entry objects, or rows of
    `columns` (with `payload` among them) where no object is needed — building hundreds of
    them was most of a leader's home page (issue 16)."""
    # a check's date is at most MAX_DAYS_AHEAD after the server day it arrived on: bound the
    # rows read by arrival time, then filter by the check's own date
    arrived_after = datetime.combine(
        since - timedelta(days=MAX_DAYS_AHEAD + 1), datetime.min.time()
    )
    query = (select(*columns) if columns else select(Entry)).where(
        Entry.kind == KIND,
        Entry.class_id.in_(class_ids),
        Entry.deleted.is_(False),
        Entry.created_at >= arrived_after,
    )
    found = db.execute(query).all() if columns else db.scalars(query).all()
    return [e for e in found if since <= date.fromisoformat(e.payload["date"]) <= until]


def history(db: Session, class_id: int, today: date) -> list[StudentHistory]:
    """Per student, marks over this semester and absences in the warning window.

    A lesson (date and period) checked by both the class teacher and the counselor counts
    once per student: the worst mark wins in the order of MARKS (absent before late …).
    """
    window_start = today - timedelta(days=WARNING_DAYS - 1)
    since = min(semesters.term_of(db, today).first, window_start)
    checks = checks_of(db, class_id, since, today + timedelta(days=MAX_DAYS_AHEAD))
    lessons = {(on, period): m for (_, on, period), m in _worst_marks(checks).items()}
    semester = semesters.term_of(db, today).first.isoformat()
    rows = []
    school_class = db.get(SchoolClass, class_id)
    for student in roster(db, class_id, everyone=bool(school_class and school_class.archived)):
        key = str(student.id)
        marks = [(on, m[key]) for (on, _), m in lessons.items() if key in m]
        rows.append(
            StudentHistory(
                student,
                Counter(mark for on, mark in marks if on >= semester),
                sum(1 for on, mark in marks if mark == "absent" and on >= window_start.isoformat()),
            )
        )
    return rows


def warnings(rows: list[StudentHistory]) -> list[StudentHistory]:
    flagged = [r for r in rows if r.recent_absences >= WARNING_ABSENCES]
    return sorted(flagged, key=lambda r: -r.recent_absences)


def warnings_in(
    db: Session, classes: list[SchoolClass], today: date
) -> list[tuple[SchoolClass, StudentHistory]]:
    """Every student with 预警 in these classes, by class then most absences: what
    `warnings(history(…))` finds class by class, in two queries however many classes (the
    homes' cards and /attendance/warnings; issue 16). `counts` covers the warning window."""
    window_start = today - timedelta(days=WARNING_DAYS - 1)
    by_id = {c.id: c for c in classes}
    checks = _checks_of_classes(
        db, list(by_id), window_start, today + timedelta(MAX_DAYS_AHEAD),
        Entry.class_id, Entry.payload,
    )  # fmt: skip
    marks: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for (class_id, _, _), lesson in _worst_marks(checks).items():
        for student_id, mark in lesson.items():
            marks[(class_id, int(student_id))][mark] += 1
    flagged = {key for key, counts in marks.items() if counts["absent"] >= WARNING_ABSENCES}
    if not flagged:
        return []
    students = db.scalars(select(Student).where(Student.id.in_({i for _, i in flagged})))
    rows = []
    for student in students:
        school_class = by_id.get(student.class_id)
        # as the roster reads it: still in that class, and 在读 unless the class graduated
        if (student.class_id, student.id) not in flagged or not (
            school_class.archived or student.status == StudentStatus.enrolled
        ):
            continue
        counts = marks[(student.class_id, student.id)]
        rows.append((school_class, StudentHistory(student, counts, counts["absent"])))
    return sorted(
        rows, key=lambda r: (r[0].name, r[0].id, -r[1].recent_absences, r[1].student.student_number)
    )


def _worst_marks(checks: list) -> dict[tuple[int, str, str], dict[str, str]]:
    """(class, date, period) → each student's mark: a lesson checked by both the class
    teacher and the counselor counts once, the worst mark winning (absent before late …)."""
    lessons: dict[tuple[int, str, str], dict[str, str]] = defaultdict(dict)
    for entry in checks:
        lesson = lessons[(entry.class_id, entry.payload["date"], entry.payload["period"])]
        for student_id, mark in entry.payload["marks"].items():
            if student_id not in lesson or _rank(mark) < _rank(lesson[student_id]):
                lesson[student_id] = mark
    return lessons


_RANKS = {mark: n for n, mark in enumerate(["absent", "late", "early_leave", "leave", "present"])}


def _rank(mark: str) -> int:
    return _RANKS.get(mark, len(_RANKS))


# --- course roles (§2.11) ---------------------------------------------------------------------


def course_roles(db: Session, class_id: int) -> dict[int, dict[int, str]]:
    """course id → {student id → role}."""
    roles: dict[int, dict[int, str]] = defaultdict(dict)
    for row in db.scalars(select(CourseRole).where(CourseRole.class_id == class_id)):
        roles[row.course_id][row.student_id] = row.role
    return roles


def set_course_roles(
    db: Session, class_id: int, course_id: int, representative: int | None, leaders: set[int]
) -> None:
    """Replace a course's representative and study-group leaders; the caller commits.

    A student is either the representative or a group leader of a course, not both: the
    representative wins. Students not of the class are ignored (a stale page).
    """
    in_class = {s.id for s in roster(db, class_id)}
    wanted = {s: "group_leader" for s in leaders & in_class}
    if representative in in_class:
        wanted[representative] = "representative"
    for row in db.scalars(
        select(CourseRole).where(CourseRole.class_id == class_id, CourseRole.course_id == course_id)
    ):
        db.delete(row)
    db.flush()
    for student_id, role in sorted(wanted.items()):
        db.add(CourseRole(class_id=class_id, course_id=course_id, student_id=student_id, role=role))


def classes_of(db: Session, user: User) -> tuple[list[SchoolClass], list[SchoolClass]]:
    """(classes the user checks — class teacher's first, then the counselor's; other classes
    the user may read the history of: a leader's department, everything for the office)."""
    mine = db.scalars(
        select(SchoolClass)
        .where(scope.recording_class_condition(user))
        .order_by((SchoolClass.class_teacher_id == user.id).desc(), SchoolClass.name)
    ).all()
    others = db.scalars(
        select(SchoolClass)
        .options(joinedload(SchoolClass.department))
        .where(scope.class_condition(user), SchoolClass.id.not_in([c.id for c in mine]))
        .order_by(SchoolClass.department_id, SchoolClass.name)
    ).all()
    return list(mine), list(others)
