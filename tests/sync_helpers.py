"""Helpers for the sync tests: build mutations the way a phone's outbox does."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from server.sync.ids import new_entry_id

_numbers = itertools.count(1)


def visit(room_id: int, *, stars: int | None = 3, notes: str = "") -> dict:
    return {
        "room_id": room_id,
        "presence": {},
        "stars": stars,
        "issues": [],
        "talk_notes": notes,
        "concern": None,
    }


def create(payload: dict, *, entry_id: uuid.UUID | None = None, no: int | None = None) -> dict:
    return {
        "id": str(entry_id or new_entry_id()),
        "op": "create",
        "kind": "dorm_visit",
        "payload": payload,
        "mutation_no": no if no is not None else next(_numbers),
        "schema_version": 1,
        "recorded_at": recorded_at(),
    }


def recorded_at(ago: timedelta = timedelta(minutes=5)) -> str:
    """A phone time the server accepts: a few minutes ago unless told otherwise."""
    return (datetime.now(UTC) - ago).isoformat()


def update(entry_id: str, payload: dict, base_revision: int, *, no: int | None = None) -> dict:
    return {
        **create(payload, no=no),
        "id": entry_id,
        "op": "update",
        "base_revision": base_revision,
    }


def new_device() -> str:
    return str(uuid.uuid4())


def push(client, mutations: list[dict], device: str | None = None, **kwargs):
    return client.post(
        "/sync/push", json={"device_id": device or new_device(), "mutations": mutations}, **kwargs
    )


def pull_all(client, since: int = 0) -> list[dict]:
    changes = []
    while True:
        page = client.get("/sync/pull", params={"since": since, "limit": 50}).json()
        changes += page["changes"]
        since = page["next"]
        if not page["more"]:
            return changes
