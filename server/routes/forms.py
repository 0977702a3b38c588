"""Saving a record form posted online: shared by every form that writes an entry (dorm
visits, attendance checks, the guideline's records), so all take the offline sync's path."""

from __future__ import annotations

import uuid

import msgspec
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server.entries import MAX_ID, Kind, Rejected, one
from server.sync import merge
from server.sync.ids import new_entry_id, parse_entry_id


def save(
    request: HTMXRequest,
    db: Session,
    kind: Kind,
    form: dict,
    *,
    entry_id: uuid.UUID | None = None,
    base_revision: int | None = None,
) -> tuple[uuid.UUID, merge.Outcome, dict]:
    """Decode the form into the kind's payload and write it through merge.apply (the one
    write path), then commit. A new entry's id was drawn into the form, so posting the same
    form twice stores it once; an edit (`entry_id` given) is an update on `base_revision`.

    Also returns what was typed, in the payload's shape, to draw a refused form again."""
    op = "update" if entry_id is not None else "create"
    if entry_id is None:
        try:
            entry_id = parse_entry_id(str(one(form, "entry_id")))
        except ValueError:
            entry_id = new_entry_id()
    try:
        payload = kind.decode_form(form)
    except Rejected as exc:
        return entry_id, merge.Outcome(entry_id, "rejected", reason=exc.reason), kind.form(form)
    outcome = merge.apply(
        db,
        request.user,
        merge.Mutation(
            id=entry_id, op=op, kind=kind.name, payload=payload, base_revision=base_revision
        ),
    )
    db.commit()
    # as JSON would store it: student ids as string keys, dates as text (what templates read)
    return entry_id, outcome, msgspec.json.decode(msgspec.json.encode(payload))


def id_of(value: object) -> int | None:
    """A form's id (text or number) as an int, or None when it is not one."""
    if isinstance(value, list):
        value = value[-1] if value else None
    text = str(value).strip() if isinstance(value, str | int) and value is not True else ""
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID:
        return int(text)
    return None


def saved(request: HTMXRequest, entry_id: uuid.UUID) -> Redirect | ClientRedirect:
    """To my records, marked saved: 303 for a plain post; for htmx a client-side redirect
    (htmx would follow a 303 inside its request and swap the records page into the form)."""
    target = f"{request.app.route_reverse('my_records')}?saved={entry_id}"
    return ClientRedirect(target) if request.htmx else Redirect(target, status_code=303)


def stored(outcome: merge.Outcome) -> bool:
    return outcome.status in ("applied", "duplicate")


def refused(outcome: merge.Outcome) -> Template:
    """A refused record whose form cannot be drawn again (its room or class is gone)."""
    return Template(
        "error.html",
        context={"status": 422, "title": "无法保存", "message": outcome.reason},
        status_code=422,
    )
