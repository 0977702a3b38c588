"""找宿舍 (the manual path): search by short code, building and number, only within scope."""

import re

import pytest
from sqlalchemy import select

from server import doors
from server.clock import today
from server.models import Building, DutyShift, Room
from tests.conftest import room_outside_scope, rooms_of_students_of, user_named

RESULTS = "/rooms/find/results"


def found_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-room-id="(\d+)"', html)]


def search(client, q: str) -> list[int]:
    response = client.get(RESULTS, params={"q": q})
    assert response.status_code == 200
    return found_ids(response.text)


def in_scope(db, username: str) -> set[int] | None:
    """Rooms the person may open, worked out here without scope.py; None means every room."""
    if username == "office1":
        return None
    user = user_named(db, username)
    duty_buildings = select(DutyShift.building_id).where(
        DutyShift.staff_id == user.id, DutyShift.date == today()
    )
    on_duty = set(db.scalars(select(Room.id).where(Room.building_id.in_(duty_buildings))))
    return set(rooms_of_students_of(db, username)) | on_duty


def test_the_short_code_finds_exactly_that_room_with_its_residents(login, db):
    room = db.get(Room, rooms_of_students_of(db, "teacher1")[0])
    client = login("teacher1")
    response = client.get(RESULTS, params={"q": doors.short_code(room)})
    assert found_ids(response.text) == [room.id]
    assert f'href="/rooms/{room.id}/visit"' in response.text
    names = [bed.student.name for bed in room.beds if bed.student]
    assert names, "demo data: the room has residents"
    assert "、".join(names) in response.text


def test_building_and_number_find_the_room(login, db):
    room = db.get(Room, rooms_of_students_of(db, "teacher1")[0])
    client = login("teacher1")
    assert room.id in search(client, f"{room.building.name} {room.number}")
    assert room.id in search(client, f"{room.building.name}{room.number}")
    assert room.id in search(client, room.number)


@pytest.mark.parametrize("username", ["teacher1", "counselor1", "office1"])
def test_every_building_search_lists_only_rooms_in_scope(login, db, username):
    allowed = in_scope(db, username)
    client = login(username)
    listed = set()
    for building in db.scalars(select(Building)):
        listed |= set(search(client, building.name))
    assert listed, f"{username} found no room at all"
    if allowed is not None:
        assert listed <= allowed, f"{username} was shown rooms outside scope: {listed - allowed}"


def test_a_room_outside_scope_is_never_listed_but_the_office_finds_it(login, db):
    foreign = db.get(Room, room_outside_scope(db, "teacher1"))
    queries = [
        doors.short_code(foreign),
        f"{foreign.building.name} {foreign.number}",
        foreign.number,
        foreign.building.name,
    ]
    teacher = login("teacher1")
    for q in queries:
        assert foreign.id not in search(teacher, q), q
    office = login("office1")
    assert search(office, doors.short_code(foreign)) == [foreign.id]


def test_a_counselor_on_duty_finds_rooms_of_the_duty_building(login, db):
    counselor = user_named(db, "counselor1")
    building_id = db.scalar(
        select(DutyShift.building_id).where(
            DutyShift.staff_id == counselor.id, DutyShift.date == today()
        )
    )
    assert building_id, "demo data: counselor1 is on duty today"
    own = set(rooms_of_students_of(db, "counselor1"))
    others = db.scalars(
        select(Room).where(Room.building_id == building_id, Room.id.not_in(own)).limit(1)
    ).all()
    client = login("counselor1")
    for room in others:  # no student of theirs lives there, yet they are on duty in the building
        assert search(client, doors.short_code(room)) == [room.id]


def test_nothing_typed_or_odd_characters_list_nothing(login):
    client = login("office1")
    assert search(client, "") == []
    assert search(client, "   ") == []
    assert search(client, "%") == []
    assert search(client, "_ 1") == []
    assert "没有找到" in client.get(RESULTS, params={"q": "没有这栋楼 101"}).text


def test_the_page_works_as_a_plain_get_form(login, db):
    room = db.get(Room, rooms_of_students_of(db, "counselor1")[0])
    client = login("counselor1")
    page = client.get("/rooms/find", params={"q": doors.short_code(room)})
    assert page.status_code == 200
    assert '<form class="card" method="get" action="/rooms/find"' in page.text
    assert 'hx-get="/rooms/find/results"' in page.text
    assert found_ids(page.text) == [room.id]
