"""The phone's clock does not decide everything (issue 10, point 7): the server stamps each
new entry with its own `received_at`, refuses phone times that cannot be true, and marks
entries that arrived long after their phone time as 补录 — on the work log, its export, the
leader's pages and the missed duty rounds. An entry that arrived after its week was reviewed
is flagged 审阅后补录, as an edit after the review is 审阅后修改."""

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from server import duty, worklog
from server.models import (
    Conflict,
    DeviceMutation,
    DutyShift,
    Entry,
    EntryRevision,
    Room,
    Slot,
    WeekReview,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import rooms_of_students_of, user_named
from tests.sync_helpers import create, push, recorded_at, visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
LATE_WEEK = date(2024, 10, 14)  # a Monday no other test writes in


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


@pytest.fixture
def written(db):
    """Entries written through the one write path at a given phone and server time; removed
    (with their traces) after the test, so other tests see the college as it was."""
    made: list[uuid.UUID] = []

    def write(username: str, recorded: datetime, received: datetime, room_index: int = 0):
        m = merge.Mutation(
            id=new_entry_id(), op="create", kind="dorm_visit",
            payload=visit(rooms_of_students_of(db, username)[room_index]),
            recorded_at=recorded, received_at=received,
        )  # fmt: skip
        outcome = merge.apply(db, user_named(db, username), m)
        db.commit()
        assert outcome.status == "applied", outcome.reason
        made.append(m.id)
        return m.id

    yield write, made
    db.rollback()
    for table in (DeviceMutation, Conflict, EntryRevision):
        db.execute(delete(table).where(table.entry_id.in_(made)))
    db.execute(delete(Entry).where(Entry.id.in_(made)))
    db.commit()


def result(response) -> dict:
    assert response.status_code == 200, response.text
    (answer,) = response.json()["results"]
    return answer


def entry_row(html: str, entry_id) -> str:
    rows = dict(re.findall(r'id="entry-([0-9a-f-]+)"(.*?)</li>', html, flags=re.S))
    return rows[str(entry_id)]


# ---------------------------------------------------------------- what the server accepts


def test_a_phone_time_more_than_ten_minutes_ahead_is_rejected(login, db, written):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    ahead = {**create(visit(room)), "recorded_at": recorded_at(-timedelta(minutes=11))}
    answer = result(push(client, [ahead]))
    assert answer["status"] == "rejected" and "10 分钟" in answer["reason"]
    assert db.get(Entry, uuid.UUID(ahead["id"])) is None

    slightly = {**create(visit(room)), "recorded_at": recorded_at(-timedelta(minutes=5))}
    assert result(push(client, [slightly]))["status"] == "applied"  # a clock a little fast
    written[1].append(uuid.UUID(slightly["id"]))


def test_a_phone_time_more_than_thirty_days_back_is_rejected(login, db, written):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    old = {**create(visit(room)), "recorded_at": recorded_at(timedelta(days=31))}
    answer = result(push(client, [old]))
    assert answer["status"] == "rejected" and "30 天" in answer["reason"]
    assert db.get(Entry, uuid.UUID(old["id"])) is None

    month = {**create(visit(room)), "recorded_at": recorded_at(timedelta(days=29))}
    assert result(push(client, [month]))["status"] == "applied"
    written[1].append(uuid.UUID(month["id"]))


def test_the_batch_path_checks_phone_times_too(login, db, written):
    """Several new entries in one push go the batch way: the same rules, entry by entry."""
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    batch = [
        {**create(visit(room)), "recorded_at": recorded_at(timedelta(days=40))},
        create(visit(room)),
        {**create(visit(room)), "recorded_at": "2099-01-01T00:00:00+00:00"},
    ]
    answer = push(client, batch)
    assert [r["status"] for r in answer.json()["results"]] == ["rejected", "applied", "rejected"]
    written[1].append(uuid.UUID(batch[1]["id"]))


def test_the_server_keeps_its_own_time_of_arrival_next_to_the_phones(login, db, written):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    sent = {**create(visit(room)), "recorded_at": two_days_ago.isoformat()}
    before = datetime.now(UTC)
    assert result(push(client, [sent]))["status"] == "applied"
    written[1].append(uuid.UUID(sent["id"]))
    entry = db.get(Entry, uuid.UUID(sent["id"]))
    received, recorded = entry.received_at, entry.recorded_at
    assert abs(recorded - two_days_ago) < timedelta(seconds=1)  # the phone's, as sent
    assert before - timedelta(seconds=1) <= received <= datetime.now(UTC) + timedelta(seconds=1)
    assert entry.late


def test_an_online_form_takes_the_servers_time_and_is_never_late(db, written):
    m = merge.Mutation(
        id=new_entry_id(), op="create", kind="dorm_visit",
        payload=visit(rooms_of_students_of(db, "counselor1")[0]),
    )  # fmt: skip
    assert merge.apply(db, user_named(db, "counselor1"), m).status == "applied"
    db.commit()
    written[1].append(m.id)
    entry = db.get(Entry, m.id)
    assert entry.recorded_at == entry.received_at and not entry.late


def test_twelve_hours_is_the_line_for_late():
    recorded = datetime(2024, 10, 15, 2, 0, tzinfo=UTC)
    assert not Entry(recorded_at=recorded, received_at=recorded + timedelta(hours=12)).late
    assert Entry(recorded_at=recorded, received_at=recorded + timedelta(hours=12, minutes=1)).late
    assert not Entry(recorded_at=recorded, received_at=None).late  # rows from before


# ---------------------------------------------------------------- the work log and its review


@pytest.fixture
def reviewed_week(db):
    """leader1 reviewed counselor1's week of LATE_WEEK on its Sunday evening."""
    counselor = user_named(db, "counselor1")
    review = WeekReview(
        staff_id=counselor.id, week_start=LATE_WEEK, reviewer_id=user_named(db, "leader1").id,
        comment="已检查", reviewed_at=at(LATE_WEEK + timedelta(days=6), 20),
    )  # fmt: skip
    db.add(review)
    db.commit()
    yield counselor
    db.execute(delete(WeekReview).where(WeekReview.id == review.id))
    db.commit()


def test_the_work_log_marks_late_entries_and_those_added_after_the_review(
    login, db, written, reviewed_week
):
    write, _ = written
    wednesday, thursday = LATE_WEEK + timedelta(days=2), LATE_WEEK + timedelta(days=3)
    on_time = write("counselor1", at(wednesday, 10), at(wednesday, 10, 1))
    late = write("counselor1", at(wednesday, 11), at(thursday, 8), room_index=1)  # 21 h later
    after_review = write("counselor1", at(thursday, 10), at(LATE_WEEK + timedelta(days=8), 9))

    page = login("leader1").get("/log", params={"staff": reviewed_week.id, "week": "2024-10-14"})
    assert page.status_code == 200
    assert "补录" not in entry_row(page.text, on_time)
    assert "补录" in entry_row(page.text, late) and "审阅后" not in entry_row(page.text, late)
    assert "审阅后补录" in entry_row(page.text, after_review)
    assert "本周有 1 条记录在检查后补录" in page.text

    lines = {
        line.entry.id: line
        for line in worklog.log_lines(
            db, reviewed_week, reviewed_week, LATE_WEEK, LATE_WEEK + timedelta(days=6)
        )
    }
    assert (lines[on_time].late, lines[on_time].added_after_review) == (False, False)
    assert (lines[late].late, lines[late].added_after_review) == (True, False)
    assert (lines[after_review].late, lines[after_review].added_after_review) == (True, True)


def test_the_export_has_columns_for_late_and_added_after_review(login, db, written, reviewed_week):
    write, _ = written
    wednesday = LATE_WEEK + timedelta(days=2)
    on_time = write("counselor1", at(wednesday, 9), at(wednesday, 9, 5))
    after_review = write("counselor1", at(wednesday, 15), at(LATE_WEEK + timedelta(days=9), 9))
    response = login("leader1").get(
        "/log.xlsx",
        params={"staff": reviewed_week.id, "start": "2024-10-14", "end": "2024-10-20"},
    )
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content))["工作记录"]
    header = [c.value for c in sheet[2]]
    flags = [header.index(h) for h in ("审阅后修改", "审阅后补录", "补录")]
    rows = {
        (r[0].value.date(), r[1].value): [r[i].value for i in flags] for r in sheet.iter_rows(3)
    }
    assert rows[wednesday, "09:00"] == [None, None, None]
    assert rows[wednesday, "15:00"] == [None, "是", "是"]
    assert on_time and after_review


