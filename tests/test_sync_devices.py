"""Devices belong to their user, and a mutation number answers only for what it carried
(issue 10, point 2): nothing a phone sent is dropped as a "duplicate" it never was."""

import threading
import uuid

import pytest
from litestar.exceptions import PermissionDeniedException
from litestar.testing import TestClient
from sqlalchemy import select

from server.models import Device, Entry
from server.sync import devices, merge
from tests.conftest import log_in, rooms_of_students_of, user_named
from tests.sync_helpers import create, new_device, push, update, visit


@pytest.fixture
def two_people(app):
    """counselor1 and teacher1, each logged in on a client of their own."""
    with TestClient(app) as counselor, TestClient(app) as teacher:
        assert log_in(counselor, "counselor1").status_code == 303
        assert log_in(teacher, "teacher1").status_code == 303
        yield counselor, teacher


def results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]


def stored(db, mutation: dict) -> bool:
    db.expire_all()
    return db.get(Entry, uuid.UUID(mutation["id"])) is not None


def test_a_device_is_registered_to_the_user_who_first_pushes_with_it(two_people, db):
    counselor, _ = two_people
    device = new_device()
    room = rooms_of_students_of(db, "counselor1")[0]
    assert results(push(counselor, [create(visit(room))], device))[0]["status"] == "applied"
    owner = db.scalar(select(Device.user_id).where(Device.device_id == device))
    assert owner == user_named(db, "counselor1").id


def test_another_user_pushing_under_someones_device_gets_403_and_nothing_is_stored(two_people, db):
    counselor, teacher = two_people
    device = new_device()
    mine = create(visit(rooms_of_students_of(db, "counselor1")[0]), no=1)
    push(counselor, [mine], device)

    theirs = create(visit(rooms_of_students_of(db, "teacher1")[0]), no=2)
    answer = push(teacher, [mine, theirs], device)  # mine resent: its answer is not theirs to see
    assert answer.status_code == 403
    body = answer.json()
    assert body["error"] == "没有权限" and "另一位老师" in body["detail"]
    assert "results" not in body
    assert not stored(db, theirs)
    # the owner goes on as before
    again = create(visit(rooms_of_students_of(db, "counselor1")[0]), no=2)
    assert [r["status"] for r in results(push(counselor, [mine, again], device))] == [
        "duplicate",
        "applied",
    ]


def test_a_reused_number_for_another_entry_is_rejected_never_a_duplicate(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    device = new_device()
    first = create(visit(room), no=7)
    push(client, [first], device)

    second = create(visit(room, stars=1), no=7)  # a phone that numbered two entries the same
    (answer,) = results(push(client, [second], device))
    assert answer["status"] == "rejected"
    assert answer["id"] == second["id"]  # its own id, not the first entry's
    assert answer["reason"].startswith("设备序号重复")
    assert answer["revision"] is None
    assert stored(db, first) and not stored(db, second)


def test_two_entries_with_one_number_in_one_batch_keep_the_second_on_the_phone(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    batch = [create(visit(room), no=3), create(visit(room, stars=5), no=3)]
    answers = results(push(client, batch, new_device()))
    assert [a["status"] for a in answers] == ["applied", "rejected"]
    assert answers[1]["reason"].startswith("设备序号重复")
    assert stored(db, batch[0]) and not stored(db, batch[1])


def test_the_same_number_and_entry_with_other_content_is_rejected(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    device = new_device()
    first = create(visit(room, stars=2), no=11)
    push(client, [first], device)
    changed = {**first, "payload": visit(room, stars=4)}  # same id, same number, other content
    (answer,) = results(push(client, [changed], device))
    assert answer["status"] == "rejected" and answer["reason"].startswith("设备序号重复")
    db.expire_all()
    assert db.get(Entry, uuid.UUID(first["id"])).payload["stars"] == 2


def test_a_resent_rejection_keeps_its_own_reason(login, db):
    """A phone that lost the answer to a rejected entry is told the same reason again."""
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    device = new_device()
    bad = create(visit(room, stars=9), no=1)
    (first,) = results(push(client, [bad], device))
    (again,) = results(push(client, [bad], device))
    assert first["status"] == again["status"] == "rejected"
    assert again["reason"] == first["reason"] and "卫生星级" in again["reason"]


def test_a_reused_number_for_an_edit_is_rejected_and_the_entry_keeps_its_revision(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    device = new_device()
    entry = create(visit(room), no=1)
    push(client, [entry], device)
    edit = update(entry["id"], visit(room, stars=5), base_revision=1, no=1)
    (answer,) = results(push(client, [edit], device))
    assert answer["status"] == "rejected" and answer["reason"].startswith("设备序号重复")
    db.expire_all()
    assert db.get(Entry, uuid.UUID(entry["id"])).revision == 1


def test_what_a_number_carried_is_remembered_to_tell_resends_apart(db):
    m = merge.Mutation(id=uuid.uuid4(), op="create", kind="dorm_visit", payload={"a": 1, "b": 2})
    same = merge.Mutation(id=m.id, op="create", kind="dorm_visit", payload={"b": 2, "a": 1})
    other = merge.Mutation(id=m.id, op="create", kind="dorm_visit", payload={"a": 1, "b": 3})
    assert merge.mutation_digest(m) == merge.mutation_digest(same)  # key order does not matter
    assert merge.mutation_digest(m) != merge.mutation_digest(other)


@pytest.mark.postgres
def test_two_people_claiming_a_new_device_at_once_leave_it_with_one_owner(
    sessionmaker, on_postgres
):
    if not on_postgres:
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time")
    device = new_device()
    start = threading.Barrier(2)
    answers: dict[str, str] = {}

    def claim(username: str) -> None:
        with sessionmaker() as db:
            user = user_named(db, username)
            start.wait(timeout=10)
            try:
                devices.claim(db, user, device)
                db.commit()
                answers[username] = "owner"
            except PermissionDeniedException:
                answers[username] = "refused"
            except Exception as exc:  # noqa: BLE001 - any other failure is the bug
                answers[username] = repr(exc)

    threads = [threading.Thread(target=claim, args=(u,)) for u in ("counselor1", "teacher1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(answers.values()) == ["owner", "refused"], answers
