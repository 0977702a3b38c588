"""The duty roster's rules (guideline §2.4), without HTTP: rotation, problems, round windows."""

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from server import duty
from server.models import DutyShift, DutyWindow, Entry, Room, Slot
from tests.conftest import user_named

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING, EVENING = Slot.morning, Slot.evening
WEEK = [date(2031, 3, 3) + timedelta(days=n) for n in range(7)]  # Monday to Sunday
MONTH = [date(2031, 3, 1) + timedelta(days=n) for n in range(31)]


# ---------------------------------------------------------------- rotation


def test_rotation_spreads_a_month_evenly_over_the_staff():
    staff = [11, 12, 13, 14, 15, 16, 17]
    shifts = duty.rotation(staff, MONTH, [MORNING, EVENING], [1, 2])
    counts = Counter(s.staff_id for s in shifts)
    assert len(shifts) == 31 * 2 * 2
    assert set(counts) == set(staff)
    assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.parametrize("people", [1, 2, 3, 5, 8, 13])
def test_rotation_is_even_for_any_number_of_people(people):
    shifts = duty.rotation(list(range(1, people + 1)), WEEK, [MORNING, EVENING], [1])
    counts = Counter(s.staff_id for s in shifts)
    assert len(shifts) == 14
    assert max(counts.values()) - min(counts.values()) <= 1


def test_rotation_skips_holidays():
    holidays = {date(2031, 3, 8), date(2031, 3, 9)}  # the weekend
    shifts = duty.rotation([1, 2, 3], WEEK, [MORNING, EVENING], [7], holidays)
    assert {s.date for s in shifts} == set(WEEK) - holidays
    assert len(shifts) == 5 * 2


def test_rotation_never_puts_one_person_twice_in_one_round():
    shifts = duty.rotation([1, 2, 3], MONTH, [MORNING, EVENING], [7, 8, 9])
    rounds = Counter((s.date, s.slot, s.staff_id) for s in shifts)
    assert max(rounds.values()) == 1
    assert duty.roster_problems(shifts, MONTH, [MORNING, EVENING], [7, 8, 9]) == []


def test_rotation_covers_every_building_of_every_round():
    shifts = duty.rotation([1, 2, 3, 4], WEEK, [EVENING], [7, 8])
    assert {(s.date, s.building_id) for s in shifts} == {(d, b) for d in WEEK for b in (7, 8)}
    assert {s.slot for s in shifts} == {EVENING}


def test_rotation_takes_turns_in_the_order_given():
    shifts = duty.rotation([5, 3, 9], WEEK[:3], [MORNING], [1])
    assert [s.staff_id for s in shifts] == [5, 3, 9]


def test_fewer_people_than_buildings_is_refused_in_chinese():
    with pytest.raises(duty.RosterError, match="值班人员少于楼栋数"):
        duty.rotation([1], WEEK, [EVENING], [7, 8])


def test_a_rotation_without_staff_is_refused():
    with pytest.raises(duty.RosterError, match="请至少选择一位值班人员"):
        duty.rotation([], WEEK, [EVENING], [7])


# ---------------------------------------------------------------- problems and periods


def test_roster_problems_finds_a_double_booking_and_an_empty_round():
    monday, tuesday = WEEK[0], WEEK[1]
    shifts = [
        duty.Shift(monday, EVENING, 7, 1),
        duty.Shift(monday, EVENING, 8, 1),  # the same person in two buildings at once
        duty.Shift(monday, MORNING, 7, 2),
        duty.Shift(monday, MORNING, 8, 3),
        duty.Shift(tuesday, MORNING, 7, 2),
        duty.Shift(tuesday, MORNING, 8, 3),
        # Tuesday evening: nobody
    ]
    problems = duty.roster_problems(shifts, [monday, tuesday], [MORNING, EVENING], [7, 8])
    assert {(p.kind, p.date, p.slot, p.staff_id, p.building_id) for p in problems} == {
        ("double", monday, EVENING, 1, None),
        ("empty", tuesday, EVENING, None, 7),
        ("empty", tuesday, EVENING, None, 8),
    }
    texts = [p.text({1: "张三"}, {7: "1号楼", 8: "2号楼"}) for p in problems]
    assert "3月3日 周一 晚间：张三 同时排了两个值班" in texts
    assert "3月4日 周二 晚间：1号楼 没有人值班" in texts


def test_roster_problems_without_buildings_looks_at_whole_rounds():
    shifts = [duty.Shift(WEEK[0], MORNING, 7, 1)]
    problems = duty.roster_problems(shifts, [WEEK[0]], [MORNING, EVENING])
    assert [(p.kind, p.slot) for p in problems] == [("empty", EVENING)]


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(duty.RosterError, match="结束日期不能早于开始日期"):
        duty.period_dates(date(2031, 3, 9), date(2031, 3, 3))


def test_a_period_over_three_months_is_refused():
    assert len(duty.period_dates(date(2031, 1, 1), date(2031, 4, 2))) == 92
    with pytest.raises(duty.RosterError, match="最多排 92 天"):
        duty.period_dates(date(2031, 1, 1), date(2031, 4, 3))


# ---------------------------------------------------------------- round windows


def at(day: date, hh: int, mm: int) -> datetime:
    """A moment on the college's clock, as the phone would send it (in UTC)."""
    return datetime.combine(day, time(hh, mm), SHANGHAI).astimezone(UTC)