def test_the_history_of_an_entry_added_after_the_review_says_so(login, db, written, reviewed_week):
    write, _ = written
    friday = LATE_WEEK + timedelta(days=4)
    after_review = write("counselor1", at(friday, 10), at(LATE_WEEK + timedelta(days=7), 8))
    before_review = write("counselor1", at(friday, 11), at(friday, 11, 2), room_index=1)
    leader = login("leader1")
    page = leader.get(f"/entries/{after_review}/history")
    assert page.status_code == 200 and "审阅后补录" in page.text
    assert "审阅后补录" not in leader.get(f"/entries/{before_review}/history").text


def test_a_leaders_department_records_mark_a_late_entry(login, db, written):
    write, _ = written
    now = datetime.now(UTC)
    # recorded now (so it heads the page) and, as the test tells the server, received 13 h on
    late = write("counselor1", now, now + timedelta(hours=13))
    on_time = write("counselor1", now - timedelta(seconds=1), now, room_index=1)
    page = login("leader1").get("/department/records")
    assert page.status_code == 200
    assert "补录" in entry_row(page.text, late)
    assert "补录" not in entry_row(page.text, on_time)


# ---------------------------------------------------------------- duty rounds


@pytest.fixture
def evening_shift(db):
    """counselor1 on the evening round two days ago, in the building of their first room."""
    counselor = user_named(db, "counselor1")
    room = db.get(Room, rooms_of_students_of(db, "counselor1")[0])
    day = datetime.now(SHANGHAI).date() - timedelta(days=2)
    shift = db.scalar(
        select(DutyShift).where(
            DutyShift.date == day, DutyShift.slot == Slot.evening,
            DutyShift.staff_id == counselor.id, DutyShift.building_id == room.building_id,
        )
    )  # fmt: skip
    made = shift is None
    if made:
        shift = DutyShift(
            date=day, slot=Slot.evening, department_id=counselor.department_id,
            building_id=room.building_id, staff_id=counselor.id,
        )  # fmt: skip
        db.add(shift)
        db.commit()
    yield shift
    if made:
        db.execute(delete(DutyShift).where(DutyShift.id == shift.id))
        db.commit()


