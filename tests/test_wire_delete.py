"""The delete mutation is pinned like the kinds' (tests/wire/ops/delete.json): what a phone's
outbox sends to delete a record — the delete form's fields with the reason, or the reason at
the top level — is applied, keeps the reason, and is a duplicate when sent again."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from server.models import Entry, EntryRevision
from tests.conftest import log_in
from tests.sync_helpers import new_device, push
from tests.test_worklog import record_visit
from tests.wire_samples import WIRE

RECORDING = json.loads((WIRE / "ops" / "delete.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def counselor(app):
    with TestClient(app) as client:
        assert log_in(client, "counselor1").status_code == 303
        yield client


def filled(variant: str, entry_id: uuid.UUID) -> dict:
    text = json.dumps(RECORDING[variant], ensure_ascii=False)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return json.loads(text.replace("{id}", str(entry_id)).replace("{now}", now))


@pytest.mark.parametrize("variant", ["form", "reason"])
def test_a_recorded_delete_is_applied_with_its_reason(counselor, db, variant):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    answer = push(counselor, [filled(variant, visit)])
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "applied"
    db.expire_all()
    assert db.get(Entry, visit).deleted
    reason = db.scalar(
        select(EntryRevision.reason).where(
            EntryRevision.entry_id == visit, EntryRevision.revision == 2
        )
    )
    assert reason == "走错了宿舍，重新记录"


@pytest.mark.parametrize("variant", ["form", "reason"])
def test_a_recorded_delete_sent_again_is_a_duplicate(counselor, db, variant):
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    device = new_device()
    sent = filled(variant, visit)
    assert push(counselor, [sent], device).json()["results"][0]["status"] == "applied"
    resent = push(counselor, [sent], device).json()["results"][0]
    assert resent["status"] == "duplicate"
    other_number = push(counselor, [{**sent, "mutation_no": 99}], device).json()["results"][0]
    assert other_number["status"] == "duplicate", "already deleted: nothing to do"


def test_an_update_without_the_new_field_is_applied_as_before(counselor, db):
    """Pushes of older phones (no `reason`) are unchanged: the field is optional."""
    visit = record_visit(db, "counselor1", datetime.now(UTC))
    entry = db.get(Entry, visit)
    update = {"id": str(visit), "op": "update", "kind": "dorm_visit", "payload": entry.payload,
              "base_revision": 1, "mutation_no": 1}  # fmt: skip
    assert push(counselor, [update]).json()["results"][0]["status"] == "applied"
    db.expire_all()
    assert db.get(Entry, visit).revision == 2 and not db.get(Entry, visit).deleted
