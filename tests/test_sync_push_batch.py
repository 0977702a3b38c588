"""A phone's batch of 100 across many rooms gets the answers of one-by-one pushes, from scope
computed once (server/scope.py `writable_room_ids`) and residents fetched together
(server/dorm_visits.py `prepare`); the cursor is the change counter as the push left it."""

from __future__ import annotations

import random
import re
import uuid
from itertools import accumulate

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server import scope
from server.entries import Rejected, _clean_strings, _cleaned
from server.kinds import kind_of
from server.models import Bed, ChangeCounter, Escalation, Notification, Room, SchoolClass, Student
from server.params import MAX_JSON_DEPTH, too_deep
from server.sync import merge
from tests.conftest import room_outside_scope, rooms_of_students_of, user_named
from tests.sync_helpers import create, new_device, push, update, visit


def counter(db) -> int:
    db.expire_all()
    return db.get(ChangeCounter, 1).value


def residents(db, room_id: int) -> list[int]:
    return list(
        db.scalars(
            select(Bed.student_id).where(Bed.room_id == room_id, Bed.student_id.is_not(None))
        )
    )


def answers(response) -> list[tuple[str, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["status"], r["reason"]) for r in response.json()["results"]]


def test_a_batch_across_rooms_is_checked_per_room(login, db):
    client = login("teacher1")
    rooms = [r for r in rooms_of_students_of(db, "teacher1") if residents(db, r)]
    outside = room_outside_scope(db, "teacher1")
    missing = db.scalar(select(func.max(Room.id))) + 1
    stranger = residents(db, rooms[1])[0]
    batch = []
    for n, room in enumerate(rooms * 3):
        payload = visit(room, notes=f"第{n}次")
        payload["presence"] = {str(s): "present" for s in residents(db, room)}
        batch.append(create(payload))
    wrong_bed = visit(rooms[0])
    wrong_bed["presence"] = {str(stranger): "absent"}
    batch += [create(visit(outside)), create(visit(missing)), create(wrong_bed)]
    got = answers(push(client, batch))
    assert got[: len(rooms) * 3] == [("applied", None)] * (len(rooms) * 3)
    assert got[-3:] == [
        ("rejected", "这个宿舍不在您的工作范围内。"),
        ("rejected", "宿舍不存在。"),
        ("rejected", "在寝情况里有不住在这个宿舍的学生，请刷新后重新填写。"),
    ]


def test_a_concern_in_a_batch_opens_its_escalation_and_queues_the_notice(login, db):
    client = login("teacher1")
    room = rooms_of_students_of(db, "teacher1")[0]
    worried = visit(room)
    worried["concern"] = {"category": "mental", "note": "情绪低落"}
    batch = [create(visit(room)), create(worried), create(visit(room))]
    assert [s for s, _ in answers(push(client, batch))] == ["applied"] * 3
    escalation = db.scalar(
        select(Escalation).where(Escalation.entry_id == uuid.UUID(batch[1]["id"]))
    )
    assert (escalation.category, escalation.note, escalation.status, escalation.state) == (
        "mental",
        "情绪低落",
        "open",
        "pending",
    )
    assert escalation.room_id == room and escalation.department_id is not None
    notices = db.scalars(select(Notification).where(Notification.escalation_id == escalation.id))
    assert [(n.event, n.status, bool(n.department_name)) for n in notices] == [
        ("opened", "pending", True)
    ]


def test_the_cursor_is_the_counter_after_the_push(login, db):
    client = login("teacher1")
    room = rooms_of_students_of(db, "teacher1")[0]
    device = new_device()
    batch = [create(visit(room)) for _ in range(5)]
    first = push(client, batch, device)
    assert first.json()["cursor"] == counter(db)
    # a resend changes nothing and answers the same cursor
    assert push(client, batch, device).json()["cursor"] == counter(db)
    # creates together, then an edit and a refusal one by one
    mixed = [
        create(visit(room)),
        update(batch[0]["id"], visit(room, stars=5), 1),
        create(visit(room_outside_scope(db, "teacher1"))),
    ]
    answer = push(client, mixed, device)
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "applied", "rejected"]
    assert answer.json()["cursor"] == counter(db)


def test_the_cursor_holds_when_the_creates_fall_back_to_one_by_one(login, db, monkeypatch):
    """Numbers taken by the bulk insert and given back with its savepoint are not answered."""
    together = merge._create_together

    def broken(db_, user, fresh):
        together(db_, user, fresh)
        raise IntegrityError("insert", {}, Exception("taken a moment ago"))

    monkeypatch.setattr(merge, "_create_together", broken)
    client = login("teacher1")
    room = rooms_of_students_of(db, "teacher1")[0]
    answer = push(client, [create(visit(room)) for _ in range(3)])
    assert [r["status"] for r in answer.json()["results"]] == ["applied"] * 3
    assert answer.json()["cursor"] == counter(db)


