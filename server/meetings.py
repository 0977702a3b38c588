"""Weekly meetings (§2.1–§2.3) and the class meeting handbook (班会手册).

The guideline expects, every week of the semester: the department's staff meeting (工作例会,
§2.1 "每周召开一次"), its student-cadre meeting (学生干部例会, §2.2 "每周召开一次"), and each
class's class-committee meeting (班委会, §2.3 "每周召开一次"). A week counts as held when a
meeting record of that type is dated (its 会议日期) Monday to Sunday of that week; the weeks
of the semester before this one without one are listed for the department's leader, and this
week's class-committee meeting of each class is shown on 本周 to the class's class teacher and
counselor. Meetings are `meeting` entries (server/records/meeting.py).

The handbook of a class lists its class-committee meetings and 主题班会 in date order, with
attendees, chair and the notes; the page is printable (print CSS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, scope, semesters
from server.models import Entry, SchoolClass, User
from server.records.meeting import MEETING_TYPES

WEEKLY_DEPARTMENT = ("staff", "cadre")  # §2.1, §2.2
WEEKLY_CLASS = "committee"  # §2.3
HANDBOOK_TYPES = ("committee", "class_meeting")


def _meetings(db: Session, *conditions) -> list[Entry]:
    return list(
        db.scalars(
            select(Entry).where(Entry.kind == "meeting", Entry.deleted.is_(False), *conditions)
        )
    )


def _date(entry: Entry) -> date | None:
    try:
        return date.fromisoformat(entry.payload.get("date") or "")
    except ValueError:
        return None


def semester_weeks(db: Session, today: date) -> tuple[list[date], date]:
    """The Mondays of the semester's weeks before this one, and this week's Monday."""
    term = semesters.term_of(db, today)
    this_monday = clock.monday_of(today)
    monday = clock.monday_of(term.first)
    weeks = []
    while monday < this_monday:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks, this_monday


def held_weeks(entries: list[Entry], meeting_type: str) -> set[date]:
    return {
        clock.monday_of(day)
        for e in entries
        if e.payload.get("meeting_type") == meeting_type and (day := _date(e)) is not None
    }


@dataclass
class Missing:
    """The weeks of the semester before this one without a meeting of one type."""

    label: str
    weeks: list[date]
    this_week: bool  # held this week already
    school_class: SchoolClass | None = None


@dataclass
class DepartmentMeetings:
    department: list[Missing] = field(default_factory=list)
    classes: list[Missing] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Weeks without a meeting, every expected meeting together."""
        return sum(len(m.weeks) for m in self.department + self.classes)


def weeks_without(db: Session, department_id: int, today: date | None = None) -> DepartmentMeetings:
    """For the leader: the weeks without a staff meeting, a cadre meeting, and each current
    class's class-committee meeting."""
    today = today or clock.today()
    weeks, this_monday = semester_weeks(db, today)
    out = DepartmentMeetings()
    own = _meetings(db, Entry.department_id == department_id)
    for meeting_type in WEEKLY_DEPARTMENT:
        held = held_weeks(own, meeting_type)
        out.department.append(
            Missing(MEETING_TYPES[meeting_type], [w for w in weeks if w not in held],
                    this_monday in held)
        )  # fmt: skip
    classes = db.scalars(
        select(SchoolClass)
        .where(SchoolClass.department_id == department_id, scope.current_class())
        .order_by(SchoolClass.name)
    ).all()
    by_class = _meetings(db, Entry.class_id.in_([c.id for c in classes])) if classes else []
    for school_class in classes:
        held = held_weeks([e for e in by_class if e.class_id == school_class.id], WEEKLY_CLASS)
        out.classes.append(
            Missing(MEETING_TYPES[WEEKLY_CLASS], [w for w in weeks if w not in held],
                    this_monday in held, school_class)
        )  # fmt: skip
    return out


@dataclass
class ClassWeek:
    school_class: SchoolClass
    meeting: Entry | None  # this week's class-committee meeting, None while not held


def my_committee_week(db: Session, user: User, today: date | None = None) -> list[ClassWeek]:
    """本周: this week's class-committee meeting of each class the user is class teacher or
    counselor of."""
    today = today or clock.today()
    monday = clock.monday_of(today)
    classes = db.scalars(
        select(SchoolClass).where(scope.recording_class_condition(user)).order_by(SchoolClass.name)
    ).all()
    if not classes:
        return []
    entries = _meetings(db, Entry.class_id.in_([c.id for c in classes]))
    out = []
    for school_class in classes:
        found = [
            e for e in entries
            if e.class_id == school_class.id and e.payload.get("meeting_type") == WEEKLY_CLASS
            and (day := _date(e)) is not None and clock.monday_of(day) == monday
        ]  # fmt: skip
        out.append(ClassWeek(school_class, found[0] if found else None))
    return out


def handbook(db: Session, school_class: SchoolClass) -> list[Entry]:
    """班会手册: the class's committee meetings and 主题班会, by date."""
    entries = [
        e for e in _meetings(db, Entry.class_id == school_class.id)
        if e.payload.get("meeting_type") in HANDBOOK_TYPES
    ]  # fmt: skip
    return sorted(entries, key=lambda e: (_date(e) or date.min, e.recorded_at))


def staff_names(db: Session, entries: list[Entry]) -> dict[int, str]:
    ids = {i for e in entries for i in (e.payload.get("attendee_ids") or [])}
    ids |= {e.payload["chair_id"] for e in entries if e.payload.get("chair_id")}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
