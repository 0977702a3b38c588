"""Last semester's grades at semester start (guideline §1.7): 开学一个月内 each counselor
analyses the results of their classes, finds the cause and agrees help measures for every
student retaking a course (重修, a `retake_analysis` record), and reports to the department.

Results come from the import's 成绩 sheet (server/college_import/semester_sheets.py). The
report is due from the first day of the semester until the counselor marks it submitted;
after one month it is overdue. It can be submitted once every retake student has an analysis.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from openpyxl import Workbook
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from server import scope, semesters, xlsx
from server.college_import.semester_sheets import last_semester_name
from server.models import (
    CourseResult,
    Entry,
    RetakeReport,
    Role,
    SchoolClass,
    Student,
    User,
)
from server.records import RETAKE_ANALYSIS

REPORT_DAYS = 30  # §1.7: 开学一个月内


class ReportError(Exception):
    """A report that cannot be submitted yet; the message is shown (Chinese)."""


@dataclass
class CourseStats:
    course: str
    results: int = 0
    average: float | None = None
    failed: int = 0


@dataclass
class ClassStats:
    school_class: SchoolClass
    students: int  # with at least one result
    average: float | None
    failed: int  # failed results
    courses: list[CourseStats]


@dataclass
class Retake:
    student: Student
    courses: list[str]
    analysis: dict | None  # the newest retake_analysis payload of that semester


@dataclass
class Report:
    """A counselor's report of one semester: where it stands."""

    counselor: User
    semester: str  # the semester it is due in
    results_of: str  # the semester whose results it analyses
    due_by: date
    submitted: RetakeReport | None
    classes: list[ClassStats]
    retakes: list[Retake]

    @property
    def missing(self) -> list[Retake]:
        return [r for r in self.retakes if r.analysis is None]

    def overdue(self, today: date) -> bool:
        return self.submitted is None and today > self.due_by


def counselor_classes(db: Session, counselor: User) -> list[SchoolClass]:
    return list(
        db.scalars(
            select(SchoolClass)
            .where(SchoolClass.counselor_id == counselor.id, scope.current_class())
            .order_by(SchoolClass.grade.desc(), SchoolClass.name)
        )
    )


def report(db: Session, counselor: User, today: date) -> Report:
    term = semesters.term_of(db, today)
    results_of = last_semester_name(db, today)
    classes = counselor_classes(db, counselor)
    submitted = db.scalar(
        select(RetakeReport).where(
            RetakeReport.counselor_id == counselor.id, RetakeReport.semester == term.name
        )
    )
    return Report(
        counselor, term.name, results_of, term.first + timedelta(days=REPORT_DAYS), submitted,
        statistics(db, classes, results_of), retakes(db, classes, results_of),
    )  # fmt: skip


def statistics(db: Session, classes: list[SchoolClass], semester: str) -> list[ClassStats]:
    """Per class: the average of numeric results, failures, and the same per course; counted
    in SQL (loading every result made the due list's report most of its time, issue 16)."""
    class_ids = [c.id for c in classes]
    enrolled = (
        select(Student.id, Student.class_id)
        .where(Student.class_id.in_(class_ids), scope.enrolled())
        .subquery()
    )
    results = (
        select(enrolled.c.class_id, CourseResult.course, func.count(), func.sum(case((CourseResult.failed, 1), else_=0)),
               func.sum(CourseResult.points), func.count(CourseResult.points))
        .join(enrolled, enrolled.c.id == CourseResult.student_id)
        .where(CourseResult.semester == semester)
        .group_by(enrolled.c.class_id, CourseResult.course)
    )  # fmt: skip
    students = dict(
        db.execute(
            select(enrolled.c.class_id, func.count(func.distinct(CourseResult.student_id)))
            .join(enrolled, enrolled.c.id == CourseResult.student_id)
            .where(CourseResult.semester == semester)
            .group_by(enrolled.c.class_id)
        ).all()
    )
    by_class: dict[int, list[tuple[CourseStats, float, int]]] = defaultdict(list)
    for class_id, course, count, failed, points, numeric in db.execute(results):
        average = points / numeric if numeric else None
        stats = CourseStats(course, results=count, average=average, failed=int(failed or 0))
        by_class[class_id].append((stats, points or 0.0, numeric))
    out = []
    for c in classes:
        rows = sorted(by_class[c.id], key=lambda row: row[0].course)
        numeric = sum(n for _, _, n in rows)
        average = sum(p for _, p, _ in rows) / numeric if numeric else None
        courses = [stats for stats, _, _ in rows]
        out.append(ClassStats(c, students.get(c.id, 0), average,
                              sum(s.failed for s in courses), courses))  # fmt: skip
    return out


