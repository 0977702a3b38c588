"""What is due (guideline §2.5.4, §2.6.2, §2.8): parents to contact by their child's contact
grade, course teachers a class teacher has not contacted for a month, and talk follow-ups
whose date has come. Computed from the entries when asked, never stored: a record made on
any phone settles them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import clock, scope
from server.models import ClassCourse, ContactCadence, Entry, SchoolClass, Student, User
from server.records import DATE_WINDOW_DAYS, PARENT_CONTACT, TALK, TEACHER_CONTACT

DEFAULT_CADENCE = {"special": 14, "key": 30, "general": 140}  # days; 140 ≈ a 20-week semester
COURSE_TEACHER_DAYS = 30  # §2.6.2: each course teacher of the class once a month


def overdue(last: date | None, today: date, every_days: int) -> bool:
    """Due when never done, or when `every_days` have passed since the last time."""
    return last is None or (today - last).days >= every_days


def next_due(last: date | None, every_days: int) -> date | None:
    return None if last is None else last + timedelta(days=every_days)


@dataclass
class Overdue:
    """Someone to contact: a student's parents, or a course teacher of the class."""

    what: object  # Student or ClassCourse
    last: date | None
    due: date | None  # None: never contacted


def cadence(db: Session, department_id: int | None) -> dict[str, int]:
    row = db.get(ContactCadence, department_id) if department_id is not None else None
    if row is None:
        return dict(DEFAULT_CADENCE)
    return {"special": row.special_days, "key": row.key_days, "general": row.general_days}


def parents_overdue(db: Session, user: User, today: date) -> list[Overdue]:
    """Students of my classes whose parents are due for contact by their contact grade
    (§2.5.4); a contact by any colleague counts. Most overdue first, never-contacted first."""
    students = db.scalars(
        select(Student)
        .where(Student.id.in_(scope.student_ids_in_scope(user)))
        .order_by(Student.class_id, Student.student_number)
    ).all()
    if not students:
        return []
    last: dict[int, date] = {}
    contacts = db.execute(
        select(Entry.payload, Entry.recorded_at).where(
            Entry.kind == PARENT_CONTACT.name,
            Entry.deleted.is_(False),
            Entry.class_id.in_(scope.class_ids_in_scope(user)),
        )
    )
    for payload, recorded_at in contacts:
        student_id, day = payload.get("student_id"), clock.day_of(recorded_at)
        if student_id is not None and day > last.get(student_id, date.min):
            last[student_id] = day
    every = cadence(db, user.department_id)
    due = [
        Overdue(s, last.get(s.id), next_due(last.get(s.id), every[s.contact_grade.value]))
        for s in students
        if overdue(last.get(s.id), today, every[s.contact_grade.value])
    ]
    return sorted(due, key=lambda o: o.due or date.min)


def course_teachers_overdue(db: Session, user: User, today: date) -> list[Overdue]:
    """§2.6.2: the class teacher contacts each course teacher of the class once a month. For
    my classes as class teacher (or as the counselor of a class without one, §1.10)."""
    mine = select(SchoolClass.id).where(
        scope.current_class(),
        (SchoolClass.class_teacher_id == user.id)
        | ((SchoolClass.counselor_id == user.id) & SchoolClass.class_teacher_id.is_(None)),
    )
    taught = db.scalars(
        select(ClassCourse)
        .options(joinedload(ClassCourse.course), joinedload(ClassCourse.teacher))
        .where(ClassCourse.class_id.in_(mine))
        .order_by(ClassCourse.class_id, ClassCourse.id)
    ).all()
    if not taught:
        return []
    last: dict[int, date] = {}
    contacts = db.execute(
        select(Entry.payload, Entry.recorded_at).where(
            Entry.kind == TEACHER_CONTACT.name,
            Entry.author_id == user.id,
            Entry.deleted.is_(False),
        )
    )
    for payload, recorded_at in contacts:
        key, day = payload.get("class_course_id"), clock.day_of(recorded_at)
        if key is not None and day > last.get(key, date.min):
            last[key] = day
    due = [
        Overdue(t, last.get(t.id), next_due(last.get(t.id), COURSE_TEACHER_DAYS))
        for t in taught
        if overdue(last.get(t.id), today, COURSE_TEACHER_DAYS)
    ]
    return sorted(due, key=lambda o: o.due or date.min)


def follow_ups_due(db: Session, user: User, today: date) -> list[Entry]:
    """My talks whose follow-up date has come, unless a later talk with one of the same
    students has been recorded since (that talk is the follow-up)."""
    since = today - timedelta(days=2 * DATE_WINDOW_DAYS + 30)
    talks = db.scalars(
        select(Entry)
        .where(
            Entry.kind == TALK.name,
            Entry.author_id == user.id,
            Entry.deleted.is_(False),
            Entry.recorded_at >= datetime.combine(since, time(0), tzinfo=UTC),
        )
        .order_by(Entry.recorded_at)
    ).all()
    due = []
    for n, talk in enumerate(talks):
        follow_up = talk.payload.get("follow_up")
        if not follow_up or date.fromisoformat(follow_up) > today:
            continue
        students = set(talk.payload.get("student_ids", []))
        if not any(
            students & set(later.payload.get("student_ids", [])) for later in talks[n + 1 :]
        ):
            due.append(talk)
    return due


def set_cadence(db: Session, department_id: int, days: dict[str, int] | None) -> None:
    """A department's own contact cadence (days per contact grade); None: the college's."""
    row = db.get(ContactCadence, department_id)
    if days is None:
        if row is not None:
            db.delete(row)
        return
    if row is None:
        row = ContactCadence(department_id=department_id)
        db.add(row)
    row.special_days, row.key_days, row.general_days = days["special"], days["key"], days["general"]
