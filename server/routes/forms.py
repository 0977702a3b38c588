"""Saving a record form posted online: shared by every form that writes an entry (dorm
visits, attendance checks, the guideline's records), so all take the offline sync's path."""

from __future__ import annotations

import uuid

from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server.sync import merge
from server.sync.ids import new_entry_id, parse_entry_id


def save(
    request: HTMXRequest, db: Session, kind: str, payload: dict, form: dict
) -> tuple[uuid.UUID, merge.Outcome]:
    """Write the entry through merge.apply (the one write path) and commit. The entry id was
    drawn into the form, so posting the same form twice stores it once."""
    try:
        entry_id = parse_entry_id(form.get("entry_id", ""))
    except ValueError:
        entry_id = new_entry_id()
    outcome = merge.apply(
        db, request.user, merge.Mutation(id=entry_id, op="create", kind=kind, payload=payload)
    )
    db.commit()
    return entry_id, outcome


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
