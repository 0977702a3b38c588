"""POST /sync/push and GET /sync/pull: every entry reaches the server exactly once."""

import uuid

from sqlalchemy import select

from server.models import Conflict, Entry, EntryRevision
from tests.conftest import room_outside_scope, rooms_of_students_of
from tests.sync_helpers import create, new_device, pull_all, push, update, visit


def statuses(response):
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


def test_a_batch_is_applied_and_sending_it_again_changes_nothing(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    batch = [create(visit(room)), create(visit(room, stars=5))]
    device = new_device()
    assert statuses(push(client, batch, device)) == ["applied", "applied"]
    assert statuses(push(client, batch, device)) == ["duplicate", "duplicate"]
    assert statuses(push(client, batch, new_device())) == [
        "duplicate",
        "duplicate",
    ]  # reinstalled phone
    for m in batch:
        assert db.query(Entry).filter_by(id=uuid.UUID(m["id"])).count() == 1


def test_the_same_id_with_other_content_is_a_conflict_and_the_loser_is_kept(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    first = create(visit(room, stars=2))
    push(client, [first])
    clash = {**create(visit(room, stars=4)), "id": first["id"]}
    assert statuses(push(client, [clash])) == ["conflict"]
    entry = db.get(Entry, uuid.UUID(first["id"]))
    db.refresh(entry)
    assert entry.payload["stars"] == 2
    kept = db.scalars(select(Conflict).where(Conflict.entry_id == entry.id)).all()
    assert [c.payload["stars"] for c in kept] == [4]


def test_an_edit_based_on_an_old_revision_does_not_overwrite(login, db):
    phone, tablet = new_device(), new_device()
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    original = create(visit(room, notes="初稿"))
    push(client, [original], phone)
    assert statuses(
        push(client, [update(original["id"], visit(room, notes="手机改"), 1)], phone)
    ) == ["applied"]
    assert statuses(
        push(client, [update(original["id"], visit(room, notes="平板改"), 1)], tablet)
    ) == ["conflict"]
    entry = db.get(Entry, uuid.UUID(original["id"]))
    db.refresh(entry)
    assert (entry.revision, entry.payload["talk_notes"]) == (2, "手机改")
    revisions = db.scalars(
        select(EntryRevision.revision).where(EntryRevision.entry_id == entry.id)
    ).all()
    assert sorted(revisions) == [1, 2]
    assert db.query(Conflict).filter_by(entry_id=entry.id).one().payload["talk_notes"] == "平板改"


def test_the_author_resolves_a_conflict_by_keeping_their_version(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    original = create(visit(room, notes="A"))
    push(client, [original])
    push(client, [update(original["id"], visit(room, notes="B"), 1)])
    push(client, [update(original["id"], visit(room, notes="C"), 1)])
    open_conflicts = client.get("/sync/conflicts").json()["conflicts"]
    mine = next(c for c in open_conflicts if c["entry_id"] == original["id"])
    answer = client.post(f"/sync/conflicts/{mine['id']}/resolve", json={"keep": "mine"})
    assert answer.json()["status"] == "applied"
    entry = db.get(Entry, uuid.UUID(original["id"]))
    db.refresh(entry)
    assert (entry.revision, entry.payload["talk_notes"]) == (3, "C")


def test_one_bad_entry_does_not_block_the_rest_of_the_batch(login, db):
    client = login("teacher1")
    mine = rooms_of_students_of(db, "teacher1")[0]
    batch = [
        create(visit(mine)),
        create(visit(room_outside_scope(db, "teacher1"))),
        create(visit(mine, stars=9)),
        create(visit(mine)),
    ]
    response = push(client, batch)
    assert statuses(response) == ["applied", "rejected", "rejected", "applied"]
    reasons = [r["reason"] for r in response.json()["results"]]
    assert "不在您的工作范围内" in reasons[1] and "卫生星级" in reasons[2]
    assert db.get(Entry, uuid.UUID(batch[1]["id"])) is None


def test_a_mutation_number_seen_before_is_a_no_op(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    device = new_device()
    first = create(visit(room), no=7)
    push(client, [first], device)
    assert statuses(push(client, [first], device)) == ["duplicate"]  # a replay, lost answer
    revisions = db.scalars(
        select(EntryRevision.revision).where(EntryRevision.entry_id == uuid.UUID(first["id"]))
    ).all()
    assert revisions == [1]


def test_a_visit_sent_as_form_fields_is_mapped_on_the_server(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    mutation = {
        **create({}),
        "payload": None,
        "form": {
            "room_id": str(room),
            "stars": "5",
            "issues": ["hygiene"],
            "talk_notes": "离线写的",
        },
    }
    assert statuses(push(client, [mutation])) == ["applied"]
    entry = db.get(Entry, uuid.UUID(mutation["id"]))
    assert (entry.payload["stars"], entry.payload["issues"], entry.payload["talk_notes"]) == (
        5,
        ["hygiene"],
        "离线写的",
    )


def test_a_second_device_pulls_everything_the_first_pushed(login, db):
    client = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    batch = [create(visit(room)) for _ in range(3)]
    push(client, batch)
    pulled = {c["id"] for c in pull_all(client)}
    assert {m["id"] for m in batch} <= pulled


def test_pulls_follow_scope(login, db):
    counselor = login("counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    mine = create(visit(room))
    push(counselor, [mine])
    assert mine["id"] in {c["id"] for c in pull_all(login("leader1"))}
    assert mine["id"] not in {c["id"] for c in pull_all(login("teacher1"))}


def test_an_expired_session_gets_401_json(client):
    response = push(client, [])
    assert response.status_code == 401
    assert response.json()["detail"] == "登录已过期，请重新登录。"


def test_a_body_that_is_not_declared_json_is_refused(login):
    client = login("counselor1")
    response = client.post(
        "/sync/push",
        content=b'{"device_id": "x", "mutations": []}',
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 415


def test_a_foreign_origin_is_refused(login):
    response = push(login("counselor1"), [], headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["detail"] == "同步请求只接受本站页面发出的请求。"


def test_a_cross_site_fetch_is_refused(login):
    assert (
        push(login("counselor1"), [], headers={"sec-fetch-site": "cross-site"}).status_code == 403
    )


def test_an_oversized_batch_is_413(login, db):
    room = rooms_of_students_of(db, "counselor1")[0]
    response = push(login("counselor1"), [create(visit(room)) for _ in range(201)])
    assert response.status_code == 413


def test_an_oversized_body_is_413(login):
    client = login("counselor1")
    response = client.post(
        "/sync/push",
        content=b'{"device_id":"x","pad":"' + b"x" * 600_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_broken_json_is_422_with_a_reason(login):
    client = login("counselor1")
    response = client.post(
        "/sync/push", content=b'{"device_id": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "同步内容的格式不正确。"


def test_a_wrong_shape_is_422(login):
    response = login("counselor1").post(
        "/sync/push", json={"device_id": "x", "mutations": [{"op": "fly"}]}
    )
    assert response.status_code == 422


def test_a_text_field_over_the_limit_is_rejected_not_a_crash(login, db):
    room = rooms_of_students_of(db, "counselor1")[0]
    response = push(login("counselor1"), [create(visit(room, notes="字" * 2001))])
    assert statuses(response) == ["rejected"]


def test_an_unknown_form_version_is_rejected_with_a_reason(login, db):
    room = rooms_of_students_of(db, "counselor1")[0]
    response = push(login("counselor1"), [{**create(visit(room)), "schema_version": 99}])
    assert statuses(response) == ["rejected"]
    assert "表单版本" in response.json()["results"][0]["reason"]


def test_the_sync_endpoints_are_in_the_openapi_schema(login):
    # the schema is for logged-in staff only (docs/security.md)
    paths = login("counselor1").get("/schema/openapi.json").json()["paths"]
    assert "/sync/push" in paths and "/sync/pull" in paths
