"""A little of the semester in the demo: last semester's results and this semester's
timetable of the first department's classes (the import's 成绩 and 课表 sheets), and two
第二课堂 activities (one high-level lecture held, one waiting for approval)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Activity, ActivityStep, ClassCourse, SchoolClass, Student

COURSES_GRADED = 2  # results of each student's first two courses
RETAKE_BELOW = 42  # a demo score below this is a retake (about one in ten)


def sheets(t: dict, school_class: dict, course: dict) -> dict[str, list[list]]:
    """成绩 and 课表 rows (without headers) for the first department's classes."""
    first_dept = min((c["department_id"] for c in t[SchoolClass]), default=None)
    classes = {i for i, c in school_class.items() if c["department_id"] == first_dept}
    taught: dict[int, list[dict]] = {}
    for cc in t[ClassCourse]:
        if cc["class_id"] in classes:
            taught.setdefault(cc["class_id"], []).append(cc)
    results = []
    for s in t[Student]:
        for cc in taught.get(s["class_id"], [])[:COURSES_GRADED]:
            score = 35 + (s["id"] * 7 + cc["course_id"] * 13) % 65
            results.append([s["student_number"], course[cc["course_id"]]["name"], str(score),
                            "是" if score < RETAKE_BELOW else "否"])  # fmt: skip
    timetable = [
        [school_class[cc["class_id"]]["name"], course[cc["course_id"]]["name"],
         str(cc["id"] % 5 + 1), "1-2" if cc["id"] % 2 else "3-4", "1-16"]
        for ccs in taught.values() for cc in ccs
        if course[cc["course_id"]]["professional_foundation"]
    ]  # fmt: skip
    return {"成绩": results, "课表": timetable}


def activities(db: Session, today: date) -> None:
    """A held high-level lecture three weeks ago and a proposal for next week, for the first
    class that has a class teacher (teacher1's)."""
    school_class = db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id.is_not(None)).order_by(SchoolClass.id)
    )
    if school_class is None:
        return
    grade_classes = db.scalars(
        select(SchoolClass.id).where(
            SchoolClass.department_id == school_class.department_id,
            SchoolClass.grade == school_class.grade,
        )
    ).all()
    now = datetime.now(UTC)
    held = Activity(
        department_id=school_class.department_id, category="lecture", title="人工智能与职业发展",
        high_level=True, organiser="系团总支", day=today - timedelta(days=21), place="学术报告厅",
        grades=[school_class.grade], class_ids=list(grade_classes), expected=150,
        safety="按班级分区就座，班干部负责进出场秩序", proposer_id=school_class.class_teacher_id,
        status="held", participants=138, summary="学生提问踊跃，反馈良好",
    )  # fmt: skip
    proposed = Activity(
        department_id=school_class.department_id, category="volunteering", title="社区义务维修电脑",
        high_level=False, organiser=school_class.name, day=today + timedelta(days=6),
        place="城东社区服务中心", grades=[school_class.grade], class_ids=[school_class.id],
        expected=20, safety="统一乘车往返，带队老师全程陪同", proposer_id=school_class.class_teacher_id,
        status="proposed",
    )  # fmt: skip
    db.add_all([held, proposed])
    db.flush()
    proposer, counselor = school_class.class_teacher_id, school_class.counselor_id
    db.add_all([
        ActivityStep(activity_id=held.id, step="proposed", by_id=proposer, at=now - timedelta(days=30)),
        ActivityStep(activity_id=held.id, step="approved", by_id=counselor, at=now - timedelta(days=29)),
        ActivityStep(activity_id=held.id, step="held", by_id=proposer, at=now - timedelta(days=21)),
        ActivityStep(activity_id=proposed.id, step="proposed", by_id=proposer, at=now),
    ])  # fmt: skip


__all__ = ["activities", "sheets"]
