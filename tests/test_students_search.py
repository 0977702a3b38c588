"""查找学生 and a student's page (server/students.py): search by name, 学号 and pinyin within
the user's scope, and a timeline that shows only what the viewer may read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from server import pinyin, students
from server.models import (
    Bed,
    Entry,
    EntryRevision,
    Escalation,
    Guardian,
    Room,
    SchoolClass,
    SensitiveRead,
    Student,
    StudentStatus,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import user_named
from tests.other_department import other_department, signed_in

PEOPLE = ["admin", "office1", "leader1", "counselor1", "teacher1", "leader_x", "counselor_x"]
NAME = "郑宇强"


def test_pinyin_keys_are_full_pinyin_and_initials_without_tones():
    assert pinyin.keys("郑宇强") == ("zhengyuqiang", "zyq")
    assert pinyin.keys("吕绿") == ("lvlv", "ll")
    assert pinyin.keys("") == ("", "")


@pytest.fixture(scope="module")
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made


@pytest.fixture(scope="module")
def as_person(app, elsewhere):
    with signed_in(app, PEOPLE) as switch:
        yield switch


@pytest.fixture(scope="module")
def found(sessionmaker, elsewhere):
    """Three students named 郑宇强: one in teacher1's class (在读), one there who graduated,
    one in another department's class."""
    with sessionmaker() as db:
        teacher1 = user_named(db, "teacher1")
        own_class = db.scalar(
            select(SchoolClass.id).where(SchoolClass.class_teacher_id == teacher1.id).limit(1)
        )
        made = {
            "enrolled": Student(student_number="T9900001", name=NAME, gender="男", class_id=own_class),
            "graduated": Student(
                student_number="T9900002", name=NAME, gender="男", class_id=own_class,
                status=StudentStatus.graduated,
            ),
            "other": Student(
                student_number="T9900003", name=NAME, gender="男", class_id=elsewhere.class_id
            ),
        }  # fmt: skip
        db.add_all(made.values())
        db.commit()
        ids = {key: s.id for key, s in made.items()}
    yield ids
    with sessionmaker() as db:
        db.execute(delete(Student).where(Student.id.in_(ids.values())))
        db.commit()


def _ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-student-id="(\d+)"', html)}


@pytest.mark.parametrize(
    "q", ["zyq", "ZYQ", "zhengyuqiang", "zhengyu", "郑宇强", "宇强", "T9900001"]
)
def test_a_student_is_found_by_name_number_initials_and_full_pinyin(as_person, found, q):
    page = as_person("teacher1").get("/students/results", params={"q": q})
    assert page.status_code == 200
    assert found["enrolled"] in _ids(page.text)


def test_a_graduated_student_and_another_departments_are_never_found(as_person, found):
    for person in ("teacher1", "counselor1", "leader1"):
        shown = _ids(as_person(person).get("/students/results", params={"q": "zyq"}).text)
        assert found["enrolled"] in shown
        assert found["graduated"] not in shown, person
        assert found["other"] not in shown, person
    shown = _ids(as_person("counselor_x").get("/students/results", params={"q": "zyq"}).text)
    assert found["other"] in shown
    assert not {found["enrolled"], found["graduated"]} & shown


def test_the_office_finds_every_enrolled_student(as_person, found):
    shown = _ids(as_person("office1").get("/students", params={"q": "郑宇强"}).text)
    assert {found["enrolled"], found["other"]} <= shown
    assert found["graduated"] not in shown


def test_search_is_bounded_and_takes_wildcards_literally(as_person, found):
    client = as_person("office1")
    assert client.get("/students/results", params={"q": "z" * 101}).status_code == 400
    assert client.get("/students/results", params={"q": "%"}).status_code == 200
    assert "data-student-id" not in client.get("/students/results", params={"q": "%"}).text
    assert "data-student-id" not in client.get("/students/results", params={"q": "_"}).text
    assert students.clean_query("  郑 宇强 " + "x" * 50) == ("郑宇强" + "x" * 50)[:30]


