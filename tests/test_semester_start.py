"""Semester-start duties: last semester's grades and the retake students (§1.7), the first
lessons of the professional-foundation courses (§2.6.1), the semester work plan (§1.3)."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import delete, select, update

from server import clock, first_lessons, grades, semester_plans, semesters
from server.clock import today
from server.models import (
    ClassCourse,
    Course,
    CourseResult,
    Entry,
    RetakeReport,
    SchoolClass,
    Semester,
    Student,
    TimetableSlot,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import form_csrf, user_named


def set_term(db, first, last=None):
    """This semester from `first`, and the one before it, named 上学期."""
    db.execute(delete(Semester))
    db.add_all([
        Semester(name="本学期", first_day=first, last_day=last or first + timedelta(days=140),
                 holidays=[]),
        Semester(name="上学期", first_day=first - timedelta(days=190),
                 last_day=first - timedelta(days=30), holidays=[]),
    ])  # fmt: skip
    db.flush()


def record(db, username, kind, payload):
    mutation = merge.Mutation(id=new_entry_id(), op="create", kind=kind, payload=payload)
    outcome = merge.apply(db, user_named(db, username), mutation)
    assert outcome.status == "applied", outcome
    db.flush()


def teacher1_class(db) -> SchoolClass:
    return db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == user_named(db, "teacher1").id)
    )


@pytest.fixture
def rollback(db):
    """A session rolled back after the test, without the plans and first-lesson observations
    other tests of the suite recorded."""
    db.execute(
        update(Entry)
        .where(Entry.kind.in_(["plan", "lecture_observation"]))
        .values(deleted=True)
    )
    yield db
    db.rollback()


# --- grades and retakes (§1.7) ----------------------------------------------------------------


@pytest.fixture
def graded(rollback):
    """Semester began ten days ago; two students of teacher1's class have last semester's
    results, one of them retakes 高等数学."""
    db = rollback
    set_term(db, today() - timedelta(days=10))
    first, second = db.scalars(
        select(Student).where(Student.class_id == teacher1_class(db).id).order_by(Student.id)
    ).all()[:2]
    db.add_all([
        CourseResult(student_id=first.id, semester="上学期", course="高等数学", score="52",
                     points=52, failed=True, retake=True),
        CourseResult(student_id=first.id, semester="上学期", course="大学英语", score="80",
                     points=80, failed=False, retake=False),
        CourseResult(student_id=second.id, semester="上学期", course="高等数学", score="70",
                     points=70, failed=False, retake=False),
        CourseResult(student_id=second.id, semester="更早", course="高等数学", score="10",
                     points=10, failed=True, retake=True),
    ])  # fmt: skip
    db.flush()
    return db, first


def test_class_statistics_give_averages_and_failures_per_course(graded):
    db, _ = graded
    report = grades.report(db, user_named(db, "counselor1"), today())
    stats = next(c for c in report.classes if c.school_class.id == teacher1_class(db).id)
    assert (stats.students, stats.failed, round(stats.average, 1)) == (2, 1, 67.3)
    assert [(s.course, s.results, s.average, s.failed) for s in stats.courses] == [
        ("大学英语", 1, 80.0, 0), ("高等数学", 2, 61.0, 1)
    ]  # fmt: skip


def test_retake_student_without_analysis_is_due(graded):
    db, student = graded
    counselor = user_named(db, "counselor1")
    due = grades.report_due(db, counselor, today())
    assert [(r.student.id, r.courses) for r in due.missing] == [(student.id, ["高等数学"])]
    record(db, "counselor1", "retake_analysis", {
        "student_id": student.id, "courses": "高等数学", "causes": "沉迷游戏，缺课多",
        "measures": "学习小组长结对辅导",
    })  # fmt: skip
    due = grades.report_due(db, counselor, today())
    assert due.missing == [] and due.retakes[0].analysis["semester"] == "上学期"


def test_retake_report_cannot_be_submitted_before_every_retake_student_is_analysed(graded):
    db, _ = graded
    with pytest.raises(grades.ReportError, match="还有 1 名重修学生没有重修分析"):
        grades.submit(db, user_named(db, "counselor1"), today())


def test_retake_report_is_due_until_submitted(graded):
    db, student = graded
    counselor = user_named(db, "counselor1")
    record(db, "counselor1", "retake_analysis",
           {"student_id": student.id, "causes": "基础薄弱", "measures": "课后答疑"})  # fmt: skip
    assert grades.report_due(db, counselor, today()) is not None
    grades.submit(db, counselor, today())
    db.flush()
    assert grades.report_due(db, counselor, today()) is None
    with pytest.raises(grades.ReportError, match="已经提交"):
        grades.submit(db, counselor, today())


def test_retake_report_overdue_after_one_month(rollback):
    db = rollback
    counselor = user_named(db, "counselor1")
    set_term(db, today() - timedelta(days=30))
    assert not grades.report_due(db, counselor, today()).overdue(today())
    set_term(db, today() - timedelta(days=31))
    assert grades.report_due(db, counselor, today()).overdue(today())


def test_a_class_teacher_has_no_retake_report(graded):
    db, _ = graded
    assert grades.report_due(db, user_named(db, "teacher1"), today()) is None


def test_the_report_workbook_lists_statistics_retakes_causes_and_measures(graded):
    db, student = graded
    record(db, "counselor1", "retake_analysis",
           {"student_id": student.id, "causes": "=基础薄弱", "measures": "课后答疑"})  # fmt: skip
    book = openpyxl.load_workbook(
        io.BytesIO(grades.workbook(grades.report(db, user_named(db, "counselor1"), today())))
    )
    assert book.sheetnames == ["成绩统计", "重修学生"]
    rows = list(book["重修学生"].values)
    assert rows[1][1:] == (student.student_number, student.name, "高等数学", "=基础薄弱", "课后答疑")
    assert any(r[1] == "高等数学" and r[4] == 1 for r in book["成绩统计"].values)


def test_the_grades_page_the_due_list_and_the_leaders_list(login, sessionmaker):
    with sessionmaker() as db:
        set_term(db, today() - timedelta(days=40))
        student = db.scalars(select(Student).where(Student.class_id == teacher1_class(db).id)).first()
        db.add(CourseResult(student_id=student.id, semester="上学期", course="高等数学",
                            score="不及格", points=None, failed=True, retake=True))  # fmt: skip
        db.commit()
    try:
        client = login("counselor1")
        page = client.get("/grades")
        assert page.status_code == 200
        assert f'data-retake="{student.id}" data-analysed="no"' in page.text
        assert 'data-report-status="overdue"' in page.text
        due = client.get("/due").text
        assert "data-retake-report-due" in due and f'data-retake-due="{student.id}"' in due
        refused = client.post("/grades/report/submit", data={"_csrf_token": form_csrf(page.text)})
        assert refused.status_code == 409 and "没有重修分析" in refused.text
        assert client.get("/grades/report.xlsx").headers["content-type"].startswith(
            "application/vnd.openxmlformats"
        )
        leader = login("leader1").get("/department/retake-reports").text
        assert 'data-status="overdue"' in leader
    finally:
        with sessionmaker() as db:
            db.execute(delete(CourseResult).where(CourseResult.semester == "上学期"))
            db.execute(delete(RetakeReport))
            db.execute(delete(Semester))
            db.commit()


# --- first lessons of the professional-foundation courses (§2.6.1) ----------------------------


@pytest.fixture
def timetabled(rollback):
    """Week 1 was last week: a foundation course of teacher1's class had its first lesson
    last Monday, another has its first lesson in week 3; a course that is not one, too."""
    db = rollback
    monday = clock.monday_of(today())
    set_term(db, monday - timedelta(days=7))
    taught = db.scalars(
        select(ClassCourse).where(ClassCourse.class_id == teacher1_class(db).id)
        .order_by(ClassCourse.id)
    ).all()[:3]  # fmt: skip
    for n, t in enumerate(taught):
        db.get(Course, t.course_id).professional_foundation = n < 2
    db.add_all([
        TimetableSlot(class_course_id=taught[0].id, semester="本学期", weekday=3, periods="3-4",
                      first_week=1, last_week=16),
        TimetableSlot(class_course_id=taught[0].id, semester="本学期", weekday=1, periods="1-2",
                      first_week=1, last_week=16),
        TimetableSlot(class_course_id=taught[1].id, semester="本学期", weekday=2, periods="1-2",
                      first_week=3, last_week=16),
        TimetableSlot(class_course_id=taught[2].id, semester="本学期", weekday=1, periods="5-6",
                      first_week=1, last_week=16),
        TimetableSlot(class_course_id=taught[1].id, semester="上学期", weekday=1, periods="1-2",
                      first_week=1, last_week=16),
    ])  # fmt: skip
    db.flush()
    return db, taught, monday


def test_first_lesson_of_a_foundation_course_is_due_for_counselor_and_class_teacher(timetabled):
    db, taught, monday = timetabled
    for who in ("teacher1", "counselor1"):
        due = first_lessons.due_for(db, user_named(db, who), today())
        assert [(f.taught.id, f.day, f.periods) for f in due] == [
            (taught[0].id, monday - timedelta(days=7), "1-2"),
            (taught[1].id, monday + timedelta(days=8), "1-2"),
        ]
        assert first_lessons.due_count(db, user_named(db, who), today()) == 2


def test_first_lesson_cleared_by_observation(timetabled):
    db, taught, _ = timetabled
    record(db, "teacher1", "lecture_observation", {
        "class_course_id": taught[0].id, "date": (today() - timedelta(days=6)).isoformat(),
        "period": "1-2", "first_lesson": True, "notes": "",
    })  # fmt: skip
    due = first_lessons.due_for(db, user_named(db, "counselor1"), today())
    assert [f.taught.id for f in due] == [taught[1].id]  # cleared for both of them
    # the home page's count is the list's
    for who in ("teacher1", "counselor1"):
        assert first_lessons.due_count(db, user_named(db, who), today()) == 1


def test_an_observation_not_ticked_as_first_lesson_does_not_clear_it(timetabled):
    db, taught, _ = timetabled
    record(db, "teacher1", "lecture_observation", {
        "class_course_id": taught[0].id, "date": today().isoformat(), "period": "1-2",
        "first_lesson": False, "notes": "",
    })  # fmt: skip
    assert taught[0].id in {f.taught.id for f in first_lessons.due_for(db, user_named(db, "teacher1"), today())}


def test_a_missed_first_lesson_shows_on_the_leaders_list(timetabled):
    db, taught, _ = timetabled
    missed = first_lessons.missed_in(db, user_named(db, "leader1").department_id, today())
    assert [f.taught.id for f in missed] == [taught[0].id]  # the week-3 lesson is not missed yet


def test_the_leaders_first_lesson_page_counts_the_missed(login, sessionmaker):
    with sessionmaker() as db:
        set_term(db, clock.monday_of(today()) - timedelta(days=7))
        school_class = teacher1_class(db)
        seen = first_lessons.observed(db, [school_class.id], semesters.term_of(db, today()))
        taught = next(
            t for t in db.scalars(select(ClassCourse).where(ClassCourse.class_id == school_class.id))
            if (t.class_id, t.course_id) not in seen
        )
        db.get(Course, taught.course_id).professional_foundation = True
        db.add(TimetableSlot(class_course_id=taught.id, semester="本学期", weekday=1, periods="1-2",
                             first_week=1, last_week=16))  # fmt: skip
        db.commit()
    try:
        page = login("leader1").get("/department/first-lessons").text
        assert 'data-count="1" data-missed-first-lessons' in page
        assert f'data-first-lesson="{taught.id}"' in page
        assert f'data-first-lesson-due="{taught.id}"' in login("teacher1").get("/due").text
    finally:
        with sessionmaker() as db:
            db.execute(delete(TimetableSlot).where(TimetableSlot.semester == "本学期"))
            db.execute(delete(Semester))
            db.commit()


# --- the semester work plan and summary (§1.3) --------------------------------------------------


def test_semester_plan_due_in_first_two_weeks(rollback):
    db = rollback
    teacher = user_named(db, "teacher1")
    set_term(db, today() - timedelta(days=3))
    (plan,) = semester_plans.due_for(db, teacher, today())
    assert plan.what == "semester_plan" and not plan.overdue(today())
    set_term(db, today() - timedelta(days=14))
    (plan,) = semester_plans.due_for(db, teacher, today())
    assert plan.overdue(today())


def test_a_semester_plan_written_clears_it(rollback):
    db = rollback
    set_term(db, today() - timedelta(days=3))
    record(db, "teacher1", "plan", {"plan_type": "semester_plan", "period": "本学期", "text": "计划"})
    assert semester_plans.due_for(db, user_named(db, "teacher1"), today()) == []
    # a weekly plan is not the semester's plan
    record(db, "counselor1", "plan", {"plan_type": "weekly_plan", "period": "第1周", "text": "周计划"})
    assert [d.what for d in semester_plans.due_for(db, user_named(db, "counselor1"), today())] == [
        "semester_plan"
    ]


def test_semester_summary_due_in_the_last_two_weeks(rollback):
    db = rollback
    teacher = user_named(db, "teacher1")
    record(db, "teacher1", "plan", {"plan_type": "semester_plan", "period": "本学期", "text": "计划"})
    set_term(db, today() - timedelta(days=120), today() + timedelta(days=14))
    assert semester_plans.due_for(db, teacher, today()) == []
    set_term(db, today() - timedelta(days=120), today() + timedelta(days=13))
    assert [d.what for d in semester_plans.due_for(db, teacher, today())] == ["semester_summary"]


def test_a_leader_sees_who_has_not_submitted_the_plan(login, sessionmaker):
    with sessionmaker() as db:
        set_term(db, today() - timedelta(days=20))
        dept = user_named(db, "leader1").department_id
        # other tests of the suite may have written someone's plan: the list is the rule's
        expected = semester_plans.not_submitted(db, dept, today())
        assert all(d.what == "semester_plan" and d.overdue(today()) for d in expected)
        teacher1_missing = any(d.staff.username == "teacher1" for d in expected)
        db.commit()
    try:
        page = login("leader1").get("/department/plans").text
        assert f'data-count="{len(expected)}" data-plans-missing' in page
        assert page.count("已逾期") == len(expected)
        due = login("teacher1").get("/due").text
        assert ('data-plan-due="semester_plan"' in due) == teacher1_missing
    finally:
        with sessionmaker() as db:
            db.execute(delete(Semester))
            db.commit()
