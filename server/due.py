"""What is due (guideline §2.5, §2.6.2, §2.8): parents to contact by their child's contact
grade or after a discipline decision (§2.5.2 "违反校规校纪"), course teachers a class teacher has not contacted for a month, and talk follow-ups
whose date has come. Computed from the entries when asked, never stored: a record made on
any phone settles them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from server import clock, discipline, scope
from server.models import ClassCourse, ContactCadence, Entry, SchoolClass, Student, User
from server.records import DATE_WINDOW_DAYS, PARENT_CONTACT, TALK, TEACHER_CONTACT

# the college's settings, not the guideline's words: §2.5 says only 经常 / 加强 / 保持 联系
DEFAULT_CADENCE = {"special": 14, "key": 30, "general": 140}  # days; 140 ≈ a 20-week semester
GUIDELINE_WORDS = {
    "special": "经常联系",
    "key": "加强联系",
    "general": "保持联系",
}  # §2.5 工作重点 4
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
    reason: str = ""  # why besides the cadence: 违纪处理
    decided: discipline.Decided | None = None  # the discipline decision that prompts it


DISCIPLINE_REASON = "违纪处理"


def cadence(db: Session, department_id: int | None) -> dict[str, int]:
    row = db.get(ContactCadence, department_id) if department_id is not None else None
    if row is None:
        return dict(DEFAULT_CADENCE)
    return {"special": row.special_days, "key": row.key_days, "general": row.general_days}


def parents_overdue(db: Session, user: User, today: date) -> list[Overdue]:
    """Students of my classes whose parents are due for contact by their contact grade
    (§2.5.4); a contact by any colleague counts. Most overdue first, never-contacted first."""
    found = _parents_due(db, user, today)
    if not found:
        return []
    students = {
        s.id: s for s in db.scalars(select(Student).where(Student.id.in_([f[0] for f in found])))
    }
    return [Overdue(students[i], *rest) for i, *rest in found]


def parents_overdue_count(db: Session, user: User, today: date) -> int:
    """How many parents_overdue would list (the home page's count), without loading them."""
    return len(_parents_due(db, user, today))


def _parents_due(db: Session, user: User, today: date) -> list[tuple]:
    """(student id, last contact, due date, reason, decision) in the due list's order."""
    students = db.execute(
        select(Student.id, Student.contact_grade)
        .where(Student.id.in_(scope.student_ids_in_scope(user)))
        .order_by(Student.class_id, Student.student_number)
    ).all()
    if not students:
        return []
    # the latest contact per student, grouped in SQL: loading every contact in history to
    # find it made this list most of the home page's time (issue 16)
    contacted = Entry.payload["student_id"].as_integer()
    last_at: dict[int, datetime] = dict(
        db.execute(
            select(contacted, func.max(Entry.recorded_at))
            .where(
                Entry.kind == PARENT_CONTACT.name,
                Entry.deleted.is_(False),
                Entry.class_id.in_(scope.class_ids_in_scope(user)),
                contacted.is_not(None),
            )
            .group_by(contacted)
        ).all()
    )
    last = {student_id: clock.day_of(at) for student_id, at in last_at.items()}
    every = cadence(db, user.department_id)
    decided = discipline_decisions(db, user)
    due = []
    for student_id, grade in students:
        case = decided.get(student_id)
        if case is not None and last_at.get(student_id, _EARLIEST) < case.at:
            day = case.decided_on or clock.day_of(case.at)
            due.append((student_id, last.get(student_id), day, DISCIPLINE_REASON, case))
        elif overdue(last.get(student_id), today, every[grade.value]):
            days = every[grade.value]
            due.append((student_id, last.get(student_id), next_due(last.get(student_id), days)))
    # a discipline decision first (§2.5.2: at once), then the most overdue, never-contacted first
    return sorted(due, key=lambda o: (len(o) == 3, o[2] or date.min))


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def discipline_decisions(db: Session, user: User) -> dict[int, discipline.Decided]:
    """§2.5.2: a student whose behaviour broke the college's rules — a discipline case with a
    final decision — is due for a parent contact until one is recorded after the decision;
    on the due list of the student's counselor (and of the counselor who proposed the case).
    A contact by any colleague counts."""
    counseled = select(SchoolClass.department_id).where(SchoolClass.counselor_id == user.id)
    decided = discipline.decided_for_students(
        db, (Entry.author_id == user.id) | Entry.department_id.in_(counseled)
    )
    mine = set(db.scalars(scope.counseled_student_ids(user)))
    authored = {
        i
        for payload in db.scalars(
            select(Entry.payload).where(
                Entry.kind == discipline.DISCIPLINE.name, Entry.author_id == user.id
            )
        )
        for i in payload.get("student_ids", [])
    }
    return {i: d for i, d in decided.items() if i in mine or i in authored}


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
    due = _follow_ups_due(db, user, today)
    if not due:
        return []
    talks = {e.id: e for e in db.scalars(select(Entry).where(Entry.id.in_(due)))}
    return [talks[i] for i in due]


def follow_ups_due_count(db: Session, user: User, today: date) -> int:
    return len(_follow_ups_due(db, user, today))


def _follow_ups_due(db: Session, user: User, today: date) -> list[str]:
    """The ids of follow_ups_due, oldest first: read newest first, so each talk is checked
    against the students of the talks after it in one pass (no ORM objects, issue 16)."""
    since = today - timedelta(days=2 * DATE_WINDOW_DAYS + 30)
    talks = db.execute(
        select(Entry.id, Entry.payload)
        .where(
            Entry.kind == TALK.name,
            Entry.author_id == user.id,
            Entry.deleted.is_(False),
            Entry.recorded_at >= datetime.combine(since, time(0), tzinfo=UTC),
        )
        .order_by(Entry.recorded_at.desc())
    ).all()
    talked_since: set[int] = set()
    due = []
    for entry_id, payload in talks:
        students = set(payload.get("student_ids", []))
        follow_up = payload.get("follow_up")
        if follow_up and date.fromisoformat(follow_up) <= today and not students & talked_since:
            due.append(entry_id)
        talked_since |= students
    return due[::-1]


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