def test_a_visit_pushed_days_later_does_not_make_a_missed_round_done(
    login, db, written, evening_shift
):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    in_the_window = at(evening_shift.date, 21, 30)  # backdated into the round's window
    sent = {**create(visit(room)), "recorded_at": in_the_window.isoformat()}
    assert result(push(client, [sent]))["status"] == "applied"
    written[1].append(uuid.UUID(sent["id"]))

    (round_,) = duty.rounds(db, [evening_shift])
    assert round_.status == "late" and round_.label == "补录"
    page = login("leader1").get("/duty/missed")
    assert page.status_code == 200
    when = f"{duty.day_label(evening_shift.date)} 晚间"
    listed = [
        li
        for li in re.findall(r'<li class="missed-round"[^>]*>(.*?)</li>', page.text, flags=re.S)
        if evening_shift.staff.name in li and when in li and evening_shift.building.name in li
    ]
    assert listed and all("补录" in li for li in listed)


def test_a_visit_received_in_time_still_makes_the_round_done(db, written, evening_shift):
    write, _ = written
    in_the_window = at(evening_shift.date, 21, 30)
    write("counselor1", in_the_window, in_the_window + timedelta(minutes=20))
    (round_,) = duty.rounds(db, [evening_shift])
    assert round_.status == "done"
    missed = duty.missed_rounds(
        db, evening_shift.department_id, evening_shift.date, evening_shift.date
    )
    assert evening_shift.id not in [r.shift.id for r in missed]
