"""The phone in a dark corridor (issue 15), the parts the server decides: confirmations that
survive the redirect, quotas that say what is missing, a talk's own time, pinyin search keys,
the next room after a visit, and which card leads the home page."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from server import clock, tonight
from server.duty import Round as DutyRound
from server.models import Entry, Room, SchoolClass, StaffLeave, Student
from server.pinyin import keys
from server.routes.home import prepare_first
from server.week import Progress
from tests.conftest import form_csrf, user_named
from tests.test_records import save


def own_student(db, username: str) -> Student:
    return db.scalar(
        select(Student)
        .join(SchoolClass)
        .where(SchoolClass.class_teacher_id == user_named(db, username).id)
        .order_by(Student.id)
        .limit(1)
    )


def talk_fields(student: Student, **more) -> dict:
    return {"student_ids": [str(student.id)], "category": "study", "summary": "补记的谈话",
            "place": "办公室", "follow_up": "", **more}  # fmt: skip


def minute(moment: datetime) -> str:
    """A moment as a datetime-local input sends it, on the college's clock."""
    return clock.college_time(moment).strftime("%Y-%m-%dT%H:%M")


# --- confirmations (server/flash.py) ----------------------------------------------------------


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="ok flash" role="status" data-flash>([^<]*)</p>', html)


def test_a_saved_record_is_confirmed_once_after_the_redirect(login, db):
    client = login("teacher1")
    _, response = save(client, "talk", talk_fields(own_student(db, "teacher1")))
    assert response.status_code == 303
    assert flashes(client.get(response.headers["location"]).text) == ["已保存。"]
    assert flashes(client.get("/records").text) == []  # shown once


def test_a_leave_request_is_confirmed_on_the_page_it_returns_to(login, db):
    client = login("counselor1")
    page = client.get("/leave")
    day = (clock.today() + timedelta(days=40)).isoformat()
    response = client.post(
        "/leave/requests",
        data={"_csrf_token": form_csrf(page.text), "start": day, "end": day, "reason": "参加培训"},
    )
    try:
        assert flashes(response.text) == ["请假申请已提交，等负责人审批。"]
    finally:
        db.execute(delete(StaffLeave).where(StaffLeave.reason == "参加培训"))
        db.commit()


def test_a_refused_save_confirms_nothing(login, db):
    client = login("teacher1")
    _, response = save(client, "talk", talk_fields(own_student(db, "teacher1"), category="x"))
    assert response.status_code == 422
    assert flashes(client.get("/records").text) == []


# --- quotas ------------------------------------------------------------------------------------


def test_an_unmet_quota_says_how_many_are_missing():
    students = Progress("parent_contact", "联系家长", target=5, distinct_students=True, done=3)
    talks = Progress("talk", "谈话", target=2, distinct_students=False, done=0)
    assert not students.met and students.state == "还差 2 人"
    assert talks.state == "还差 2 次" and talks.missing == 2


def test_a_met_quota_says_done_and_never_a_negative_number():
    over = Progress("talk", "谈话", target=2, distinct_students=False, done=5)
    assert over.met and over.state == "已完成" and over.missing == 0


def test_the_week_page_marks_unmet_quotas_and_draws_a_bar_for_each(login):
    page = login("counselor1").get("/week").text
    rows = re.findall(r'<li class="quota (met|unmet)"', page)
    assert rows, "counselor1 has weekly quotas"
    assert page.count('<progress class="bar"') == len(rows)
    if "unmet" in rows:
        assert re.search(r"还差 \d+ (人|次)", page)


# --- a talk's own time (the form's 时间 → the entry's recorded_at, merge's checks) ----------------


def test_a_talk_dated_two_hours_back_shows_that_time_in_the_work_log(login, db):
    client = login("teacher1")
    two_hours_ago = clock.now() - timedelta(hours=2)
    entry_id, response = save(
        client, "talk", talk_fields(own_student(db, "teacher1"), _recorded_at=minute(two_hours_ago))
    )
    assert response.status_code == 303
    entry = db.get(Entry, entry_id)
    assert minute(entry.recorded_at) == minute(two_hours_ago)
    assert not entry.late  # written up two hours later is not 补录
    week = clock.college_time(two_hours_ago).date().isoformat()
    log = client.get("/log", params={"week": week}).text
    row = re.search(rf'id="entry-{entry_id}">\s*<time>([^<]+)</time>', log)
    assert row and row.group(1) == clock.college_time(two_hours_ago).strftime("%H:%M")


def test_a_talk_without_a_time_is_dated_when_it_is_saved(login, db):
    client = login("teacher1")
    before = clock.now()
    entry_id, _ = save(client, "talk", talk_fields(own_student(db, "teacher1")))
    assert db.get(Entry, entry_id).recorded_at >= before - timedelta(seconds=1)


@pytest.mark.parametrize(
    "moved, reason",
    [
        (timedelta(hours=1), "时间不能晚于现在"),
        (-timedelta(days=31), "时间不能早于 30 天前"),
    ],
)
def test_a_talk_in_the_future_or_31_days_back_is_refused_in_chinese(login, db, moved, reason):
    client = login("teacher1")
    typed = minute(clock.now() + moved)
    entry_id, response = save(
        client, "talk", talk_fields(own_student(db, "teacher1"), _recorded_at=typed)
    )
    assert response.status_code == 422
    assert reason in response.text
    assert f'value="{typed}"' in response.text  # what was typed stays in the form
    assert db.get(Entry, entry_id) is None