def test_the_evening_window_is_21_00_to_23_30_on_the_shifts_own_date():
    day = WEEK[0]
    assert duty.in_window(at(day, 21, 0), day, EVENING)
    assert duty.in_window(at(day, 23, 30), day, EVENING)
    assert not duty.in_window(at(day, 20, 59), day, EVENING)
    assert not duty.in_window(at(day, 23, 59), day, EVENING)  # too late: the round is missed
    # 00:01 belongs to the next day: never to the evening before
    assert not duty.in_window(at(day + timedelta(days=1), 0, 1), day, EVENING)


def test_windows_are_read_in_shanghai_time_not_utc():
    day = WEEK[0]
    # 06:45 in Shanghai is 22:45 UTC of the day before
    moment = datetime(2031, 3, 2, 22, 45, tzinfo=UTC)
    assert duty.in_window(moment, day, MORNING)
    # naive timestamps (SQLite) are UTC: 13:30 UTC is 21:30 in Shanghai
    assert duty.in_window(datetime(2031, 3, 3, 13, 30), day, EVENING)
    assert not duty.in_window(datetime(2031, 3, 3, 21, 30), day, EVENING)


def test_a_window_must_not_cross_midnight():
    with pytest.raises(duty.RosterError):
        duty.check_window(time(22, 0), time(0, 30))


# ---------------------------------------------------------------- missed rounds (database)


@pytest.fixture
def duty_week(db):
    """counselor1 on duty on a Monday and Tuesday in 2031, in the building of one of their
    rooms; visits are added by the test. Everything made here is removed afterwards."""
    counselor = user_named(db, "counselor1")
    room = db.scalar(select(Room).order_by(Room.id).limit(1))
    made = []
    for day in WEEK[:2]:
        for slot in (MORNING, EVENING):
            made.append(
                DutyShift(
                    date=day,
                    slot=slot,
                    department_id=counselor.department_id,
                    building_id=room.building_id,
                    staff_id=counselor.id,
                )
            )
    db.add_all(made)
    db.commit()
    entries = []

    def visit(moment: datetime, author=counselor, where=room):
        entry = Entry(
            id=uuid.uuid4(),
            kind="dorm_visit",
            author_id=author.id,
            department_id=counselor.department_id,
            room_id=where.id,
            payload={"room_id": where.id},
            recorded_at=moment,
        )
        db.add(entry)
        db.commit()
        entries.append(entry.id)

    yield counselor, room, visit
    db.execute(delete(Entry).where(Entry.id.in_(entries)))
    db.execute(delete(DutyShift).where(DutyShift.id.in_([s.id for s in made])))
    db.execute(delete(DutyWindow))
    db.commit()


def missed(db, counselor, now=None):
    now = now or at(WEEK[2], 12, 0)
    found = duty.missed_rounds(db, counselor.department_id, WEEK[0], WEEK[1], now=now)
    return [(r.shift.date, r.shift.slot) for r in found if r.shift.staff_id == counselor.id]


def test_a_round_without_visits_is_missed(db, duty_week):
    counselor, _, _ = duty_week
    # newest first
    assert missed(db, counselor) == [
        (WEEK[1], EVENING),
        (WEEK[1], MORNING),
        (WEEK[0], EVENING),
        (WEEK[0], MORNING),
    ]


def test_a_visit_inside_the_window_makes_the_round_done(db, duty_week):
    counselor, _, visit = duty_week
    visit(at(WEEK[0], 6, 45))  # Monday morning
    visit(at(WEEK[0], 22, 10))  # Monday evening
    assert set(missed(db, counselor)) == {(WEEK[1], MORNING), (WEEK[1], EVENING)}


def test_a_visit_at_23_59_is_late_and_one_at_00_01_is_the_next_day(db, duty_week):
    counselor, _, visit = duty_week
    visit(at(WEEK[0], 23, 59))
    visit(at(WEEK[1], 0, 1))
    assert (WEEK[0], EVENING) in missed(db, counselor)
    assert (WEEK[1], MORNING) in missed(db, counselor)  # 00:01 is not the morning round either


def test_a_visit_in_another_building_or_by_someone_else_does_not_count(db, duty_week):
    counselor, room, visit = duty_week
    elsewhere = db.scalar(select(Room).where(Room.building_id != room.building_id).limit(1))
    visit(at(WEEK[0], 21, 30), where=elsewhere)
    visit(at(WEEK[0], 6, 45), author=user_named(db, "teacher1"))
    assert (WEEK[0], EVENING) in missed(db, counselor)
    assert (WEEK[0], MORNING) in missed(db, counselor)


def test_a_round_whose_window_is_not_over_is_not_missed_yet(db, duty_week):
    counselor, _, _ = duty_week
    shifts = db.scalars(
        select(DutyShift).where(DutyShift.staff_id == counselor.id, DutyShift.date == WEEK[0])
    ).all()
    statuses = {r.shift.slot: r.status for r in duty.rounds(db, shifts, now=at(WEEK[0], 7, 0))}
    assert statuses == {MORNING: "open", EVENING: "upcoming"}
    assert missed(db, counselor, now=at(WEEK[0], 7, 0)) == []


def test_a_department_can_set_its_own_window(db, duty_week):
    counselor, _, visit = duty_week
    db.add(
        DutyWindow(
            department_id=counselor.department_id,
            slot=EVENING,
            starts_at=time(19, 0),
            ends_at=time(20, 0),
        )
    )
    db.commit()
    visit(at(WEEK[0], 19, 30))  # too early by the default window, right by the department's
    visit(at(WEEK[1], 21, 30))  # right by the default window, too late by the department's
    assert (WEEK[0], EVENING) not in missed(db, counselor)
    assert (WEEK[1], EVENING) in missed(db, counselor)
