"""Saving a record form posted online: shared by every form that writes an entry (dorm
visits, attendance checks, the guideline's records), so all take the offline sync's path."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import clock
from server.entries import MAX_ID, Kind, Rejected, one
from server.flash import flash
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
        recorded_at = occurred_at(form) if op == "create" else None
    except Rejected as exc:
        return entry_id, merge.Outcome(entry_id, "rejected", reason=exc.reason), kind.form(form)
    outcome = merge.apply(
        db,
        request.user,
        merge.Mutation(
            id=entry_id,
            op=op,
            kind=kind.name,
            payload=payload,
            base_revision=base_revision,
            recorded_at=recorded_at,
        ),
    )
    db.commit()
    # as JSON would store it: student ids as string keys, dates as text (what templates read)
    return entry_id, outcome, msgspec.json.decode(msgspec.json.encode(payload))


OCCURRED_FIELD = "_recorded_at"  # 时间 on talks and parent contacts; the outbox reads it too


def occurred_at(form: dict) -> datetime | None:
    """When the talk or contact took place, typed in the form (the college's wall clock,
    `YYYY-MM-DDTHH:MM` from a datetime-local input); None when the form has no such field
    or it was left at "now" (app.js drops it then). It becomes the entry's `recorded_at`,
    as the outbox's value does, so merge's time checks (not in the future, at most 30 days
    back) decide for both."""
    text = str(one(form, OCCURRED_FIELD) or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected("时间无效，请重新选择日期和时间。") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.COLLEGE_TZ)
    if not date(2000, 1, 1) <= moment.date() <= date(2099, 12, 31):
        raise Rejected("时间无效，请重新选择日期和时间。")
    # merge checks the same bounds again; here the reason names the typed time, not the phone's clock
    now = clock.now()
    if moment > now + merge.MAX_AHEAD:
        raise Rejected("时间不能晚于现在，请重新选择。")
    if moment < now - merge.MAX_BEHIND:
        raise Rejected(
            f"时间不能早于 {merge.MAX_BEHIND.days} 天前：更早的记录请联系系部负责人补录。"
        )
    return moment


def id_of(value: object) -> int | None:
    """A form's id (text or number) as an int, or None when it is not one."""
    if isinstance(value, list):
        value = value[-1] if value else None
    text = str(value).strip() if isinstance(value, str | int) and value is not True else ""
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID:
        return int(text)
    return None


def saved(
    request: HTMXRequest, entry_id: uuid.UUID, kind: Kind | None = None
) -> Redirect | ClientRedirect:
    """To my records, marked saved (or to the entry's own page, for a kind that has one):
    303 for a plain post; for htmx a client-side redirect (htmx would follow a 303 inside
    its request and swap the records page into the form)."""
    if kind is not None and kind.page:
        target = request.app.route_reverse(kind.page, entry_id=entry_id)
    else:
        target = f"{request.app.route_reverse('my_records')}?saved={entry_id}"
    flash(request, "已保存。")
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