def test_results_are_paged(db, found):
    office = user_named(db, "office1")
    first = students.search(db, office, "2")  # every 学号 of the demo holds a 2
    assert first.total > students.PAGE and len(first.students) == students.PAGE
    second = students.search(db, office, "2", page=2)
    assert not {s.id for s in first.students} & {s.id for s in second.students}


def test_the_results_list_says_how_many(as_person, found):
    page = as_person("teacher1").get("/students/results", params={"q": "zyq"})
    count = int(re.search(r'data-count="(\d+)"', page.text).group(1))
    assert count == len(_ids(page.text))


# --- the student's page --------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_bed(sessionmaker):
    """A new 在读 student of teacher1's class, alone in a new room, with a guardian to call:
    nothing else in the shared database is about them, so the timeline holds only what the
    tests below record."""
    with sessionmaker() as db:
        teacher1 = user_named(db, "teacher1")
        class_id = db.scalar(
            select(SchoolClass.id).where(SchoolClass.class_teacher_id == teacher1.id).limit(1)
        )
        building_id = db.scalar(select(Room.building_id).order_by(Room.id).limit(1))
        student = Student(student_number="T9900010", name="时间线", gender="男", class_id=class_id)
        room = Room(building_id=building_id, number="T901")
        db.add_all([student, room])
        db.flush()
        db.add_all([
            Bed(room_id=room.id, number=1, student_id=student.id),
            Guardian(student_id=student.id, name="时间线家长", relation="母亲", phone="13800000001"),
        ])  # fmt: skip
        db.commit()
        made = {"student": student.id, "room": room.id}
    yield made
    with sessionmaker() as db:
        db.execute(delete(Guardian).where(Guardian.student_id == made["student"]))
        db.execute(delete(Bed).where(Bed.room_id == made["room"]))
        db.execute(delete(Room).where(Room.id == made["room"]))
        db.execute(delete(Student).where(Student.id == made["student"]))
        db.commit()


def _write(db, username: str, kind: str, payload: dict, at: datetime):
    entry_id = new_entry_id()
    mutation = merge.Mutation(
        id=entry_id, op="create", kind=kind, payload=payload, recorded_at=at, received_at=at
    )
    outcome = merge.apply(db, user_named(db, username), mutation)
    db.commit()
    assert outcome.status == "applied", outcome.reason
    return entry_id


@pytest.fixture(scope="module")
def recorded(sessionmaker, with_bed):
    """counselor1's 心理 talk (referred: an escalation), a parent contact and a dorm visit of
    the room, about the student; removed afterwards."""
    student, room = with_bed["student"], with_bed["room"]
    at = datetime.now(UTC) - timedelta(minutes=1)  # newest: on the timeline's first page
    with sessionmaker() as db:
        made = {
            "talk": _write(db, "counselor1", "talk", {
                "student_ids": [student], "category": "mental", "summary": "失眠焦虑谈话内容",
                "measures": "建议咨询", "needs_referral": True}, at),
            "visit": _write(db, "counselor1", "dorm_visit", {
                "room_id": room, "presence": {}, "stars": 4, "issues": [], "talk_notes": ""},
                at - timedelta(seconds=30)),
        }  # fmt: skip
    yield made
    with sessionmaker() as db:
        ids = list(made.values())
        db.execute(delete(SensitiveRead).where(SensitiveRead.entry_id.in_(ids)))
        db.execute(delete(Escalation).where(Escalation.entry_id.in_(ids)))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(ids)))
        db.execute(delete(Entry).where(Entry.id.in_(ids)))
        db.commit()


