"""重修分析 retake analysis (§1.7): for a student retaking a course, the cause found and the
help measures agreed, toward the counselor's report to the department (server/grades.py)."""

from __future__ import annotations

import msgspec
from sqlalchemy.orm import Session

from server import clock
from server.entries import Id, Kind, Placement, Rejected, Text, blank_is_none, one
from server.models import SchoolClass, User
from server.records.common import students_in_scope


class RetakeAnalysisV1(msgspec.Struct, forbid_unknown_fields=True):
    student_id: Id | None = None
    semester: Text | None = ""  # the semester of the results; empty: the last one
    courses: Text | None = ""
    causes: Text | None = ""
    measures: Text | None = ""


def check(db: Session, user: User, analysis: RetakeAnalysisV1) -> Placement:
    from server.college_import.semester_sheets import last_semester_name

    if analysis.student_id is None:
        raise Rejected("请选择学生。")
    (student,) = students_in_scope(db, user, [analysis.student_id])
    if not analysis.causes:
        raise Rejected("请填写查明的原因。")
    if not analysis.measures:
        raise Rejected("请填写帮扶措施。")
    cleaned = {
        "student_id": student.id,
        "semester": analysis.semester or last_semester_name(db, clock.today()),
        "courses": analysis.courses or "",
        "causes": analysis.causes,
        "measures": analysis.measures,
    }
    school_class = db.get(SchoolClass, student.class_id)
    return Placement(cleaned, class_id=student.class_id, department_id=school_class.department_id)


def form_fields(form: dict) -> dict:
    return {
        "student_id": blank_is_none(one(form, "student_id")),
        "semester": one(form, "semester"),
        "courses": one(form, "courses"),
        "causes": one(form, "causes"),
        "measures": one(form, "measures"),
    }


RETAKE_ANALYSIS = Kind(
    name="retake_analysis",
    label="重修分析",
    payloads={1: RetakeAnalysisV1},
    check=check,
    form=form_fields,
    field_labels={
        "student_id": "学生",
        "semester": "成绩学期",
        "courses": "重修课程",
        "causes": "原因",
        "measures": "帮扶措施",
    },
    students=lambda p: {p["student_id"]} if p.get("student_id") else set(),
    summary=lambda p: f"{p.get('semester', '')} {p.get('courses', '')}".strip(),
    record_form=True,
)
