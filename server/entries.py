"""What a kind of work record is made of, and the rules every kind's payload shares.

The kinds themselves are listed in `server/kinds.py`. Every entry, whether posted from a
form online or replayed from a phone's outbox, is decoded into its kind's payload Struct
(`Kind.decode`, `Kind.decode_form`: types, lengths, ranges and choices, with one Chinese
reason when it does not fit) and then goes through `server.sync.merge.apply`, which asks
the kind's `check` about scope and cross-field rules. `check` returns where the entry
belongs (room, class, department) or raises `Rejected` with a reason the user can read.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from server.models import Entry, Escalation, User

MAX_TEXT_CHARS = 2000  # a talk note longer than two pages is a mistake, not a note
MAX_ID = 2**31 - 1  # ids are PostgreSQL `integer` columns

# the field types payload Structs are made of
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
Text = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]


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
    """One kind of work record and everything about it (the registry is `server/kinds.py`).

    `payloads` maps each schema version to the msgspec Struct its payload decodes into; a
    version's meaning never changes (docs/sync.md). `form` maps the kind's HTML form fields to
    a payload-shaped dict of strings, converted into the same Struct, so the phone's outbox
    (which stores what the form posted) and the online form share one mapping. `check` gets
    the decoded Struct and keeps the rules a type cannot say (scope, cross-field rules); it
    returns where the entry belongs and the payload as stored.
    """

    name: str
    label: str  # shown in lists, Chinese
    payloads: dict[int, type[msgspec.Struct]]
    check: Callable[[Session, User, Any], Placement]
    form: Callable[[dict], dict]
    # payload field → Chinese name, for messages, the history page and exports; nested
    # fields as "concern.category"
    field_labels: dict[str, str]
    # the choices the form offers, by field (the Literal types are built from the same dicts)
    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    # before a batch of new entries is checked, with their decoded payloads: fetch in a few
    # queries what `check` would look up one by one, into the batch's memo (`remembered`)
    prepare: Callable[[Session, User, list], None] | None = None
    # runs after the entry row is written, inside the same transaction (escalations …)
    after_write: Callable[[Session, Written], None] = field(default=lambda db, written: None)
    # which weekly quotas an entry counts for (server/week.py); by default its kind's name
    counts_as: Callable[[dict], list[str]] | None = None
    # the work log (server/worklog.py): ids of the students an entry is about, and a one-line
    # Chinese description of the payload for lists and the Excel export
    students: Callable[[dict], set[int]] = field(default=lambda payload: set())
    summary: Callable[[dict], str] = field(default=lambda payload: "")
    # a kind's own words for a field that does not decode, instead of the generic message
    messages: dict[str, str] = field(default_factory=dict)
    # written with the shared record form (/records/new/<kind>) and edited by its author there
    record_form: bool = False
    # why its author may not change this entry now ('' when they may): a discipline case
    # under review; the edit form answers 403 with it (the write itself is refused by
    # `after_write`, on every path)
    locked: Callable[[Session, uuid.UUID], str] = field(default=lambda db, entry_id: "")
    # the route name of an entry's own page (a saved form goes there instead of 我的记录)
    page: str | None = None

    @property
    def schema_versions(self) -> tuple[int, ...]:
        return tuple(self.payloads)

    def facets(self, payload: dict) -> list[str]:
        return self.counts_as(payload) if self.counts_as else [self.name]

    def label_of(self, key: str) -> str:
        return self.field_labels.get(key, key)

    def decode(self, raw: object, version: int = 1, *, strict: bool = True) -> msgspec.Struct:
        """The payload as its Struct, or `Rejected` with one Chinese reason.

        JSON has types, so a payload is decoded strictly ("12" is not an id); a form's values
        are all text and are converted (`strict=False`)."""
        struct = self.payloads.get(version)
        if struct is None:
            raise Rejected(f"表单版本 {version} 已不受支持，请刷新页面后重新填写。")
        if not isinstance(raw, dict):
            raise Rejected("记录内容格式不正确。")
        cleaned = _cleaned(raw, self)
        try:
            return msgspec.convert(cleaned, struct, strict=strict, str_keys=True)
        except msgspec.ValidationError as exc:
            raise Rejected(validation_message(self, str(exc))) from None

    def decode_form(self, form: dict, version: int = 1) -> msgspec.Struct:
        """The HTML form's fields (strings; a repeated field is a list) as the payload Struct."""
        if not isinstance(form, dict):
            raise Rejected("表单内容格式不正确，请重新填写。")
        return self.decode(self.form(form), version, strict=False)


