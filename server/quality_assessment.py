"""综合素质测评 (§1.6 "指导班委会做好学生综合素质测评工作"): the class committee assesses
each student once a school year; the class teacher records the results (or they come with the
import, sheet 综合测评: 学号, 学年, 分数, 等级) and submits the class's results to the
department; the department's leader sees which classes have submitted.

Where the guideline is silent, we chose: a result is a score of 0–100 and a level
(优秀 / 良好 / 合格 / 不合格); a school year is named 2025-2026 and runs from 1 August; the
class teacher of a class records and submits (a counselor covering a class without a class
teacher too, §1.10); a class is submitted once every enrolled student has a result, and its
results are then kept as submitted (a change after that goes through the department's import).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, scope
from server.models import QualityAssessment, QualitySubmission, SchoolClass, Student, User

LEVELS = ("优秀", "良好", "合格", "不合格")
YEAR = re.compile(r"(\d{4})-(\d{4})")


class AssessmentError(Exception):
    """Results or a submission that cannot be saved; the message is shown as it is."""


def school_year(day: date) -> str:
    """The school year `day` falls in: from 1 August to 31 July."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def parse_year(text: str) -> str:
    """学年 as typed (2025-2026, 2025—2026, ２０２５-２０２６) → 2025-2026; raises AssessmentError."""
    raw = "".join(unicodedata.normalize("NFKC", text or "").split())
    raw = re.sub(r"[—–~至到/]", "-", raw).removesuffix("学年")
    match = YEAR.fullmatch(raw)
    if (
        match is None
        or int(match.group(2)) != int(match.group(1)) + 1
        or not (2000 <= int(match.group(1)) <= 2098)
    ):
        raise AssessmentError(f"学年“{text}”无法识别：应为 2025-2026 这样相邻的两个年份。")
    return raw


def parse_score(text: str) -> float:
    raw = "".join(unicodedata.normalize("NFKC", str(text or "")).split())
    try:
        score = float(raw)
    except ValueError:
        raise AssessmentError(f"分数“{text}”无法识别：应为 0–100 的数。") from None
    if not 0 <= score <= 100 or score != score:
        raise AssessmentError(f"分数“{text}”超出范围：应为 0–100 的数。")
    return round(score, 2)


def parse_level(text: str) -> str:
    raw = "".join(unicodedata.normalize("NFKC", text or "").split())
    if raw not in LEVELS:
        raise AssessmentError(f"等级“{text}”无法识别：应为 {' / '.join(LEVELS)}。")
    return raw


def class_to_record(db: Session, user: User, class_id: int) -> SchoolClass:
    """A class whose results the user records: its class teacher (or covering counselor)."""
    school_class = db.get(SchoolClass, class_id)
    if school_class is None:
        raise LookupError("找不到这个班级。")
    teaches = db.scalar(
        select(SchoolClass.id).where(
            SchoolClass.id == class_id,
            scope.current_class(),
            (SchoolClass.class_teacher_id == user.id)
            | ((SchoolClass.counselor_id == user.id) & SchoolClass.class_teacher_id.is_(None)),
        )
    )
    if teaches is None:
        raise PermissionError(f"{school_class.name} 的综合素质测评由班主任录入和提交。")
    return school_class


def my_classes(db: Session, user: User) -> list[SchoolClass]:
    return list(
        db.scalars(
            select(SchoolClass)
            .where(
                scope.current_class(),
                (SchoolClass.class_teacher_id == user.id)
                | ((SchoolClass.counselor_id == user.id) & SchoolClass.class_teacher_id.is_(None)),
            )
            .order_by(SchoolClass.name)
        )
    )


def students_of(db: Session, school_class: SchoolClass) -> list[Student]:
    return list(
        db.scalars(
            select(Student)
            .where(Student.class_id == school_class.id, scope.enrolled())
            .order_by(Student.student_number)
        )
    )


def results(db: Session, school_class: SchoolClass, year: str) -> dict[int, QualityAssessment]:
    ids = [s.id for s in students_of(db, school_class)]
    if not ids:
        return {}
    return {
        r.student_id: r
        for r in db.scalars(
            select(QualityAssessment).where(
                QualityAssessment.student_id.in_(ids), QualityAssessment.school_year == year
            )
        )
    }


def submission(db: Session, class_id: int, year: str) -> QualitySubmission | None:
    return db.scalar(
        select(QualitySubmission).where(
            QualitySubmission.class_id == class_id, QualitySubmission.school_year == year
        )
    )


def save(
    db: Session, school_class: SchoolClass, year: str, rows: dict[int, tuple[str, str]]
) -> int:
    """Record the class's results: {student id: (分数, 等级)}; a row left blank is skipped.
    Every row is checked before anything is written. Answers how many were saved."""
    if submission(db, school_class.id, year) is not None:
        raise AssessmentError(f"{school_class.name} {year} 学年的测评结果已提交系部，不能再修改。")
    students = {s.id: s for s in students_of(db, school_class)}
    checked = {}
    for student_id, (score_text, level_text) in rows.items():
        if student_id not in students:
            raise AssessmentError("所填学生不是本班在读学生。")
        if not (score_text or "").strip() and not (level_text or "").strip():
            continue
        name = students[student_id].name
        try:
            checked[student_id] = (parse_score(score_text), parse_level(level_text))
        except AssessmentError as exc:
            raise AssessmentError(f"{name}：{exc}") from None
    kept = results(db, school_class, year)
    now = clock.now()
    for student_id, (score, level) in checked.items():
        row = kept.get(student_id)
        if row is None:
            row = QualityAssessment(student_id=student_id, school_year=year)
            db.add(row)
        row.score, row.level, row.updated_at = score, level, now
    db.flush()
    return len(checked)


def submit(db: Session, user: User, school_class: SchoolClass, year: str) -> QualitySubmission:
    """Submit the class's results to the department: every enrolled student has one."""
    if submission(db, school_class.id, year) is not None:
        raise AssessmentError(f"{school_class.name} {year} 学年的测评结果已经提交。")
    students = students_of(db, school_class)
    if not students:
        raise AssessmentError(f"{school_class.name} 没有在读学生。")
    kept = results(db, school_class, year)
    missing = [s.name for s in students if s.id not in kept]
    if missing:
        shown = "、".join(missing[:5]) + ("等" if len(missing) > 5 else "")
        raise AssessmentError(f"还有 {len(missing)} 名学生没有测评结果（{shown}），不能提交。")
    row = QualitySubmission(
        class_id=school_class.id, school_year=year, submitted_by_id=user.id,
        submitted_at=clock.now(),
    )  # fmt: skip
    db.add(row)
    db.flush()
    return row


@dataclass
class ClassStatus:
    school_class: SchoolClass
    students: int
    recorded: int
    submitted: QualitySubmission | None


def department_status(db: Session, department_id: int, year: str) -> list[ClassStatus]:
    """For the leader: each current class of the department, submitted or not."""
    out = []
    for school_class in db.scalars(
        select(SchoolClass)
        .where(SchoolClass.department_id == department_id, scope.current_class())
        .order_by(SchoolClass.name)
    ):
        out.append(
            ClassStatus(
                school_class,
                len(students_of(db, school_class)),
                len(results(db, school_class, year)),
                submission(db, school_class.id, year),
            )
        )
    return out
