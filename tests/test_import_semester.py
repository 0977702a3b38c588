"""The semester's sheets of the import: 成绩 (last semester's results, §1.7) and 课表 (the
timetable, §2.6.1) — applied by natural key, every bad row reported, nothing applied then."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import clock, semesters
from server.college_import import import_workbook
from server.college_import.semester_sheets import last_semester_name
from server.models import CourseResult, TimetableSlot
from tests.test_import_fixtures import college, snapshot, xlsx

pytest_plugins = ["tests.test_import_fixtures"]

RESULTS = [
    ["学号", "课程名称", "成绩", "是否重修"],
    ["2024010101", "高等数学", "52", "是"],
    ["2024010101", "大学英语", "88.5", ""],
    ["2024010103", "高等数学", "良好", "否"],
]
TIMETABLE = [
    ["班级名称", "课程名称", "星期", "节次", "起止周"],
    ["2024级软件1班", "高等数学", "周一", "1-2", "1-16"],
    ["2024级软件1班", "高等数学", "3", "3-4", "2-16周"],
    ["2024级网络1班", "高等数学", "五", "1-2", "1-8"],
]


def run(db, sheets):
    return import_workbook(db, xlsx(sheets), "学院.xlsx")


def results(db) -> dict:
    return {
        (r.student.student_number, r.course): (r.semester, r.score, r.points, r.failed, r.retake)
        for r in db.scalars(select(CourseResult))
    }


def test_grades_sheet_brings_last_semesters_results(empty):
    assert run(empty, college()).applied
    result = run(empty, {"成绩": RESULTS})
    assert result.applied and result.preview.errors == []
    last = last_semester_name(empty, clock.today())
    assert results(empty) == {
        ("2024010101", "高等数学"): (last, "52", 52.0, True, True),
        ("2024010101", "大学英语"): (last, "88.5", 88.5, False, False),
        ("2024010103", "高等数学"): (last, "良好", None, False, False),
    }


def test_grades_imported_twice_change_nothing_and_a_changed_score_is_updated(empty):
    run(empty, college())
    run(empty, {"成绩": RESULTS})
    again = run(empty, {"成绩": RESULTS})
    assert [(s.new, s.changed, s.unchanged) for s in again.preview.sheets] == [(0, 0, 3)]
    changed = [RESULTS[0], ["2024010101", "高等数学", "61", "是"]]
    result = run(empty, {"成绩": changed})
    assert result.preview.sheets[0].changes[0]["fields"] == [["成绩", "52", "61"]]
    assert results(empty)[("2024010101", "高等数学")][1:4] == ("61", 61.0, False)


def test_grades_of_a_named_semester_are_kept_apart(empty):
    run(empty, college())
    rows = [RESULTS[0] + ["学期"], ["2024010101", "高等数学", "70", "否", "2024-2025学年第一学期"]]
    assert run(empty, {"成绩": rows}).applied
    assert results(empty)[("2024010101", "高等数学")][0] == "2024-2025学年第一学期"


GRADE_ERRORS = {
    "an unknown student": (["2099000000", "高等数学", "80", ""], "学号", "找不到学号“2099000000”"),
    "a score that is not one": (["2024010102", "高等数学", "很好", ""], "成绩", "成绩“很好”无法识别"),
    "a score above 100": (["2024010102", "高等数学", "101", ""], "成绩", "成绩“101”无法识别"),
    "a retake that is not 是 or 否": (["2024010102", "高等数学", "80", "对"], "是否重修", "可填：是 / 否"),
    "an empty score": (["2024010102", "高等数学", "", ""], "成绩", "不能为空"),
    "a course twice for one student": (["2024010101", "高等数学", "60", ""], "学号 + 学期 + 课程名称", "与第 2 行重复"),
}  # fmt: skip


@pytest.mark.parametrize("case", GRADE_ERRORS, ids=list(GRADE_ERRORS))
def test_a_bad_grade_row_is_reported_and_nothing_is_applied(empty, case):
    run(empty, college())
    row, column, message = GRADE_ERRORS[case]
    before = snapshot(empty)
    result = run(empty, {"成绩": [*RESULTS, row]})
    assert not result.applied
    assert [(e.sheet, e.row, e.column) for e in result.preview.errors] == [("成绩", 5, column)]
    assert message in result.preview.errors[0].message
    assert snapshot(empty) == before and results(empty) == {}


def test_timetable_sheet_brings_this_semesters_lessons(empty):
    result = run(empty, {**college(), "课表": TIMETABLE})
    assert result.applied and result.preview.errors == []
    term = semesters.term_of(empty, clock.today()).name
    slots = {
        (s.class_course.course.name, s.weekday, s.periods, s.first_week, s.last_week, s.semester)
        for s in empty.scalars(select(TimetableSlot))
    }
    assert slots == {
        ("高等数学", 1, "1-2", 1, 16, term), ("高等数学", 3, "3-4", 2, 16, term),
        ("高等数学", 5, "1-2", 1, 8, term),
    }  # fmt: skip
    again = run(empty, {"课表": TIMETABLE})
    assert [(s.new, s.changed, s.unchanged) for s in again.preview.sheets] == [(0, 0, 3)]


TIMETABLE_ERRORS = {
    "a weekday that is not one": (["2024级软件1班", "大学英语", "八", "1-2", "1-16"], "星期", "星期“八”无法识别"),
    "weeks that are not weeks": (["2024级软件1班", "大学英语", "2", "1-2", "16-1"], "起止周", "起止周“16-1”无法识别"),
    "a course the class does not have": (["2024级网络1班", "大学英语", "2", "1-2", "1-16"], "课程名称", "没有课程“大学英语”"),
    "an unknown class": (["2099级某班", "大学英语", "2", "1-2", "1-16"], "班级名称", "没有名为“2099级某班”的班级"),
    "one lesson twice": (["2024级软件1班", "高等数学", "1", "1-2", "1-8"], "班级 + 课程 + 学期 + 星期 + 节次", "与第 2 行重复"),
}  # fmt: skip


@pytest.mark.parametrize("case", TIMETABLE_ERRORS, ids=list(TIMETABLE_ERRORS))
def test_a_bad_timetable_row_is_reported_and_nothing_is_applied(empty, case):
    run(empty, college())
    row, column, message = TIMETABLE_ERRORS[case]
    before = snapshot(empty)
    result = run(empty, {"课表": [*TIMETABLE, row]})
    assert not result.applied
    assert [(e.sheet, e.row, e.column) for e in result.preview.errors] == [("课表", 5, column)]
    assert message in result.preview.errors[0].message
    assert snapshot(empty) == before
    assert empty.scalar(select(TimetableSlot.id)) is None
