"""Graduating a cohort (issue 11): one action per 入学年份 (`SchoolClass.grade`).

Every student of that year's classes becomes 毕业 and the classes are archived. Nothing is
deleted: entries keep their students and classes, so the work log and an archived class's
attendance history stay readable; day-to-day lists leave them out through `scope.enrolled`
and `scope.current_class`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from server.models import SchoolClass, Student, StudentStatus


class CohortError(Exception):
    """A graduation that cannot be done; the message is shown to the admin."""


@dataclass
class Cohort:
    year: int
    classes: list[tuple[SchoolClass, int, int]]  # (class, students, of them 在读)

    @property
    def students(self) -> int:
        return sum(n for _, n, _ in self.classes)

    @property
    def enrolled(self) -> int:
        return sum(n for _, _, n in self.classes)

    @property
    def graduated(self) -> bool:
        return all(c.archived for c, _, _ in self.classes)


def cohorts(db: Session) -> list[Cohort]:
    """Each 入学年份 with its classes and student counts, oldest first."""
    counts = {
        class_id: (total, enrolled or 0)
        for class_id, total, enrolled in db.execute(
            select(
                Student.class_id,
                func.count(),
                func.sum(case((Student.status == StudentStatus.enrolled, 1), else_=0)),
            ).group_by(Student.class_id)
        )
    }
    by_year: dict[int, Cohort] = {}
    for school_class in db.scalars(
        select(SchoolClass).order_by(SchoolClass.grade, SchoolClass.name)
    ):
        total, enrolled = counts.get(school_class.id, (0, 0))
        cohort = by_year.setdefault(school_class.grade, Cohort(school_class.grade, []))
        cohort.classes.append((school_class, total, int(enrolled)))
    return list(by_year.values())


def graduate(db: Session, year: int) -> tuple[int, int]:
    """Set every student of the year's classes to 毕业 and archive the classes; returns
    (classes, students changed). Students already 退学 stay 退学: leaving is not graduating."""
    class_ids = list(db.scalars(select(SchoolClass.id).where(SchoolClass.grade == year)))
    if not class_ids:
        raise CohortError(f"没有 {year} 级的班级。")
    changed = db.execute(
        update(Student)
        .where(
            Student.class_id.in_(class_ids),
            Student.status.in_([StudentStatus.enrolled, StudentStatus.suspended]),
        )
        .values(status=StudentStatus.graduated)
    ).rowcount
    db.execute(update(SchoolClass).where(SchoolClass.id.in_(class_ids)).values(archived=True))
    db.flush()
    return len(class_ids), changed
