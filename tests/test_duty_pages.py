"""值班 pages: reading the roster, building it, swapping shifts, printing it (guideline §2.4)."""

import re
from datetime import date, time, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, or_, select

from server import duty
from server.clock import today
from server.models import (
    Building,
    Department,
    DutyShift,
    DutyWindow,
    Slot,
    SwapRequest,
    SwapStatus,
)
from tests.conftest import form_csrf, user_named

FUTURE = date(2031, 3, 3)  # a Monday far from the demo week: these tests own it
WEEK = [FUTURE + timedelta(days=n) for n in range(7)]


@pytest.fixture
def future(db):
    """Shifts and swap requests made on and after FUTURE are removed after the test."""
    yield
    mine = select(DutyShift.id).where(DutyShift.date >= FUTURE)
    db.execute(
        delete(SwapRequest).where(
            or_(SwapRequest.shift_id.in_(mine), SwapRequest.colleague_shift_id.in_(mine))
        )
    )
    db.execute(delete(DutyShift).where(DutyShift.date >= FUTURE))
    db.commit()


def buildings(db) -> list[int]:
    return list(db.scalars(select(Building.id).order_by(Building.id).limit(2)))


def put_on_duty(db, username, day, slot=Slot.evening, building=None) -> DutyShift:
    person = user_named(db, username)
    shift = DutyShift(
        date=day,
        slot=slot,
        department_id=person.department_id,
        building_id=building or buildings(db)[0],
        staff_id=person.id,
    )
    db.add(shift)
    db.commit()
    return shift


def future_shifts(db) -> int:
    return db.scalar(select(func.count()).select_from(DutyShift).where(DutyShift.date >= FUTURE))


# ---------------------------------------------------------------- reading


def test_a_counselor_sees_their_own_shifts_first_then_today_then_the_week(login, db):
    page = login("counselor1").get("/duty")
    assert page.status_code == 200
    text = page.text
    assert text.index("我的值班") < text.index("今日值班") < text.index("起的一周")
    mine = db.scalars(
        select(DutyShift).where(
            DutyShift.staff_id == user_named(db, "counselor1").id, DutyShift.date == today()
        )
    ).all()
    assert mine, "the demo puts counselor1 on duty today"
    assert mine[0].building.name in text[: text.index("今日值班")]
    assert user_named(db, "counselor1").name in text[text.index("今日值班") :]
    assert "周一" in text and "周日" in text


def test_the_roster_is_cached_by_prepare_for_rounds(login):
    items = login("teacher1").get("/rounds/plan").json()["items"]
    assert {"kind": "page", "url": "/duty", "title": "值班表"} in items


def test_the_home_page_shows_the_rounds_expected_on_a_duty_day(login):
    page = login("counselor1").get("/").text
    assert "06:30–08:30" in page and "21:00–23:30" in page
    assert re.search(r"round-status\">(已完成|未巡查|进行中|未开始)<", page)


def test_leaders_see_missed_rounds_of_the_last_week(login, db, future):
    page = login("leader1").get("/duty/missed")
    assert page.status_code == 200
    assert "漏巡记录" in page.text


# ---------------------------------------------------------------- building a roster


def roster_form(client, **fields) -> dict:
    page = client.get("/duty/roster")
    assert page.status_code == 200
    return {"_csrf_token": form_csrf(page.text), **fields}


def grid_of(html: str) -> dict[str, str]:
    """The builder's grid as posted: each cell's field name → the selected staff id."""
    cells = {}
    for name, options in re.findall(r'<select name="(cell:[^"]+)">(.*?)</select>', html, re.S):
        chosen = re.search(r'value="(\d*)" selected', options)
        cells[name] = chosen.group(1) if chosen else ""
    return cells


