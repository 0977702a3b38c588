"""The 综合测评 sheet of the import (§1.6): 学号, 学年, 分数, 等级, by 学号 + 学年."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.college_import import import_workbook
from server.models import QualityAssessment
from tests.test_import_fixtures import college, xlsx

pytest_plugins = ["tests.test_import_fixtures"]

ASSESSED = [
    ["学号", "学年", "分数", "等级"],
    ["2024010101", "2025-2026", "88.5", "良好"],
    ["2024010103", "２０２５—２０２６学年", "95", "优秀"],
]


def run(db, sheets):
    return import_workbook(db, xlsx(sheets), "学院.xlsx")


def kept(db) -> dict:
    return {
        (r.student.student_number, r.school_year): (r.score, r.level)
        for r in db.scalars(select(QualityAssessment))
    }


def test_quality_assessment_sheet_brings_the_class_committees_results(empty):
    assert run(empty, college()).applied
    result = run(empty, {"综合测评": ASSESSED})
    assert result.applied and result.preview.errors == []
    assert kept(empty) == {
        ("2024010101", "2025-2026"): (88.5, "良好"),
        ("2024010103", "2025-2026"): (95.0, "优秀"),
    }


def test_quality_assessment_imported_twice_changes_nothing_and_a_changed_score_is_updated(empty):
    run(empty, college())
    run(empty, {"综合测评": ASSESSED})
    again = run(empty, {"综合测评": ASSESSED})
    assert [(s.new, s.changed, s.unchanged) for s in again.preview.sheets] == [(0, 0, 2)]
    changed = run(empty, {"综合测评": [ASSESSED[0], ["2024010101", "2025-2026", "70", "合格"]]})
    assert changed.applied
    assert kept(empty)[("2024010101", "2025-2026")] == (70.0, "合格")


@pytest.mark.parametrize(
    "row, column, words",
    [
        (["2099999999", "2025-2026", "80", "良好"], "学号", "2099999999"),
        (["2024010101", "2025-2027", "80", "良好"], "学年", "相邻"),
        (["2024010101", "去年", "80", "良好"], "学年", "无法识别"),
        (["2024010101", "2025-2026", "101", "良好"], "分数", "0–100"),
        (["2024010101", "2025-2026", "很好", "良好"], "分数", "无法识别"),
        (["2024010101", "2025-2026", "80", "中上"], "等级", ""),
    ],
)
def test_a_bad_quality_assessment_row_is_reported_and_nothing_is_applied(empty, row, column, words):
    run(empty, college())
    result = run(empty, {"综合测评": [ASSESSED[0], ASSESSED[2], row]})
    assert not result.applied
    assert [e.column for e in result.preview.errors] == [column]
    assert words in result.preview.errors[0].message
    assert kept(empty) == {}
