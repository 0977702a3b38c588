"""Dorm visits (guideline §2.7): the form opens filled in, saves once, concerns escalate."""

import re
import uuid

from sqlalchemy import select

from server import doors
from server.models import Bed, Entry, EntryRevision, Escalation, Room, Student
from tests.conftest import room_outside_scope, rooms_of_students_of, user_named


def visit_form(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(entry_id|room_id|_csrf_token)" value="([^"]+)"', page.text))
    return page, fields


def residents_of(db, room_id):
    return list(
        db.scalars(
            select(Student).join(Bed, Bed.student_id == Student.id).where(Bed.room_id == room_id)
        )
    )


def test_scanning_a_door_opens_the_form_with_room_and_residents(login, db, settings):
    client = login("counselor1")
    room = db.get(Room, rooms_of_students_of(db, "counselor1")[0])
    page, fields = visit_form(client, f"/d/{doors.room_token(settings, room)}")
    assert room.number in page.text
    for student in residents_of(db, room.id):
        assert student.name in page.text
    assert fields["room_id"] == str(room.id)


def test_a_visit_with_a_concern_is_saved_once_and_escalated(login, db):
    client = login("counselor1")
    room_id = rooms_of_students_of(db, "counselor1")[1]
    late = residents_of(db, room_id)[0]
    _, fields = visit_form(client, f"/rooms/{room_id}/visit")
    form = {
        **fields,
        f"presence_{late.id}": "late",
        "stars": "4",
        "issues": ["appliance", "hygiene"],
        "talk_notes": "和同学谈了考试安排",
        "concern_category": "mental",
        "concern_note": "情绪低落，已安抚",
    }
    first = client.post("/visits", data=form, follow_redirects=False)
    again = client.post("/visits", data=form, follow_redirects=False)  # a double tap on 保存
    assert first.status_code == again.status_code == 303

    entry = db.get(Entry, uuid.UUID(fields["entry_id"]))
    assert entry.author_id == user_named(db, "counselor1").id
    assert entry.payload["presence"] == {str(late.id): "late"}
    assert entry.payload["stars"] == 4
    assert entry.payload["issues"] == ["appliance", "hygiene"]
    assert db.scalar(select(EntryRevision.revision).where(EntryRevision.entry_id == entry.id)) == 1
    assert db.query(Entry).filter_by(id=entry.id).count() == 1
    escalation = db.scalar(select(Escalation).where(Escalation.entry_id == entry.id))
    assert escalation.category == "mental" and escalation.status == "open"

    assert "已保存" in client.get(first.headers["location"]).text


def test_the_office_and_the_department_leader_see_the_escalation(login, client, db):
    test_a_visit_with_a_concern_is_saved_once_and_escalated(login, db)
    for who in ("office1", "leader1"):
        page = login(who).get("/escalations")
        assert page.status_code == 200
        assert "心理" in page.text and "情绪低落" in page.text
        assert "宿舍走访" in login(who).get("/department/records").text


def test_a_counselor_sees_the_visit_in_my_records(login, db):
    client = login("counselor1")
    room_id = rooms_of_students_of(db, "counselor1")[0]
    _, fields = visit_form(client, f"/rooms/{room_id}/visit")
    client.post("/visits", data={**fields, "stars": "5"})
    assert f'id="entry-{fields["entry_id"]}"' in client.get("/records").text


def test_a_room_outside_scope_answers_403_in_chinese(login, db):
    client = login("teacher1")
    response = client.get(f"/rooms/{room_outside_scope(db, 'teacher1')}/visit")
    assert response.status_code == 403
    assert "不在您的工作范围内" in response.text


def test_posting_a_visit_for_a_room_outside_scope_saves_nothing(login, db):
    client = login("teacher1")
    mine = rooms_of_students_of(db, "teacher1")[0]
    _, fields = visit_form(client, f"/rooms/{mine}/visit")
    before = db.query(Entry).count()
    foreign = room_outside_scope(db, "teacher1")
    response = client.post("/visits", data={**fields, "room_id": str(foreign)})
    # the same answer as opening that room's form: 403, and none of its residents drawn
    assert response.status_code == 403
    assert "不在您的工作范围内" in response.text
    residents = db.scalars(
        select(Student.name).join(Bed, Bed.student_id == Student.id).where(Bed.room_id == foreign)
    ).all()
    assert residents and not [name for name in residents if name in response.text]
    assert db.query(Entry).count() == before


def test_bad_stars_show_the_form_again_with_what_was_typed(login, db):
    client = login("counselor1")
    room_id = rooms_of_students_of(db, "counselor1")[0]
    _, fields = visit_form(client, f"/rooms/{room_id}/visit")
    response = client.post("/visits", data={**fields, "stars": "7", "talk_notes": "别丢了我写的字"})
    assert response.status_code == 422
    assert "卫生星级应为 1 到 5 星" in response.text
    assert "别丢了我写的字" in response.text
    assert db.get(Entry, uuid.UUID(fields["entry_id"])) is None


def test_a_missing_room_is_404(login):
    assert login("office1").get("/rooms/999999/visit").status_code == 404
