"""Kinds of work record and the rules each kind's payload must keep.

Every entry, whether posted from a form online or replayed from a phone's outbox, goes
through `server.sync.merge.apply`, which asks the kind registered here to check the
payload and the user's scope. A kind's `check` returns where the entry belongs (room,
class, department) or raises `Rejected` with a reason the user can read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.models import Entry, User

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


@dataclass
class Kind:
    name: str
    label: str  # shown in lists, Chinese
    check: Callable[[Session, User, dict], Placement]
    # runs after the entry row is written, inside the same transaction (escalations …)
    after_write: Callable[[Session, Entry], None] = field(default=lambda db, entry: None)
    schema_versions: tuple[int, ...] = (1,)
    # maps the fields of the kind's HTML form to its payload: the phone's outbox stores what
    # the form posted and the server maps it, so the mapping exists once
    from_form: Callable[[dict], dict] | None = None


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