def test_a_parent_contact_takes_its_time_from_the_form_too(login, db):
    client = login("teacher1")
    page = client.get("/records/new/parent_contact").text
    assert 'name="_recorded_at"' in page
    student_id, guardian_id = re.search(r'<option value="(\d+)" data-student="(\d+)"', page).group(
        2, 1
    )
    yesterday = clock.now() - timedelta(days=1)
    entry_id, response = save(
        client,
        "parent_contact",
        {"student_id": student_id, "guardian_id": guardian_id, "method": "phone",
         "reason": "discipline", "summary": "电话沟通", "_recorded_at": minute(yesterday)},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    assert minute(db.get(Entry, entry_id).recorded_at) == minute(yesterday)


def test_a_nonsense_time_is_refused_not_a_crash(login, db):
    client = login("teacher1")
    _, response = save(
        client, "talk", talk_fields(own_student(db, "teacher1"), _recorded_at="9999-99-99T25:61")
    )
    assert response.status_code == 422 and "时间无效" in response.text


# --- the student picker's keys -------------------------------------------------------------------


def test_pinyin_keys_are_the_full_pinyin_and_the_initials():
    assert keys("郑宇强") == ("zhengyuqiang", "zyq")
    assert keys("欧阳 娜娜") == ("ouyangnana", "oynn")


def test_the_talk_form_carries_each_students_search_keys(login, db):
    student = own_student(db, "teacher1")
    page = login("teacher1").get("/records/new/talk").text
    full, initials = keys(student.name)
    option = re.search(rf'<option value="{student.id}"[^>]*>', page).group(0)
    assert f'data-pinyin="{full}"' in option and f'data-initials="{initials}"' in option
    assert f'data-number="{student.student_number}"' in option


def test_a_parent_contact_opened_for_a_student_lists_their_class_first(login, db):
    client = login("counselor1")
    classes = db.scalars(
        select(SchoolClass)
        .where(SchoolClass.counselor_id == user_named(db, "counselor1").id)
        .order_by(SchoolClass.name)
    ).all()
    assert len(classes) > 1, "counselor1 has several classes"
    last = classes[-1]
    student = db.scalar(select(Student).where(Student.class_id == last.id).limit(1))
    page = client.get(f"/records/new/parent_contact?student={student.id}").text
    first_group = re.search(r'<optgroup label="([^"]+)"', page).group(1)
    assert first_group == last.name


# --- after a visit: the next room of tonight's round ------------------------------------------------


def rooms(*ids: int) -> list[Room]:
    return [Room(id=i, building_id=1, number=str(100 + i)) for i in ids]


def test_the_next_room_follows_the_one_just_visited_and_skips_visited_rooms():
    this_round = tonight.Round(
        shift=None, since=clock.now(), rooms=rooms(1, 2, 3, 4), visited={2, 3}
    )
    assert this_round.next_room(after=1).id == 4
    assert this_round.next_room(after=4).id == 1  # round to the first room again
    this_round.visited = {1, 2, 3, 4}
    assert this_round.next_room(after=4) is None


def test_a_visit_online_leads_to_the_next_room_of_the_building_on_duty(login, db, settings):
    client = login("counselor1")
    this_round = tonight.current_round(db, user_named(db, "counselor1"))
    assert this_round is not None, "counselor1 is on duty today (demo)"
    room = next(r for r in this_round.rooms if r.id not in this_round.visited)
    page = client.get(f"/rooms/{room.id}/visit").text
    fields = {"_csrf_token": form_csrf(page), "room_id": str(room.id),
              "entry_id": re.search(r'name="entry_id" value="([^"]+)"', page).group(1)}  # fmt: skip
    response = client.post("/visits", data=fields, follow_redirects=False)
    assert response.status_code == 303
    assert re.fullmatch(r"/visits/[0-9a-f-]+/saved", response.headers["location"])
    saved = client.get(response.headers["location"]).text
    assert "扫下一间" in saved and flashes(saved) == ["走访记录已保存。"]
    expected = tonight.Round(
        this_round.shift, this_round.since, this_round.rooms, this_round.visited | {room.id}
    ).next_room(after=room.id)
    if expected:
        assert f"下一间：{expected.building.name} {expected.number}" in saved
    listing = client.get("/rounds/tonight").text
    visited_row = re.search(rf'<li class="visited" data-room-id="{room.id}">', listing)
    assert visited_row, "tonight's list ticks the room just visited"
    assert db.get(Entry, uuid.UUID(fields["entry_id"])).room_id == room.id


def test_the_plan_carries_tonights_round_for_the_phone(login, db):
    plan = login("counselor1").get("/rounds/plan").json()
    assert plan["tonight"]["rooms"], "counselor1's round has rooms"
    assert all(r["url"].startswith("/d/") for r in plan["tonight"]["rooms"])
    assert {"url": "/rounds/tonight", "kind": "page", "title": "今晚的宿舍"} in plan["items"]


# --- the home page's first card ----------------------------------------------------------------------


def round_in(status: str) -> DutyRound:
    return DutyRound(shift=None, starts=clock.now(), ends=clock.now(), status=status)


def test_prepare_comes_first_before_the_round_and_scan_during_it():
    assert prepare_first([round_in("done"), round_in("upcoming")])
    assert not prepare_first([round_in("done"), round_in("open")])
    assert not prepare_first([])  # no duty today: 扫码 first
    assert not prepare_first([round_in("missed")])


def test_the_home_page_puts_the_right_card_first(login, db):
    page = login("counselor1").get("/").text
    first_prepare = page.index("data-prepare ")
    first_scan = page.index('class="card scan-entry"')
    rounds_open = "进行中" in page
    assert (first_scan < first_prepare) == (rounds_open or "未开始" not in page)
