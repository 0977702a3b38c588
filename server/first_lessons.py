"""The first lesson of each professional-foundation course (专业基础课) of the semester
(guideline §2.6.1: 辅导员、班主任要深入课堂听专业基础课的第一次课).

The timetable (the import's 课表 sheet) gives each class's lessons of the semester; a course
is a 专业基础课 by the 课程 sheet's column of that name (`Course.professional_foundation`).
A class's first lesson of such a course is the earliest of its weekly lessons in its first
week: week 1 is the week (Monday to Sunday) holding the semester's first day. A 听课 record
ticked 专业基础课第一课 for that class and course, dated in the semester, clears it, by
either of the two. Until then it is due for the class's counselor and class teacher; once
its day has passed it is missed, and the department's leader sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import clock, scope, semesters
from server.models import ClassCourse, Course, Entry, SchoolClass, TimetableSlot, User
from server.records import LECTURE_OBSERVATION


@dataclass
class FirstLesson:
    taught: ClassCourse
    school_class: SchoolClass
    day: date
    periods: str
    cleared: bool

    def missed(self, today: date) -> bool:
        return not self.cleared and self.day < today


def lesson_day(term: semesters.Term, week: int, weekday: int) -> date:
    return clock.monday_of(term.first) + timedelta(days=7 * (week - 1) + weekday - 1)


def first_lessons(db: Session, classes: list[SchoolClass], today: date) -> list[FirstLesson]:
    """The semester's first lessons of the 专业基础课 of these classes, soonest first."""
    term = semesters.term_of(db, today)
    by_id = {c.id: c for c in classes}
    first = _first_days(db, list(by_id), term)
    if not first:
        return []
    taught = {
        t.id: t
        for t in db.scalars(
            select(ClassCourse)
            .options(joinedload(ClassCourse.course), joinedload(ClassCourse.teacher))
            .where(ClassCourse.id.in_(list(first)))
        )
    }
    seen = observed(db, list(by_id), term)
    lessons = [
        FirstLesson(taught[key], by_id[class_id], day, periods, (class_id, course_id) in seen)
        for key, (day, periods, class_id, course_id) in first.items()
    ]
    return sorted(lessons, key=lambda lesson: (lesson.day, lesson.school_class.name))


def due_count(db: Session, user: User, today: date) -> int:
    """How many due_for would list (the home page's count): columns only, no objects."""
    mine = list(db.scalars(select(SchoolClass.id).where(_mine(user))))
    term = semesters.term_of(db, today)
    seen = observed(db, mine, term)
    first = _first_days(db, mine, term).values()
    return sum((class_id, course_id) not in seen for _, _, class_id, course_id in first)


def _first_days(
    db: Session, class_ids: list[int], term: semesters.Term
) -> dict[int, tuple[date, str, int, int]]:
    """Each 专业基础课 of these classes (by class course id): the day and periods of its first
    lesson of the semester, the class and the course."""
    slots = db.execute(
        select(TimetableSlot.class_course_id, TimetableSlot.first_week, TimetableSlot.weekday,
               TimetableSlot.periods, ClassCourse.class_id, ClassCourse.course_id)
        .join(ClassCourse, ClassCourse.id == TimetableSlot.class_course_id)
        .join(Course, Course.id == ClassCourse.course_id)
        .where(ClassCourse.class_id.in_(class_ids), TimetableSlot.semester == term.name,
               Course.professional_foundation.is_(True))
    )  # fmt: skip
    first: dict[int, tuple[date, str, int, int]] = {}
    for key, first_week, weekday, periods, class_id, course_id in slots:
        day = lesson_day(term, first_week, weekday)
        if key not in first or (day, periods) < first[key][:2]:
            first[key] = (day, periods, class_id, course_id)
    return first


def observed(db: Session, class_ids: list[int], term: semesters.Term) -> set[tuple[int, int]]:
    """(class, course) pairs with a first-lesson observation dated in the semester."""
    # ticked and dated in the semester, asked of SQL: decoding every observation of the
    # classes to find the few first lessons was most of this count's time (issue 16)
    day = Entry.payload["date"].as_string()
    found = db.execute(
        select(Entry.payload["class_id"].as_integer(), Entry.payload["course_id"].as_integer())
        .where(
            Entry.kind == LECTURE_OBSERVATION.name, Entry.deleted.is_(False),
            Entry.class_id.in_(class_ids), Entry.payload["first_lesson"].as_boolean().is_(True),
            day >= term.first.isoformat(), day <= term.last.isoformat(),
        )
    )  # fmt: skip
    return {(class_id, course_id) for class_id, course_id in found}


def due_for(db: Session, user: User, today: date) -> list[FirstLesson]:
    """On the due list of the class's counselor and class teacher: first lessons not yet
    observed this semester."""
    mine = list(db.scalars(select(SchoolClass).where(_mine(user))))
    return [lesson for lesson in first_lessons(db, mine, today) if not lesson.cleared]


def _mine(user: User):
    """My current classes as their counselor or class teacher (SQL on SchoolClass)."""
    return scope.current_class() & (
        (SchoolClass.counselor_id == user.id) | (SchoolClass.class_teacher_id == user.id)
    )


def missed_in(db: Session, department_id: int, today: date) -> list[FirstLesson]:
    """The department's first lessons whose day passed without an observation."""
    classes = list(
        db.scalars(
            select(SchoolClass)
            .options(joinedload(SchoolClass.counselor), joinedload(SchoolClass.class_teacher))
            .where(SchoolClass.department_id == department_id, scope.current_class())
        )
    )
    return [lesson for lesson in first_lessons(db, classes, today) if lesson.missed(today)]