def retakes(db: Session, classes: list[SchoolClass], semester: str) -> list[Retake]:
    """The 在读 students of these classes retaking a course, with their analysis if written."""
    rows = db.execute(
        select(Student, CourseResult.course)
        .join(CourseResult, CourseResult.student_id == Student.id)
        .options(joinedload(Student.school_class))
        .where(Student.class_id.in_([c.id for c in classes]), CourseResult.semester == semester,
               CourseResult.retake.is_(True), scope.enrolled())
        .order_by(Student.class_id, Student.student_number, CourseResult.course)
    ).all()  # fmt: skip
    courses: dict[int, list[str]] = defaultdict(list)
    student_of: dict[int, Student] = {}
    for student, course in rows:
        student_of[student.id] = student
        courses[student.id].append(course)
    written = analyses(db, [c.id for c in classes], semester)
    return [Retake(s, courses[s.id], written.get(s.id)) for s in student_of.values()]


def analyses(db: Session, class_ids: list[int], semester: str) -> dict[int, dict]:
    """student id → the newest retake analysis of that semester (by anyone)."""
    found: dict[int, dict] = {}
    for payload in db.scalars(
        select(Entry.payload)
        .where(Entry.kind == RETAKE_ANALYSIS.name, Entry.deleted.is_(False),
               Entry.class_id.in_(class_ids))
        .order_by(Entry.recorded_at)
    ):  # fmt: skip
        if payload.get("semester") == semester:
            found[payload["student_id"]] = payload
    return found


def submit(db: Session, counselor: User, today: date) -> RetakeReport:
    """Mark the report submitted to the department, once every retake student has an analysis."""
    if not counselor.has(Role.counselor):
        raise ReportError("成绩统计分析报告由辅导员提交。")
    current = report(db, counselor, today)
    if current.submitted is not None:
        raise ReportError("本学期的报告已经提交。")
    if current.missing:
        names = "、".join(r.student.name for r in current.missing[:5])
        raise ReportError(
            f"还有 {len(current.missing)} 名重修学生没有重修分析（{names}……）：请先查明原因、制定帮扶措施。"
        )
    row = RetakeReport(
        counselor_id=counselor.id, department_id=counselor.department_id,
        semester=current.semester, submitted_at=datetime.now(UTC),
    )  # fmt: skip
    db.add(row)
    return row


def report_pending(db: Session, user: User, today: date) -> bool:
    """A counselor with classes has not yet submitted this semester's report (the home page's
    count asks only this: working out the whole report was a fifth of its time, issue 16)."""
    if not user.has(Role.counselor) or not counselor_classes(db, user):
        return False
    submitted = select(RetakeReport.id).where(
        RetakeReport.counselor_id == user.id,
        RetakeReport.semester == semesters.term_of(db, today).name,
    )
    return db.scalar(submitted.limit(1)) is None


def report_due(db: Session, user: User, today: date) -> Report | None:
    """For the due list: a counselor's report of this semester until it is submitted."""
    return report(db, user, today) if report_pending(db, user, today) else None


def department_reports(db: Session, department_id: int, today: date) -> list[Report]:
    counselors = db.scalars(
        select(User)
        .where(User.department_id == department_id, User.active.is_(True),
               User.id.in_(select(SchoolClass.counselor_id).where(scope.current_class())))
        .order_by(User.name)
    ).all()  # fmt: skip
    return [report(db, c, today) for c in counselors]


def workbook(current: Report) -> bytes:
    """The report as Excel: statistics, the retake list with causes and measures."""
    book = Workbook()
    sheet = book.active
    sheet.title = "成绩统计"
    xlsx.append(sheet, [f"{current.counselor.name} · {current.results_of}成绩统计分析"])
    xlsx.append(sheet, ["班级", "课程", "成绩数", "平均分", "不及格"])
    for c in current.classes:
        xlsx.append(sheet, [c.school_class.name, "（全部课程）", sum(s.results for s in c.courses),
                            _round(c.average), c.failed])  # fmt: skip
        for s in c.courses:
            xlsx.append(sheet, [c.school_class.name, s.course, s.results, _round(s.average),
                                s.failed])  # fmt: skip
    retake_sheet = book.create_sheet("重修学生")
    xlsx.append(retake_sheet, ["班级", "学号", "姓名", "重修课程", "原因", "帮扶措施"])
    for r in current.retakes:
        a = r.analysis or {}
        xlsx.append(retake_sheet, [
            r.student.school_class.name, r.student.student_number, r.student.name,
            "、".join(r.courses), a.get("causes", "（未填写）"), a.get("measures", "（未填写）"),
        ])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _round(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)