def test_a_leader_generates_edits_checks_and_saves_a_week(login, db, future):
    client = login("leader1")
    staff = [u.id for u in duty.department_staff(db, user_named(db, "leader1").department_id)]
    settings = roster_form(
        client,
        start=WEEK[0].isoformat(),
        end=WEEK[-1].isoformat(),
        staff=[str(s) for s in staff],
        buildings=[str(b) for b in buildings(db)],
        slots=["morning", "evening"],
        holidays="2031-03-08，2031-03-09",
    )
    draft = client.post("/duty/roster/draft", data={**settings, "action": "generate"})
    assert draft.status_code == 200, draft.text
    assert "没有发现问题" in draft.text
    cells = grid_of(draft.text)
    assert len(cells) == 5 * 2 * 2  # weekdays × rounds × buildings; the weekend is a holiday
    assert all(cells.values())
    assert "节假日，不排班" in draft.text

    # a manual edit: Monday evening's first building goes to whoever has the second one
    first, second = (f"cell:2031-03-03:evening:{b}" for b in buildings(db))
    edited = {**cells, first: cells[second]}
    check = client.post("/duty/roster/check", data={**settings, **edited})
    assert "同时排了两个值班" in check.text
    refused = client.post("/duty/roster/save", data={**settings, **edited})
    assert refused.status_code == 422 and "未保存" in refused.text
    assert future_shifts(db) == 0

    saved = client.post(
        "/duty/roster/save", data={**settings, **cells, first: ""}, follow_redirects=False
    )
    assert saved.status_code == 422  # a building without anyone is a problem too
    saved = client.post("/duty/roster/save", data={**settings, **cells}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/duty?week=2031-03-03"
    assert future_shifts(db) == 20
    week = client.get(saved.headers["location"]).text
    monday_evening = db.scalar(
        select(DutyShift).where(
            DutyShift.date == WEEK[0],
            DutyShift.slot == Slot.evening,
            DutyShift.building_id == buildings(db)[0],
        )
    )
    assert monday_evening.staff_id == int(cells[first])
    assert monday_evening.staff.name in week

    # saving again replaces the period's shifts, it does not add to them; holidays stay empty
    holiday_cell = {f"cell:2031-03-08:evening:{buildings(db)[0]}": cells[first]}
    client.post("/duty/roster/save", data={**settings, **cells, **holiday_cell})
    assert future_shifts(db) == 20


def test_loading_the_saved_roster_fills_the_grid(login, db, future):
    shift = put_on_duty(db, "teacher1", WEEK[1])
    client = login("leader1")
    settings = roster_form(
        client,
        start=WEEK[0].isoformat(),
        end=WEEK[-1].isoformat(),
        buildings=[str(shift.building_id)],
        slots=["evening"],
    )
    page = client.post("/duty/roster/draft", data={**settings, "action": "load"})
    assert grid_of(page.text)[f"cell:2031-03-04:evening:{shift.building_id}"] == str(shift.staff_id)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(start="2031-03-09", end="2031-03-03"), "结束日期不能早于开始日期"),
        (dict(start="2031-03-03", end="2031-07-01"), "最多排 92 天"),
        (dict(start="下周一"), "无法识别的日期"),
        (dict(staff=["999999"]), "不属于本系部"),
        (dict(holidays="国庆"), "无法识别的日期"),
    ],
)
def test_bad_roster_input_is_refused_in_chinese_and_saves_nothing(
    login, db, future, change, message
):
    client = login("leader1")
    building = str(buildings(db)[0])
    counselor = str(user_named(db, "counselor1").id)
    settings = roster_form(
        client,
        start="2031-03-03",
        end="2031-03-03",
        staff=[counselor],
        buildings=[building],
        slots=["evening"],
    )
    cells = {f"cell:2031-03-03:evening:{building}": counselor}
    for url in ("/duty/roster/draft", "/duty/roster/save"):
        response = client.post(url, data={**settings, **cells, **change})
        assert response.status_code == 422
        assert message in response.text
    assert future_shifts(db) == 0


def test_a_cell_naming_someone_outside_the_department_saves_nothing(login, db, future):
    client = login("leader1")
    building = str(buildings(db)[0])
    settings = roster_form(
        client, start="2031-03-03", end="2031-03-03", buildings=[building], slots=["evening"]
    )
    office = str(user_named(db, "office1").id)
    response = client.post(
        "/duty/roster/save", data={**settings, f"cell:2031-03-03:evening:{building}": office}
    )
    assert response.status_code == 422 and "不属于本系部" in response.text
    assert future_shifts(db) == 0


def test_a_counselor_cannot_save_a_roster(login, db, future):
    client = login("counselor1")
    token = form_csrf(client.get("/duty").text)
    response = client.post(
        "/duty/roster/save", data={"_csrf_token": token, "start": "2031-03-03", "end": "2031-03-03"}
    )
    assert response.status_code == 403
    assert future_shifts(db) == 0