def one(form: dict, name: str, default: object = "") -> object:
    """A single form value: the last one when a field came twice (browsers send it once)."""
    value = form.get(name, default)
    if isinstance(value, list):
        return value[-1] if value else default
    return value


def many(form: dict, name: str) -> list:
    """A repeated form field (checkboxes, a multiple select) as a list."""
    value = form.get(name)
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def blank_is_none(value: object) -> object:
    return None if value in ("", None) else value


def flag(value: object) -> bool | object:
    """A checkbox: "on" when ticked (other truthy spellings from older phones too)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if value in (True, "on", "true", "1", "yes"):
        return True
    if value in (False, None, "", "off", "false", "0", "no"):
        return False
    return value  # anything else fails the bool field with a reason


# --- text and validation messages ------------------------------------------------------------

# C0 control characters Excel cannot store and a text field has no use for; \t \n \r stay
# (U+000B comes with text pasted from Word). NUL is refused instead: it is never typed.
_CONTROLS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_NESTING = 8  # a payload is at most three levels deep; more is not a record


def clean_text(value: str) -> str:
    return _CONTROLS.sub("", value).strip()


class _Unclean(Exception):
    """A payload `_clean_fast` cannot take: `_clean_strings` says why."""


def _cleaned(raw: dict, kind: Kind) -> object:
    """`_clean_strings` of a payload: first without keeping field paths (a phone's batch
    holds thousands of strings), again with them only to name what is refused."""
    try:
        return _clean_fast(raw, 0)
    except _Unclean:
        return _clean_strings(raw, kind, "", 0)


def _clean_fast(value: object, depth: int) -> object:
    if depth > MAX_NESTING:
        raise _Unclean
    kind = type(value)
    if kind is str:
        return _clean_text_fast(value)
    if kind is dict:
        depth += 1
        if depth > MAX_NESTING and value:
            raise _Unclean
        cleaned = {}
        for k, v in value.items():
            of = type(v)
            if of is str:  # most values: cleaned here, without a call per value
                if "\x00" in v:
                    raise _Unclean
                cleaned[k] = (v if v.isprintable() else _CONTROLS.sub("", v)).strip()
            elif of in _PLAIN:
                cleaned[k] = v
            else:
                cleaned[k] = _clean_fast(v, depth)
        return cleaned
    if kind is list:
        depth += 1
        if depth > MAX_NESTING and value:
            raise _Unclean
        return [
            _clean_text_fast(v)
            if type(v) is str
            else v
            if type(v) in _PLAIN
            else _clean_fast(v, depth)
            for v in value
        ]
    if isinstance(value, str | dict | list):  # a subclass: the careful way
        raise _Unclean
    return value


def _clean_text_fast(value: str) -> str:
    """`clean_text`, refusing NUL; a printable string has none of `_CONTROLS` to remove."""
    if "\x00" in value:
        raise _Unclean
    return (value if value.isprintable() else _CONTROLS.sub("", value)).strip()


_PLAIN = frozenset({int, float, bool, type(None)})  # JSON values with no strings in them


def _clean_strings(value: object, kind: Kind, path: str, depth: int) -> object:
    """Every string of the payload stripped of control characters; NUL refused."""
    if depth > MAX_NESTING:
        raise Rejected("记录内容嵌套太深，格式不正确。")
    if isinstance(value, str):
        if "\x00" in value:
            raise Rejected(f"{_label(kind, path)}含有不允许的字符（NUL），请删除后重试。")
        return clean_text(value)
    if isinstance(value, dict):
        return {
            k: _clean_strings(v, kind, f"{path}.{k}" if path else str(k), depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_clean_strings(v, kind, path, depth + 1) for v in value]
    return value


def _label(kind: Kind, path: str) -> str:
    """The Chinese name of a payload field: the nested one if listed, else its top field."""
    if path in kind.field_labels:
        return kind.field_labels[path]
    top = path.split(".")[0]
    if top in kind.field_labels:
        return kind.field_labels[top]
    return "内容" if not path else f"字段“{_shown_name(path)}”"


_AT = re.compile(r" - at `(?:key` in `)?\$\.?([^`]*)`$")
_FIELD_IN_MESSAGE = re.compile(r"field `([^`]*)`")


def _shown_name(name: str) -> str:
    """A field name the client made up, safe to echo and to store with the refusal."""
    return clean_text(name.replace("\x00", ""))[:40]


def validation_message(kind: Kind, message: str) -> str:
    """One Chinese sentence for a msgspec ValidationError ("谈话类别无效", "学生编号必须是整数")."""
    about_a_key = "`key` in" in message  # a dict key: the student ids of presence, marks
    found = _AT.search(message)
    path = ""
    if found:
        message = message[: found.start()]
        path = re.sub(r"\[[^\]]*\]", "", found.group(1))  # list positions, dict values
    named = _FIELD_IN_MESSAGE.search(message)
    if message.startswith("Object contains unknown field"):
        name = _shown_name(named.group(1)) if named else ""
        return f"无法识别的字段：{name}" if name else "有无法识别的字段。"
    if message.startswith("Object missing required field") and named:
        return f"请填写{_label(kind, f'{path}.{named.group(1)}' if path else named.group(1))}。"
    if path in kind.messages or path.split(".")[0] in kind.messages:
        return kind.messages.get(path) or kind.messages[path.split(".")[0]]
    label = _label(kind, path)
    is_id = about_a_key or path.split(".")[-1].endswith(("_id", "_ids"))
    expected = message.removeprefix("Expected `").split("`")[0].removesuffix(" | null")
    if message.startswith("Invalid enum value"):
        return f"{label}无效。"
    if expected == "int":
        if about_a_key:
            return (
                f"{label}里的学生编号必须是整数。"
                if "got" in message
                else f"{label}里的学生编号无效。"
            )
        if "got" in message:
            return f"{label}编号必须是整数。" if is_id else f"{label}必须是整数。"
        if is_id:
            return f"{label}编号无效。"
        bound = re.search(r"([<>]=) (-?\d+)", message)
        if bound:
            return f"{label}不能{'大' if bound.group(1) == '<=' else '小'}于 {bound.group(2)}。"
        return f"{label}超出范围。"
    if expected == "str":
        limit = re.search(r"length <= (\d+)", message)
        if limit:
            return f"{label}太长（最多 {limit.group(1)} 字）。"
        return f"{label}必须是文字。"
    if expected == "date" or "date" in message:
        return f"{label}格式不正确（例如 2026-03-02）。"
    if expected == "bool":
        return f"{label}只能选是或否。"
    if expected == "array":
        limit = re.search(r"length <= (\d+)", message)
        if limit:
            return f"{label}最多 {limit.group(1)} 项。"
    return f"{label}格式不正确。"


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

    `concern` is {"category", "note"} or None; one escalation per entry, an edit updates it.
    Deleting the entry leaves an open escalation open: a concern already reported to the office
    is not taken back by a deletion (the list marks it 记录已删除 with the reason); an edit that
    removes the concern withdraws it."""
    if entry.deleted:
        return
    if concern is None and entry.revision == 1:
        return  # a new entry without a concern: there is nothing to open or withdraw
    # a first revision was stored a moment ago, in this transaction: nothing refers to it yet
    existing = (
        None
        if entry.revision == 1
        else db.scalar(select(Escalation).where(Escalation.entry_id == entry.id))
    )
    if concern is None:
        if existing is not None and existing.status == "open":
            existing.status = "withdrawn"
        return
    if existing is None and entry.revision == 1:
        _open_escalation(db, entry, concern)
        return
    opened = existing is None
    if existing is None:
        existing = Escalation(
            entry_id=entry.id, room_id=entry.room_id, department_id=entry.department_id
        )
        db.add(existing)
    existing.category = concern["category"]
    existing.note = concern["note"]
    if existing.status != "closed":  # a closed escalation stays closed (server/escalations.py)
        existing.status = "open"
    if opened:  # the office hears of it, in this same transaction (server/notify.py)
        from server import notify

        db.flush()
        notify.queue(db, existing, "opened")


def _open_escalation(db: Session, entry: Written, concern: dict) -> None:
    """The escalation of a new entry and its notification, as two plain inserts on the
    session's connection (a phone's batch opens them among a hundred new rows; the ORM's
    flush of one object, even the session's handling of a core insert, cost more)."""
    from server import notify

    escalation_id = db.connection().execute(
        _NEW_ESCALATION,
        {"entry_id": entry.id, "room_id": entry.room_id, "department_id": entry.department_id,
         "category": concern["category"], "note": concern["note"], "status": "open"},
    ).scalar_one()  # fmt: skip
    notify.queue_new(db, escalation_id, entry.department_id, "opened")


_NEW_ESCALATION = insert(Escalation.__table__).returning(Escalation.__table__.c.id)