def test_the_page_shows_class_room_grade_and_guardians_to_call(as_person, with_bed, db):
    page = as_person("teacher1").get(f"/students/{with_bed['student']}")
    assert page.status_code == 200
    student = db.get(Student, with_bed["student"])
    assert student.name in page.text and student.school_class.name in page.text
    assert "入学年份" in page.text and "号床" in page.text and "联系等级" in page.text
    for guardian in student.guardians:
        if guardian.phone:
            assert f'href="tel:{guardian.phone}"' in page.text
    assert f"/records/new/talk?student={student.id}" in page.text
    assert f"/records/new/parent_contact?student={student.id}" in page.text


def test_another_department_gets_403_and_a_missing_student_404(as_person, with_bed, found):
    assert as_person("counselor_x").get(f"/students/{with_bed['student']}").status_code == 403
    assert as_person("leader_x").get(f"/students/{with_bed['student']}").status_code == 403
    assert as_person("teacher1").get(f"/students/{found['other']}").status_code == 403
    assert as_person("teacher1").get("/students/2147483647").status_code == 404


def test_a_graduated_students_page_still_opens_for_their_class(as_person, found):
    assert as_person("teacher1").get(f"/students/{found['graduated']}").status_code == 200


def test_the_timeline_shows_the_talk_and_the_visit_of_their_room_to_the_author(
    as_person, with_bed, recorded
):
    page = as_person("counselor1").get(f"/students/{with_bed['student']}").text
    assert 'data-timeline="谈心谈话"' in page and "心理" in page
    assert 'data-timeline="宿舍走访"' in page


def _item(page: str, entry_id) -> str | None:
    """The timeline line of this entry (its history link), or None when it is not shown."""
    found = re.search(
        rf'<li class="entry"[^>]*>(?:(?!</li>).)*?/entries/{entry_id}/history(?:(?!</li>).)*</li>',
        page,
        re.S,
    )
    return found.group(0) if found else None


def test_talk_content_is_read_only_by_its_author_the_leader_and_the_office(
    as_person, with_bed, recorded
):
    url = f"/students/{with_bed['student']}"
    for reader in ("counselor1", "leader1", "office1"):
        line = _item(as_person(reader).get(url).text, recorded["talk"])
        assert line and "心理" in line and "失眠焦虑" in line, reader
        assert "data-content-hidden" not in line, reader
    for reader in ("leader1", "office1"):
        assert 'data-timeline="关注上报"' in as_person(reader).get(url).text, reader
    # admin sees that the talk took place, not what was said
    line = _item(as_person("admin").get(url).text, recorded["talk"])
    assert line and "data-content-hidden" in line
    assert "心理" not in line and "失眠焦虑" not in line
    # a class teacher does not read a colleague's records (scope.entry_condition) at all
    teacher = as_person("teacher1").get(url).text
    assert _item(teacher, recorded["talk"]) is None and "失眠焦虑" not in teacher
    assert _item(teacher, recorded["visit"]) is None


def test_a_leader_reading_the_talk_on_the_page_is_audited(as_person, with_bed, recorded, db):
    as_person("leader1").get(f"/students/{with_bed['student']}")
    reads = db.scalars(
        select(SensitiveRead).where(
            SensitiveRead.entry_id == recorded["talk"], SensitiveRead.page == "student"
        )
    ).all()
    assert reads and all(r.reader.username != "admin" for r in reads)


def test_the_timeline_is_newest_first_and_counts_its_items(as_person, with_bed, recorded):
    page = as_person("counselor1").get(f"/students/{with_bed['student']}").text
    talk, visit = (page.index(f"/entries/{recorded[k]}/history") for k in ("talk", "visit"))
    assert talk < visit  # the talk came 30 seconds later
    assert int(re.search(r'class="entries timeline" data-count="(\d+)"', page).group(1)) >= 2


def test_the_discipline_slot_waits_for_that_kind(as_person, with_bed):
    from server.kinds import KINDS

    page = as_person("counselor1").get(f"/students/{with_bed['student']}").text
    assert ("data-discipline-case" in page) == ("discipline" in KINDS)
