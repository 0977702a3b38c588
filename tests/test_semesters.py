"""The semester calendar replaces the 1 February / 1 August guess wherever a semester is used."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server import clock, semesters
from server.clock import today
from server.models import SchoolClass, Semester
from tests.conftest import form_csrf, user_named


@pytest.fixture
def this_semester(db):
    """A recorded semester around today, begun 10 days ago, with a holiday the day after tomorrow."""
    first = today() - timedelta(days=10)
    holiday = today() + timedelta(days=2)
    row = semesters.save(
        db, None, name="测试学期", first=first.isoformat(),
        last=(first + timedelta(days=150)).isoformat(), holidays=f"{holiday.isoformat()} 校庆",
    )  # fmt: skip
    db.commit()
    yield row
    db.delete(row)
    db.commit()


def test_without_a_calendar_the_semester_starts_on_1_february_or_1_august(db):
    term = semesters.term_of(db, date(2031, 11, 3))
    assert (term.first, term.last, term.recorded) == (date(2031, 8, 1), date(2032, 1, 31), False)
    assert term.name == "2031-2032学年第一学期"
    assert semesters.term_of(db, date(2032, 3, 1)).name == "2031-2032学年第二学期"


def test_a_recorded_semester_decides_the_first_and_last_day(db, this_semester):
    term = semesters.term_of(db, today())
    assert term.recorded and term.name == "测试学期"
    assert term.first == today() - timedelta(days=10)
    assert today() + timedelta(days=2) in term.holidays


@pytest.mark.parametrize(
    ("first", "last", "holidays", "message"),
    [
        ("2031-09-01", "2031-08-01", "", "最后一天不能早于第一天"),
        ("2031-09-01", "2032-09-01", "", "一个学期最长"),
        ("2031-09-01", "2032-01-15", "2032-02-01 春节", "不在这个学期之内"),
        ("2031-09-01", "2032-01-15", "十月一日", "日期格式不正确"),
        ("0001-01-01", "0001-03-01", "", "年份不正确"),
        ("9999-12-01", "9999-12-31", "", "年份不正确"),
        ("2031-9-1", "2032-01-15", "", "日期格式不正确"),
    ],
)
def test_a_semester_with_wrong_dates_is_refused(db, first, last, holidays, message):
    with pytest.raises(semesters.SemesterError, match=message):
        semesters.save(db, None, name="错误学期", first=first, last=last, holidays=holidays)
    db.rollback()


def test_two_semesters_may_not_overlap(db, this_semester):
    with pytest.raises(semesters.SemesterError, match="日期重叠"):
        semesters.save(
            db, None, name="另一个学期", first=this_semester.last_day.isoformat(),
            last=(this_semester.last_day + timedelta(days=30)).isoformat(), holidays="",
        )  # fmt: skip
    db.rollback()


def test_a_holiday_range_is_every_day_of_it(db):
    days = semesters.parse_holidays("2031-10-01~2031-10-07 国庆节\n2031-09-10 教师节")
    assert len(days) == 8 and days[date(2031, 10, 4)] == "国庆节"


def test_the_office_sets_a_semester_and_a_counselor_may_not(client, db, login):
    login("counselor1")
    assert client.get("/admin/semesters").status_code == 403
    client.cookies.clear()
    page = login("office1").get("/admin/semesters")
    assert page.status_code == 200 and "尚未设置" in page.text
    bad = client.post(
        "/admin/semesters/save",
        data={"_csrf_token": form_csrf(page.text), "name": "2031春", "first_day": "2031-03-01",
              "last_day": "2031-02-01", "holidays": ""},
    )  # fmt: skip
    assert bad.status_code == 422 and "最后一天不能早于第一天" in bad.text
    assert db.query(Semester).count() == 0
    saved = client.post(
        "/admin/semesters/save",
        data={"_csrf_token": form_csrf(page.text), "name": "2031春", "first_day": "2031-02-20",
              "last_day": "2031-07-10", "holidays": "2031-05-01~2031-05-05 劳动节"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    try:
        listed = client.get("/admin/semesters")
        assert "2031春" in listed.text and "假日 5 天" in listed.text
    finally:
        db.query(Semester).delete()
        db.commit()


def test_attendance_history_counts_from_the_recorded_first_day(login, db, this_semester):
    school_class = db.query(SchoolClass).filter_by(
        class_teacher_id=user_named(db, "teacher1").id
    ).first()
    page = login("teacher1").get(f"/classes/{school_class.id}/attendance")
    assert f"自 {this_semester.first_day.isoformat()} 起" in page.text


def test_the_work_log_exports_the_recorded_semester(login, this_semester):
    page = login("counselor1").get("/log")
    assert f"start={this_semester.first_day.isoformat()}" in page.text
    assert f"end={this_semester.last_day.isoformat()}" in page.text


def test_the_roster_builder_starts_with_the_calendars_holidays(login, db):
    monday = clock.monday_of(today()) + timedelta(days=7)
    row = semesters.save(
        db, None, name="排班测试学期", first=(monday - timedelta(days=20)).isoformat(),
        last=(monday + timedelta(days=60)).isoformat(),
        holidays=f"{(monday + timedelta(days=2)).isoformat()} 运动会",
    )  # fmt: skip
    db.commit()
    try:
        page = login("leader1").get("/duty/roster")
        assert (monday + timedelta(days=2)).isoformat() in page.text
    finally:
        db.delete(row)
        db.commit()
