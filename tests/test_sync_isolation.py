"""One bad entry never blocks the rest of a push: a rule, a database error or a bug in one
mutation becomes that mutation's `rejected`, its savepoint rolled back, and the batch goes on."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from server.kinds import KINDS
from server.models import ChangeCounter, Entry, EntryRevision
from server.sync import merge
from tests.conftest import log_in
from tests.sync_helpers import push
from tests.wire_samples import mutation, places

BAD = "坏"  # the plan period that makes the patched kind fail


@pytest.fixture(scope="module")
def counselor(app):
    """counselor1, logged in once for the module (a login costs an argon2 hash)."""
    with TestClient(app) as client:
        assert log_in(client, "counselor1").status_code == 303
        yield client


def _plans(db, periods: list[str]) -> list[dict]:
    where = places(db)
    sent = []
    for n, period in enumerate(periods):
        m = mutation("plan", "payload", where)
        m["payload"] = {**m["payload"], "period": period}
        m["mutation_no"] = n + 1
        sent.append(m)
    return sent


def _breaking(statement: str):
    def after_write(db, written):
        if written.payload.get("period") == BAD:
            db.execute(text(statement))

    return after_write


def _nothing_stored(db, entry_id: str) -> bool:
    db.rollback()
    key = uuid.UUID(entry_id)
    return (
        db.get(Entry, key) is None
        and db.scalar(select(func.count()).where(EntryRevision.entry_id == key)) == 0
    )


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO no_such_table VALUES (1)",  # OperationalError / ProgrammingError
        "INSERT INTO entries (id) VALUES (NULL)",  # IntegrityError: retried once, then refused
    ],
    ids=["unknown-table", "integrity"],
)
def test_a_database_error_in_one_new_entry_refuses_only_that_entry(
    counselor, db, monkeypatch, statement
):
    monkeypatch.setattr(KINDS["plan"], "after_write", _breaking(statement))
    sent = _plans(db, ["第1周", BAD, "第2周"])
    answer = push(counselor, sent)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"] == merge.FAILED
    assert _nothing_stored(db, sent[1]["id"])
    for good in (sent[0], sent[2]):
        assert db.get(Entry, uuid.UUID(good["id"])).payload["period"] in ("第1周", "第2周")
    # the change counter was rolled back with the failed savepoint: numbers stay dense
    assert db.get(ChangeCounter, 1).value == db.scalar(select(func.max(Entry.seq)))


def test_a_database_error_in_an_edit_refuses_only_that_edit(counselor, db, monkeypatch):
    client = counselor
    first = _plans(db, ["第3周"])[0]
    assert push(client, [first]).json()["results"][0]["status"] == "applied"
    monkeypatch.setattr(KINDS["plan"], "after_write", _breaking("SELECT * FROM no_such_table"))
    edit = {**first, "op": "update", "base_revision": 1, "mutation_no": 2,
            "payload": {**first["payload"], "period": BAD}}  # fmt: skip
    fresh = _plans(db, ["第4周"])[0]
    answer = push(client, [edit, {**fresh, "mutation_no": 3}])
    assert [r["status"] for r in answer.json()["results"]] == ["rejected", "applied"]
    db.rollback()
    stored = db.get(Entry, uuid.UUID(first["id"]))
    assert (stored.revision, stored.payload["period"]) == (1, "第3周"), "nothing half-written"


def test_a_bug_in_a_kinds_check_refuses_only_that_entry(counselor, db, monkeypatch):
    check = KINDS["plan"].check

    def buggy(db_, user, plan):
        if plan.period == BAD:
            raise KeyError("a bug")
        return check(db_, user, plan)

    monkeypatch.setattr(KINDS["plan"], "check", buggy)
    sent = _plans(db, ["第5周", BAD, "第6周"])
    answer = push(counselor, sent)
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "rejected", "applied"]
    assert _nothing_stored(db, sent[1]["id"])


def test_a_bug_in_a_form_mapping_refuses_only_that_entry(counselor, db, monkeypatch):
    def broken(form):
        raise AttributeError("a bug")

    monkeypatch.setattr(KINDS["meeting"], "form", broken)
    where = places(db)
    sent = [mutation("meeting", "form", where), mutation("plan", "form", where)]
    answer = push(counselor, sent)
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == ["rejected", "applied"]


def test_a_refusal_is_answered_again_with_its_reason_when_resent(counselor, db):
    client = counselor
    device = str(uuid.uuid4())
    sent = _plans(db, [""])[0]  # no period: refused by the check
    first = push(client, [sent], device=device).json()["results"][0]
    again = push(client, [sent], device=device).json()["results"][0]
    assert first["status"] == again["status"] == "rejected"
    assert first["reason"] == again["reason"]


def test_a_payload_or_form_that_is_not_an_object_refuses_only_that_mutation(counselor, db):
    where = places(db)
    bad_payload = {**mutation("plan", "payload", where), "payload": [1, 2]}
    bad_form = {**mutation("plan", "form", where), "form": "plan_type=weekly_plan"}
    good = mutation("plan", "payload", where)
    batch = [{**m, "mutation_no": n} for n, m in enumerate([bad_payload, bad_form, good], 1)]
    answer = push(counselor, batch)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert results[0]["reason"] == "记录内容格式不正确。"


def test_a_malformed_envelope_fails_the_request_with_a_reason(counselor):
    client = counselor
    for body in (
        {"device_id": "d", "mutations": [{"id": "not-a-uuid", "op": "create", "kind": "plan",
                                           "mutation_no": 1}]},
        {"device_id": "d", "mutations": [{"id": str(uuid.uuid4()), "op": "create",
                                           "kind": "plan", "mutation_no": 2**63}]},
        {"device_id": "d", "mutations": [{"id": str(uuid.uuid4()), "op": "update",
                                           "kind": "plan", "mutation_no": 1,
                                           "base_revision": 2**31}]},
    ):  # fmt: skip
        answer = client.post("/sync/push", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"]


def test_a_locked_database_fails_the_whole_push_so_the_phone_retries():
    class Locked(Exception):
        pass

    locked = OperationalError("INSERT …", {}, Locked("database is locked"))
    gone = OperationalError("INSERT …", {}, Locked("no such table: x"))
    assert merge.must_retry(locked) and not merge.must_retry(gone)
    assert not merge.must_retry(KeyError("x"))
