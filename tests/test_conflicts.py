"""Conflicts keep only what was valid, and only so many (issue 9, point 5): a losing version is
checked against its kind before it is kept, nobody parks anything against another person's
record, and an entry holds at most MAX_OPEN_CONFLICTS unresolved losing versions."""

import uuid

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from server.models import Conflict, Entry
from server.sync import merge
from tests.conftest import log_in, rooms_of_students_of
from tests.sync_helpers import create, new_device, push, update, visit

JUNK_ASCII = "x" * 400_000  # 400 KB, under the body limit


def results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]


def conflicts_of(db, entry_id) -> list[Conflict]:
    db.expire_all()
    return list(db.scalars(select(Conflict).where(Conflict.entry_id == uuid.UUID(entry_id))))


@pytest.fixture
def counselors_entry(login, db):
    """counselor1's client, device and a visit stored at revision 2 (edited once)."""
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    device = new_device()
    entry = create(visit(room, stars=3))
    push(client, [entry], device)
    assert (
        results(push(client, [update(entry["id"], visit(room, stars=4), 1)], device))[0]["status"]
        == "applied"
    )
    return client, device, room, entry


def test_junk_sent_under_another_persons_entry_id_is_rejected_and_not_kept(
    app, db, counselors_entry
):
    _, _, room, entry = counselors_entry
    with TestClient(app) as teacher:
        assert log_in(teacher, "teacher1").status_code == 303
        clash = {**create({"junk": JUNK_ASCII}), "id": entry["id"]}
        (answer,) = results(push(teacher, [clash]))
    assert answer["status"] == "rejected"
    assert answer["revision"] is None  # nothing said about the other person's record
    assert conflicts_of(db, entry["id"]) == []


def test_an_update_by_someone_who_is_not_the_author_never_stores_a_conflict(
    app, db, counselors_entry
):
    _, _, room, entry = counselors_entry
    with TestClient(app) as teacher:
        assert log_in(teacher, "teacher1").status_code == 303
        stale = update(entry["id"], visit(room, stars=1), base_revision=1)
        (answer,) = results(push(teacher, [stale]))
    assert answer["status"] == "rejected" and "填写人" in answer["reason"]
    assert conflicts_of(db, entry["id"]) == []


def test_an_invalid_create_under_my_own_entry_id_is_rejected_not_kept(db, counselors_entry):
    client, device, room, entry = counselors_entry
    clash = {**create(visit(room, stars=9)), "id": entry["id"]}  # 9 stars: never valid
    (answer,) = results(push(client, [clash], device))
    assert answer["status"] == "rejected" and "卫生星级" in answer["reason"]
    assert conflicts_of(db, entry["id"]) == []


def test_an_invalid_stale_edit_is_rejected_not_kept(db, counselors_entry):
    client, device, room, entry = counselors_entry
    (answer,) = results(push(client, [update(entry["id"], {"room_id": "x"}, 1)], device))
    assert answer["status"] == "rejected"
    assert conflicts_of(db, entry["id"]) == []


def test_a_stale_edit_carrying_400_kb_of_extra_fields_is_rejected_not_kept(db, counselors_entry):
    client, device, room, entry = counselors_entry
    stale = update(entry["id"], {**visit(room, stars=2), "junk": JUNK_ASCII}, base_revision=1)
    (answer,) = results(push(client, [stale], device))
    assert answer["status"] == "rejected"
    assert conflicts_of(db, entry["id"]) == []


def test_a_kept_losing_version_is_the_checked_one(db, counselors_entry):
    client, device, room, entry = counselors_entry
    stale = update(entry["id"], visit(room, stars=2), base_revision=1)
    (answer,) = results(push(client, [stale], device))
    assert answer["status"] == "conflict"
    (kept,) = conflicts_of(db, entry["id"])
    assert kept.payload["stars"] == 2 and kept.payload["room_id"] == room
    assert len(msgspec.json.encode(kept.payload)) < 1000


def test_an_entry_keeps_at_most_five_open_conflicts_and_refuses_the_sixth(db, counselors_entry):
    client, device, room, entry = counselors_entry
    stale = [update(entry["id"], visit(room, stars=s % 5 + 1, notes=str(s)), 1) for s in range(6)]
    answers = results(push(client, stale, device))
    assert [a["status"] for a in answers] == ["conflict"] * 5 + ["rejected"]
    assert "5 个待处理的冲突" in answers[5]["reason"]
    assert len(conflicts_of(db, entry["id"])) == merge.MAX_OPEN_CONFLICTS == 5
    # nothing kept was dropped: the first five are still there, oldest first
    assert [c.payload["talk_notes"] for c in conflicts_of(db, entry["id"])] == list("01234")

    # once the author settles one, the next losing version is kept again
    first = min(c.id for c in conflicts_of(db, entry["id"]))
    settled = client.post(f"/sync/conflicts/{first}/resolve", json={"keep": "server"})
    assert settled.status_code == 200
    (again,) = results(push(client, [update(entry["id"], visit(room, notes="6"), 1)], device))
    assert again["status"] == "conflict"
    open_ = db.scalar(
        select(func.count())
        .select_from(Conflict)
        .where(Conflict.entry_id == uuid.UUID(entry["id"]), Conflict.resolved.is_(False))
    )
    assert open_ == 5


def test_a_losing_version_over_the_size_limit_is_refused(db, counselors_entry, monkeypatch):
    client, device, room, entry = counselors_entry
    monkeypatch.setattr(merge, "MAX_CONFLICT_BYTES", 100)  # a real record never gets near 64 KiB
    stale = update(entry["id"], visit(room, stars=1, notes="长" * 100), base_revision=1)
    (answer,) = results(push(client, [stale], device))
    assert answer["status"] == "rejected" and "内容过大" in answer["reason"]
    assert conflicts_of(db, entry["id"]) == []
    db.expire_all()
    assert db.get(Entry, uuid.UUID(entry["id"])).payload["stars"] == 4