# ---------------------------------------------------------------- swap requests


def ask(client, shift, **fields):
    page = client.get(f"/duty/shifts/{shift.id}/swap")
    assert page.status_code == 200
    return client.post(
        "/duty/swaps",
        data={"_csrf_token": form_csrf(page.text), "shift_id": str(shift.id), **fields},
        follow_redirects=False,
    )


def reply(client, swap_id, field, value):
    token = form_csrf(client.get("/duty").text)
    action = "answer" if field == "answer" else "decide"
    return client.post(
        f"/duty/swaps/{swap_id}/{action}",
        data={"_csrf_token": token, field: value},
        follow_redirects=False,
    )


def latest_swap(db) -> SwapRequest:
    db.expire_all()
    return db.scalar(select(SwapRequest).order_by(SwapRequest.id.desc()).limit(1))


def test_a_swap_goes_through_colleague_and_leader_with_refusal_and_rejection(login, db, future):
    mine = put_on_duty(db, "counselor1", WEEK[0])
    theirs = put_on_duty(db, "teacher1", WEEK[2])
    counselor, teacher = user_named(db, "counselor1"), user_named(db, "teacher1")

    # 1. asked, and refused by the colleague
    assert ask(login("counselor1"), mine, colleague_shift_id=str(theirs.id)).status_code == 303
    swap = latest_swap(db)
    assert (swap.status, swap.colleague_id) == (SwapStatus.requested, teacher.id)
    assert "待同事确认" in login("teacher1").get("/duty").text
    assert reply(login("teacher1"), swap.id, "answer", "refuse").status_code == 303
    assert latest_swap(db).status == SwapStatus.refused
    assert "同事已拒绝" in login("counselor1").get("/duty").text
    assert reply(login("leader1"), swap.id, "decision", "approve").status_code == 422

    # 2. asked again, accepted, and rejected by the leader
    ask(login("counselor1"), mine, colleague_shift_id=str(theirs.id))
    swap = latest_swap(db)
    assert reply(login("teacher1"), swap.id, "answer", "accept").status_code == 303
    assert "待负责人审批" in login("leader1").get("/duty").text
    assert reply(login("leader1"), swap.id, "decision", "reject").status_code == 303
    assert latest_swap(db).status == SwapStatus.rejected
    db.refresh(mine), db.refresh(theirs)
    assert (mine.staff_id, theirs.staff_id) == (counselor.id, teacher.id)

    # 3. asked again, accepted, approved: the roster changes
    ask(login("counselor1"), mine, colleague_shift_id=str(theirs.id))
    swap = latest_swap(db)
    reply(login("teacher1"), swap.id, "answer", "accept")
    assert reply(login("leader1"), swap.id, "decision", "approve").status_code == 303
    assert latest_swap(db).status == SwapStatus.approved
    db.refresh(mine), db.refresh(theirs)
    assert (mine.staff_id, theirs.staff_id) == (teacher.id, counselor.id)
    for who in ("counselor1", "teacher1"):
        assert "已批准" in login(who).get("/duty").text


def test_a_colleague_can_take_a_shift_over(login, db, future):
    mine = put_on_duty(db, "counselor1", WEEK[0])
    ask(login("counselor1"), mine, colleague_id=str(user_named(db, "teacher1").id), note="出差")
    swap = latest_swap(db)
    assert swap.colleague_shift_id is None and swap.note == "出差"
    reply(login("teacher1"), swap.id, "answer", "accept")
    reply(login("leader1"), swap.id, "decision", "approve")
    db.refresh(mine)
    assert mine.staff_id == user_named(db, "teacher1").id


def test_a_take_over_that_would_double_book_the_colleague_is_refused(login, db, future):
    mine = put_on_duty(db, "counselor1", WEEK[0], building=buildings(db)[0])
    put_on_duty(db, "teacher1", WEEK[0], building=buildings(db)[1])
    response = ask(login("counselor1"), mine, colleague_id=str(user_named(db, "teacher1").id))
    assert response.status_code == 422
    assert "对方在该时段已有值班" in response.text
    assert latest_swap(db) is None or latest_swap(db).shift_id != mine.id


