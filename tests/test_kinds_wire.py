"""The outbox wire format is pinned: every recorded version-1 mutation (tests/wire/) of every
kind still decodes and is applied by /sync/push, in its `form` and its `payload` variant."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient

from server.kinds import KINDS
from server.models import Entry, User
from tests.conftest import log_in
from tests.sync_helpers import push
from tests.wire_samples import WIRE, mutation, places, recorded


@pytest.fixture(scope="module")
def counselor(app):
    """counselor1, logged in once for the module (a login costs an argon2 hash)."""
    with TestClient(app) as client:
        assert log_in(client, "counselor1").status_code == 303
        yield client


def test_every_kind_has_a_recorded_version_1_mutation():
    assert {p.stem for p in (WIRE / "v1").glob("*.json")} == set(KINDS)


def test_every_schema_version_a_kind_accepts_has_a_recording():
    for kind in KINDS.values():
        for version in kind.schema_versions:
            assert (WIRE / f"v{version}" / f"{kind.name}.json").exists(), (kind.name, version)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_recorded_mutation_decodes_into_its_kinds_struct(db, kind):
    where = places(db)
    form = mutation(kind, "form", where)
    payload = mutation(kind, "payload", where)
    assert recorded(kind)["schema_version"] == form["schema_version"] == 1
    from_form = KINDS[kind].decode_form(form["form"], 1)
    from_payload = KINDS[kind].decode(payload["payload"], 1)
    assert type(from_form) is type(from_payload) is KINDS[kind].payloads[1]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_recorded_form_and_payload_are_applied_and_stored_alike(counselor, db, kind):
    where = places(db)
    sent = [mutation(kind, "form", where), mutation(kind, "payload", where)]
    answer = push(counselor, sent)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"], results
    stored = [db.get(Entry, uuid.UUID(m["id"])) for m in sent]
    assert stored[0].payload == stored[1].payload, "one mapping: form and payload store the same"
    # what is stored decodes again and passes its check unchanged (old entries keep working)
    author = db.get(User, stored[0].author_id)
    again = KINDS[kind].check(db, author, KINDS[kind].decode(stored[0].payload, 1))
    assert again.payload == stored[0].payload


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_recorded_mutation_sent_again_is_a_duplicate(counselor, db, kind):
    client = counselor
    sent = mutation(kind, "form", places(db))
    assert push(client, [sent]).json()["results"][0]["status"] == "applied"
    again = push(client, [{**sent, "mutation_no": sent["mutation_no"] + 1000}])
    assert again.json()["results"][0]["status"] == "duplicate"
