"""Excel exports never break on stored text (issue 9, point 6): a formula typed as a comment
is written as text, and characters a worksheet cannot hold are dropped instead of failing
the export. Both exports (work log, duty roster) write through server/xlsx.py."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from server.models import Building, DutyShift, Entry, WeekReview
from tests.conftest import user_named
from tests.test_worklog import record_visit, review, shanghai

FORMULA = '=HYPERLINK("http://x","y")'


def exported_log(client, staff_id: int, start: str, end: str):
    response = client.get("/log.xlsx", params={"staff": staff_id, "start": start, "end": end})
    assert response.status_code == 200, response.text[:300]
    return load_workbook(BytesIO(response.content))


def test_a_review_comment_that_looks_like_a_formula_exports_as_text(login, db):
    counselor = user_named(db, "counselor1")
    leader = login("leader1")
    assert review(leader, counselor.id, "2025-09-01", FORMULA).status_code == 303

    checks = exported_log(leader, counselor.id, "2025-09-01", "2025-09-07")["检查"]
    cell = next(c for c in checks["D"] if c.value == FORMULA)
    assert cell.data_type == "s"  # a formula would load as data_type "f"
    assert cell.quotePrefix  # and stays text when edited in Excel


def test_a_note_with_a_vertical_tab_exports_without_it(login, db):
    counselor = user_named(db, "counselor1")
    entry_id = record_visit(db, "counselor1", shanghai(2025, 9, 9, 21, 0))
    entry = db.get(Entry, entry_id)  # stored before forms dropped control characters
    entry.payload = {**entry.payload, "talk_notes": "宿舍\x0b整洁，注意\x1b安全"}
    db.add(
        WeekReview(
            staff_id=counselor.id, week_start=datetime(2025, 9, 8).date(),
            reviewer_id=user_named(db, "leader1").id, comment="复查\x0b通过",
            reviewed_at=datetime(2025, 9, 12, tzinfo=UTC),
        )
    )  # fmt: skip
    db.commit()

    book = exported_log(login("counselor1"), counselor.id, "2025-09-08", "2025-09-14")
    summaries = [c.value for c in book["工作记录"]["D"]]
    assert any(s and "宿舍整洁，注意安全" in s for s in summaries), summaries
    assert "复查通过" in [c.value for c in book["检查"]["D"]]


def test_the_duty_roster_exports_stored_names_as_text(login, db):
    leader = user_named(db, "leader1")
    shift = db.scalar(
        select(DutyShift).where(DutyShift.department_id == leader.department_id).limit(1)
    )
    assert shift is not None, "the demo data has no duty shift in leader1's department"
    building = db.get(Building, shift.building_id)
    name = building.name
    building.name = "=1+1\x0b楼"
    db.commit()
    try:
        day = shift.date.isoformat()
        response = login("leader1").get("/duty/roster.xlsx", params={"start": day, "end": day})
        assert response.status_code == 200, response.text[:300]
        sheet = load_workbook(BytesIO(response.content))["值班表"]
        cells = [c for row in sheet.iter_rows(min_row=3) for c in row if isinstance(c.value, str)]
        assert any("=1+1楼" in c.value for c in cells)
        assert all(c.data_type == "s" for c in cells)
    finally:
        building.name = name
        db.commit()


def test_text_starting_like_a_formula_is_quoted_and_plain_text_is_not():
    from server import xlsx

    sheet = Workbook().active
    xlsx.append(sheet, ["+86 138", "-3", "@SUM(A1)", "#N/A", "普通文字", 3, None])
    cells = list(sheet[1])
    assert [c.data_type for c in cells[:5]] == ["s"] * 5
    assert [bool(c.quotePrefix) for c in cells[:5]] == [True, True, True, False, False]
    assert cells[5].value == 3 and cells[5].data_type == "n"
