"""Kinds of work record and the rules each kind's payload must keep.

Every entry, whether posted from a form online or replayed from a phone's outbox, goes
through `server.sync.merge.apply`, which asks the kind registered here to check the
payload and the user's scope. A kind's `check` returns where the entry belongs (room,
class, department) or raises `Rejected` with a reason the user can read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Entry, Escalation, User

MAX_TEXT_CHARS = 2000  # a talk note longer than two pages is a mistake, not a note


class Rejected(Exception):
    """The entry can never be accepted as sent; `reason` is shown to the user (Chinese)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Placement:
    """A checked payload and where its entry belongs."""

    payload: dict
    room_id: int | None = None
    class_id: int | None = None
    department_id: int | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """An entry as just stored, as a kind's `after_write` sees it (a batch writes rows, not
    ORM objects, so both write paths hand over this view)."""

    id: uuid.UUID
    revision: int
    deleted: bool
    payload: dict
    author_id: int
    department_id: int | None = None
    room_id: int | None = None
    class_id: int | None = None

    @classmethod
    def of(cls, entry: Entry) -> Written:
        return cls(
            entry.id, entry.revision, entry.deleted, entry.payload, entry.author_id,
            entry.department_id, entry.room_id, entry.class_id,
        )  # fmt: skip


@dataclass
class Kind:
    name: str
    label: str  # shown in lists, Chinese
    check: Callable[[Session, User, dict], Placement]
    # runs after the entry row is written, inside the same transaction (escalations …)
    after_write: Callable[[Session, Written], None] = field(default=lambda db, written: None)
    schema_versions: tuple[int, ...] = (1,)
    # maps the fields of the kind's HTML form to its payload: the phone's outbox stores what
    # the form posted and the server maps it, so the mapping exists once
    from_form: Callable[[dict], dict] | None = None
    # which weekly quotas an entry counts for (server/week.py); by default its kind's name
    counts_as: Callable[[dict], list[str]] | None = None

    def facets(self, payload: dict) -> list[str]:
        return self.counts_as(payload) if self.counts_as else [self.name]

    # the work log (server/worklog.py): ids of the students an entry is about, and a one-line
    # Chinese description of the payload for lists and the Excel export
    students: Callable[[dict], set[int]] = field(default=lambda payload: set())
    summary: Callable[[dict], str] = field(default=lambda payload: "")


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise Rejected(f"未知的记录类型：{name}") from None


def text(payload: dict, key: str, *, label: str) -> str:
    value = payload.get(key) or ""
    if not isinstance(value, str):
        raise Rejected(f"{label}格式不正确。")
    value = value.strip()
    if len(value) > MAX_TEXT_CHARS:
        raise Rejected(f"{label}太长（最多 {MAX_TEXT_CHARS} 字）。")
    return value


@contextmanager
def batch_memo(db: Session) -> Iterator[None]:
    """While a batch is applied, `remembered` answers a repeated lookup from memory.

    A phone's batch names the same few rooms and classes again and again; their scope and
    residents do not change within one request's transaction."""
    db.info["batch_memo"] = {}
    try:
        yield
    finally:
        db.info.pop("batch_memo", None)


def remembered(db: Session, key: tuple, look_up: Callable[[], Any]) -> Any:
    """`look_up()`, or its answer from earlier in the same batch (see `batch_memo`)."""
    memo = db.info.get("batch_memo")
    if memo is None:
        return look_up()
    if key not in memo:
        memo[key] = look_up()
    return memo[key]


def keep_escalation(db: Session, entry: Written, concern: dict | None) -> None:
    """Open, update or withdraw the escalation of an entry (§2.7.2: what the writer cannot
    resolve goes at once to the student affairs office and the department leader).

    `concern` is {"category", "note"} or None; one escalation per entry, an edit updates it."""
    if entry.deleted:
        concern = None
    if concern is None and entry.revision == 1:
        return  # a new entry without a concern: there is nothing to open or withdraw
    existing = db.scalar(select(Escalation).where(Escalation.entry_id == entry.id))
    if concern is None:
        if existing is not None and existing.status == "open":
            existing.status = "withdrawn"
        return
    if existing is None:
        existing = Escalation(
            entry_id=entry.id, room_id=entry.room_id, department_id=entry.department_id
        )
        db.add(existing)
    existing.category = concern["category"]
    existing.note = concern["note"]
    existing.status = "open"
