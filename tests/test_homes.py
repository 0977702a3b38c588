"""A home for each role (server/homes.py): every card's count matches the list it links to.

The test follows every card of every role's home — the leader's, the office's row of each
department, the admin's — opens the list and compares the card's count with the list's
`data-count` and the number of its rows. The data behind the cards is made first, so the
counts are not all zero: a leave and a swap waiting, an open escalation, a student with
预警, a room without a label, an account that never logged in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from server import homes
from server.clock import today
from server.models import (
    DutyShift,
    Entry,
    EntryRevision,
    Escalation,
    Room,
    SchoolClass,
    SensitiveRead,
    StaffLeave,
    Student,
    SwapRequest,
    SwapStatus,
    User,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import user_named
from tests.other_department import other_department, signed_in

PEOPLE = ["admin", "office1", "leader1", "counselor1", "teacher1", "leader_x"]
ROW = re.compile(r"\bdata-row\b")  # each row of a list a card links to


@pytest.fixture(scope="module")
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made


@pytest.fixture(scope="module")
def as_person(app, elsewhere):
    with signed_in(app, PEOPLE) as switch:
        yield switch


def _write(db, username, kind, payload, at):
    entry_id = new_entry_id()
    outcome = merge.apply(db, user_named(db, username), merge.Mutation(
        id=entry_id, op="create", kind=kind, payload=payload, recorded_at=at, received_at=at))  # fmt: skip
    db.commit()
    assert outcome.status == "applied", outcome.reason
    return entry_id


@pytest.fixture(scope="module")
def waiting(sessionmaker, elsewhere):
    """Something for each card to count; removed afterwards."""
    with sessionmaker() as db:
        counselor1, teacher1 = user_named(db, "counselor1"), user_named(db, "teacher1")
        own_class = db.scalar(
            select(SchoolClass).where(SchoolClass.class_teacher_id == teacher1.id).limit(1)
        )
        student = db.scalar(select(Student.id).where(Student.class_id == own_class.id).limit(1))
        leave = StaffLeave(staff_id=teacher1.id, department_id=teacher1.department_id,
                           start=today(), end=today(), reason="测试请假")  # fmt: skip
        shift = db.scalar(select(DutyShift).where(DutyShift.staff_id == counselor1.id,
                                                  DutyShift.date >= today()).limit(1))  # fmt: skip
        swap = SwapRequest(shift_id=shift.id, requester_id=counselor1.id, colleague_id=teacher1.id,
                           department_id=counselor1.department_id, status=SwapStatus.accepted)  # fmt: skip
        db.add_all([leave, swap])
        db.commit()
        talk = _write(db, "counselor1", "talk", {
            "student_ids": [student], "category": "mental", "summary": "测试", "measures": "",
            "needs_referral": True}, datetime.now(UTC))  # fmt: skip
        # three absences this week: 预警
        checks = [
            _write(db, "teacher1", "attendance_check", {
                "class_id": own_class.id, "course_id": None, "period": "evening",
                "date": (today() - timedelta(days=d)).isoformat(), "marks": {str(student): "absent"},
                "note": ""}, datetime.now(UTC) - timedelta(days=d))
            for d in range(3)
        ]  # fmt: skip
        db.add(User(username="never_x", name="未登录测试", password_hash="!", active=True,
                    must_change_password=True, department_id=elsewhere.id))  # fmt: skip
        room = db.get(Room, elsewhere.room_id)
        room.printed_label_version = None
        db.commit()
        made = {"leave": leave.id, "swap": swap.id, "entries": [talk, *checks]}
    yield made
    with sessionmaker() as db:
        db.execute(delete(SwapRequest).where(SwapRequest.id == made["swap"]))
        db.execute(delete(StaffLeave).where(StaffLeave.id == made["leave"]))
        db.execute(delete(SensitiveRead).where(SensitiveRead.entry_id.in_(made["entries"])))
        db.execute(delete(Escalation).where(Escalation.entry_id.in_(made["entries"])))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(made["entries"])))
        db.execute(delete(Entry).where(Entry.id.in_(made["entries"])))
        db.execute(delete(User).where(User.username == "never_x"))
        db.commit()


def _cards(html: str) -> list[tuple[str, int, str]]:
    found = re.findall(
        r'data-card="([^"]+)">\s*<a href="([^"]+)" data-card-url>.*?data-card-count>(\d+)<',
        html,
        re.S,
    )
    return [(label, int(count), url.replace("&amp;", "&")) for label, url, count in found]


def _list_count(html: str) -> int:
    counts = re.findall(r'data-count="(\d+)"', html)
    # the outbox badge of base.html carries data-count="0" too: the list's is the other one
    counts = [c for c, at in zip(counts, re.finditer(r'data-count="\d+"', html), strict=True)
              if "data-outbox-badge" not in html[max(0, at.start() - 120):at.start()]]  # fmt: skip
    assert len(counts) == 1, counts
    return int(counts[0])


def _rows(html: str) -> int:
    return len(ROW.findall(html.split("<main>", 1)[1].split("</main>", 1)[0]))


def _follow(client, cards) -> None:
    assert cards
    for label, count, url in cards:
        page = client.get(url)
        assert page.status_code == 200, (label, url, page.status_code)
        assert _list_count(page.text) == count, (label, url)
        assert _rows(page.text) == count, (label, url)


def test_the_leaders_home_counts_what_waits_and_every_count_matches_its_list(as_person, waiting):
    home = as_person("leader1").get("/")
    assert 'data-home="leader"' in home.text
    cards = _cards(home.text)
    counted = {label: count for label, count, _ in cards}
    assert counted["请假待审批"] >= 1 and counted["换班待审批"] >= 1
    assert counted["关注上报（待处理）"] >= 1 and counted["考勤预警学生"] >= 1
    assert "本周未完成工作量" in counted and "漏巡（近 7 天）" in counted
    _follow(as_person("leader1"), cards)


def test_another_departments_leader_counts_none_of_it(as_person, waiting):
    cards = {label: count for label, count, _ in _cards(as_person("leader_x").get("/").text)}
    assert cards["请假待审批"] == 0 and cards["换班待审批"] == 0 and cards["考勤预警学生"] == 0


def test_the_office_has_a_row_per_department_and_each_count_matches_its_list(
    as_person, waiting, elsewhere
):
    home = as_person("office1").get("/").text
    assert 'data-home="office"' in home
    rows = re.findall(r'data-department="(\d+)"', home)
    assert str(elsewhere.id) in rows and len(rows) >= 2
    cards = _cards(home)
    assert len(cards) == len(rows) * len(homes.DEPARTMENT_CARDS)
    _follow(as_person("office1"), cards)


def test_the_admins_home_shows_the_data_state_and_each_count_matches_its_list(as_person, waiting):
    home = as_person("admin").get("/").text
    assert 'data-home="admin"' in home and "打印门牌" in home
    cards = _cards(home)
    counted = {label: count for label, count, _ in cards}
    assert counted["从未登录（一次性密码未用）"] >= 1 and counted["没有打印门牌的宿舍"] >= 1
    _follow(as_person("admin"), cards)


def test_printing_a_buildings_labels_takes_its_rooms_off_the_list(as_person, waiting, elsewhere):
    client = as_person("admin")
    before = _list_count(client.get("/labels/missing").text)
    assert f'data-room-id="{elsewhere.room_id}"' in client.get("/labels/missing").text
    assert client.get(f"/labels/{elsewhere.building_id}").status_code == 200
    after = client.get("/labels/missing").text
    assert f'data-room-id="{elsewhere.room_id}"' not in after
    assert _list_count(after) == before - 1


def test_a_counselor_keeps_the_day_page(as_person):
    home = as_person("counselor1").get("/").text
    assert "扫码" in home and "准备巡查" in home and 'data-home="leader"' not in home