def test_only_the_right_people_act_on_a_swap(login, db, future):
    mine = put_on_duty(db, "counselor1", WEEK[0])
    assert login("teacher1").get(f"/duty/shifts/{mine.id}/swap").status_code == 403
    ask(login("counselor1"), mine, colleague_id=str(user_named(db, "teacher1").id))
    swap = latest_swap(db)
    assert reply(login("leader1"), swap.id, "answer", "accept").status_code == 403
    reply(login("teacher1"), swap.id, "answer", "accept")
    assert reply(login("teacher1"), swap.id, "decision", "approve").status_code == 403
    assert latest_swap(db).status == SwapStatus.accepted


# ---------------------------------------------------------------- Excel


def test_the_excel_export_has_dates_as_rows_and_rounds_as_columns(login, db, future):
    morning = put_on_duty(db, "counselor1", WEEK[0], slot=Slot.morning)
    evening = put_on_duty(db, "teacher1", WEEK[2], slot=Slot.evening)
    response = login("teacher1").get("/duty/roster.xlsx?start=2031-03-03&end=2031-03-09")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert "值班表" in sheet["A1"].value and "2031年03月03日" in sheet["A1"].value
    assert [c.value for c in sheet[2]] == ["日期", "星期", "早（早间）", "晚（晚间）"]
    assert sheet["A3"].value.date() == WEEK[0] and sheet["B3"].value == "周一"
    assert sheet["C3"].value == f"{morning.staff.name} · {morning.building.name}"
    assert sheet["D5"].value == f"{evening.staff.name} · {evening.building.name}"
    assert sheet["B9"].value == "周日" and sheet.max_row == 9
    assert sheet.column_dimensions["C"].width >= 20


def test_an_excel_export_of_a_backwards_period_is_refused(login):
    response = login("leader1").get("/duty/roster.xlsx?start=2031-03-09&end=2031-03-03")
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.text


def test_a_week_that_is_not_a_date_is_a_chinese_400(login):
    response = login("counselor1").get("/duty?week=下周")
    assert response.status_code == 400
    assert "无法识别的日期" in response.text


# ---------------------------------------------------------------- round windows


@pytest.fixture
def windows_reset(db):
    yield
    db.execute(delete(DutyWindow))
    db.commit()


def test_a_leader_sets_the_departments_round_windows(login, db, windows_reset):
    client = login("leader1")
    page = client.get("/duty/roster")
    assert 'value="21:00"' in page.text and 'value="23:30"' in page.text
    times = dict(morning_starts="06:00", morning_ends="08:00", evening_starts="20:30")
    saved = client.post(
        "/duty/windows",
        data={"_csrf_token": form_csrf(page.text), **times, "evening_ends": "23:00"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    dept = user_named(db, "leader1").department_id
    assert duty.windows_for(db, dept)[Slot.evening] == (time(20, 30), time(23, 0))
    assert 'value="20:30"' in client.get(saved.headers["location"]).text


def test_a_window_across_midnight_is_refused_and_saves_nothing(login, db, windows_reset):
    client = login("leader1")
    token = form_csrf(client.get("/duty/roster").text)
    response = client.post(
        "/duty/windows",
        data={
            "_csrf_token": token,
            "morning_starts": "06:30",
            "morning_ends": "08:30",
            "evening_starts": "22:00",
            "evening_ends": "00:30",
        },
    )
    assert response.status_code == 422 and "不能跨过午夜" in response.text
    assert db.scalar(select(func.count()).select_from(DutyWindow)) == 0


def test_a_leader_cannot_build_another_departments_roster(login, db, future):
    client = login("leader1")
    other = db.scalar(
        select(Department.id).where(Department.id != user_named(db, "leader1").department_id)
    )
    if other is None:  # the small demo college has one department: make a second one
        other_dept = Department(name="测试系")
        db.add(other_dept)
        db.commit()
        other = other_dept.id
    try:
        assert client.get(f"/duty/roster?department={other}").status_code == 403
        token = form_csrf(client.get("/duty/roster").text)
        response = client.post(
            "/duty/roster/save",
            data={"_csrf_token": token, "department_id": str(other), "start": "2031-03-03"},
        )
        assert response.status_code == 403
        assert "只能编排本系部的值班" in response.text
        name = db.get(Department, other).name
        assert name in login("office1").get(f"/duty/roster?department={other}").text
    finally:
        db.execute(delete(Department).where(Department.name == "测试系"))
        db.commit()