def test_writable_sets_are_the_conditions_as_data(db):
    for username in ("counselor1", "teacher1", "leader1"):
        user = user_named(db, username)
        assert scope.writable_room_ids(db, user) == set(
            db.scalars(select(Room.id).where(scope.room_condition(user)))
        )
        assert scope.writable_class_ids(db, user) == set(
            db.scalars(select(SchoolClass.id).where(scope.class_condition(user)))
        )
        assert scope.writable_student_ids(db, user) == set(
            db.scalars(select(Student.id).where(scope.student_condition(user)))
        )
    office = user_named(db, "office1")
    assert scope.writable_room_ids(db, office) is None
    assert scope.writable_class_ids(db, office) is None
    assert scope.writable_student_ids(db, office) is None


def test_strings_are_cleaned_and_refused_as_the_careful_walk_does():
    kind = kind_of("dorm_visit")
    rnd = random.Random(16)
    atoms = ["a", " b ", "\x01x\x7f", "\x00", 1, 2.5, True, None, "中文\t", "\u3000", ""]

    def made(depth: int):
        r = rnd.random()
        if depth < 11 and r < 0.3:
            return {f"k{i}": made(depth + 1) for i in range(rnd.randint(0, 3))}
        if depth < 11 and r < 0.5:
            return [made(depth + 1) for _ in range(rnd.randint(0, 3))]
        return rnd.choice(atoms)

    def outcome(clean, *args):
        try:
            return "cleaned", clean(*args)
        except Rejected as exc:
            return "rejected", exc.reason

    for _ in range(3000):
        raw = {"room_id": made(0), "talk_notes": made(0)}
        assert outcome(_cleaned, raw, kind) == outcome(_clean_strings, raw, kind, "", 0), raw


def _too_deep_by_counting(body: bytes) -> bool:
    """The screen as first written: every bracket outside strings counted in Python."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    outside = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", body)
    steps = (1 if b in b"[{" else -1 for b in re.sub(rb"[^\[\]{}]", b"", outside))
    return max(accumulate(steps, initial=0)) > MAX_JSON_DEPTH


def test_the_depth_screen_answers_as_counting_every_bracket_would():
    rnd = random.Random(16)
    pieces = [b"[", b"]", b"{", b"}", b'"', b"\\", b"a", b",", b"[" * 60, b"]" * 60, b"{" * 70]
    bodies = [b"".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40))) for _ in range(3000)]
    for depth in (MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 1000):
        bodies += [b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth]
        bodies.append(b'["' + b"[" * depth + b'"]')  # brackets in a string
        bodies.append(b'["\\"' + b"[" * depth + b'"]')  # after an escaped quote
    for body in bodies:
        assert too_deep(body) == _too_deep_by_counting(body), body


def test_writable_rooms_follow_duty_days_roles_and_departments(db):
    """The query built once per set of roles answers for each user's own id, department and
    day: a shift today opens its building, yesterday's does not; several roles, no department."""
    from datetime import timedelta

    from server.clock import today
    from server.models import Building, DutyShift, Role, User, UserRole

    buildings = db.scalars(select(Building.id).order_by(Building.id)).all()
    counselor = user_named(db, "counselor1")
    people = [counselor, user_named(db, "teacher1"), user_named(db, "leader1")]
    both = User(username="push_both", name="双职", password_hash="-", department_id=None)
    both.role_rows = [UserRole(role=Role.counselor), UserRole(role=Role.class_teacher)]
    db.add(both)
    db.flush()
    people.append(both)
    for day, building in ((today(), buildings[-1]), (today() - timedelta(days=1), buildings[0])):
        for person in (counselor, both):
            shift = {"date": day, "slot": "morning", "building_id": building, "staff_id": person.id}
            if db.scalar(select(DutyShift.id).filter_by(**shift)) is None:
                db.add(DutyShift(department_id=1, **shift))
    db.flush()
    for on in (None, today() - timedelta(days=1)):
        for user in people:
            expected = set(db.scalars(select(Room.id).where(scope.room_condition(user, on))))
            assert scope.writable_room_ids(db, user, on) == expected, (user.username, on)
    on_duty = set(db.scalars(select(Room.id).where(Room.building_id == buildings[-1])))
    assert on_duty <= scope.writable_room_ids(db, both)
    db.rollback()
