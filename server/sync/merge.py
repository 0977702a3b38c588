"""Merge rules: the one code path that writes an entry, online form or offline replay.

A mutation creates, updates or deletes one entry. The answer is one of:

- applied    the change is stored (new revision);
- duplicate  nothing to do: the same id with the same content is already there;
- conflict   the server keeps its version; the incoming one is not applied
             (an edit based on an old revision, or a create reusing an id with other content);
- rejected   the entry can never be accepted (validation or scope); a reason in Chinese.

Each mutation runs in its own savepoint, so one bad entry never blocks the rest of a batch.
A conflict keeps the losing version in `conflicts` for its author, once it has passed the
kind's checks, and at most MAX_OPEN_CONFLICTS of them per entry. A phone numbers its
mutations; the same number with the same entry and content is answered from
`device_mutations` without redoing it, the same number with anything else is `rejected`
(设备序号重复), never a duplicate: the phone keeps what the server never stored.

The server stamps each new entry with its own clock (`received_at`); a phone's
`recorded_at` too far ahead of it or too far back is rejected (docs/sync.md, "Times").

A phone's batch (`apply_batch`) gives the same answers as applying its mutations one by one,
in far fewer statements: the creates of new entries, the bulk of any replay, are checked in
Python against lookups made once per batch and inserted together; everything else (edits,
deletes, retries, a create racing another request) takes the one-by-one path.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    String,
    Text,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from server import clock, photos
from server.entries import Kind, Placement, Rejected, Written, batch_memo
from server.kinds import kind_of
from server.models import (
    ChangeCounter,
    Conflict,
    DeviceMutation,
    EncodedJSON,
    Entry,
    EntryRevision,
    User,
)

log = logging.getLogger(__name__)

MAX_AHEAD = timedelta(minutes=10)  # a phone clock this far ahead of the server's is wrong
MAX_BEHIND = timedelta(days=30)  # older than this is no longer accepted from a phone
MAX_OPEN_CONFLICTS = 5  # unresolved losing versions kept per entry; a sixth is refused
MAX_CONFLICT_BYTES = 64 * 1024  # a kept losing version, as JSON (a real record is a few KiB)
REUSED_NUMBER = "设备序号重复：这条记录没有保存，请重新填写。"
MAX_REASON_CHARS = 500  # a deletion's reason: a sentence or two

Op = Literal["create", "update", "delete"]
# what the phone is told when its entry broke something on the server: it stops retrying
# and shows the entry, and the log has the exception with the entry id
FAILED = "服务器无法保存这条记录（已记录错误），请联系管理员。"
# SQLSTATEs after which the whole transaction must be retried, not one entry refused:
# serialization failure, deadlock, lock not available
RETRY_SQLSTATES = {"40001", "40P01", "55P03"}
Status = Literal["applied", "duplicate", "conflict", "rejected"]


@dataclass
class Mutation:
    id: uuid.UUID
    op: Op
    kind: str
    # the kind's decoded payload Struct (sync/api.py and the forms decode before merging);
    # a plain dict is decoded here (conflicts kept earlier, tests)
    payload: Any = field(default_factory=dict)
    base_revision: int | None = None  # for update/delete: the revision the edit started from
    schema_version: int = 1
    recorded_at: datetime | None = None
    device_id: str | None = None  # the phone that wrote it, with its own mutation number
    mutation_no: int | None = None
    received_at: datetime | None = None  # the server's clock when it arrived; None: now
    reason: str | None = None  # for delete: why (required, kept with the deleting revision)


@dataclass
class Outcome:
    id: uuid.UUID
    status: Status
    revision: int | None = None
    reason: str | None = None


def apply(db: Session, user: User, mutation: Mutation) -> Outcome:
    """Apply one mutation inside a savepoint; the caller commits.

    Whatever goes wrong with this one mutation — a rule, a database error, a bug — ends as
    its `rejected` with a reason, and its savepoint is rolled back so nothing of it stays;
    only errors after which the whole transaction must be retried are raised."""
    # this one may take a change number, or give one back with its savepoint: the counter's
    # value is read again after the batch
    db.info.pop(COUNTER_AFTER, None)
    seen = _seen_before(db, mutation)
    if seen is not None:
        return seen
    for attempt in (1, 2):
        try:
            with db.begin_nested():
                outcome = _apply(db, user, mutation)
                if outcome.status == "conflict":
                    _keep_conflict(db, user, mutation, outcome)
                _remember(db, user, mutation, outcome)
            break
        except Rejected as exc:
            outcome = Outcome(mutation.id, "rejected", reason=exc.reason)
            _remember_refusal(db, user, mutation, outcome)
            break
        except IntegrityError:
            # another request created the same entry (or sent the same mutation) a moment
            # ago and has committed: the second try sees its row and answers duplicate
            if attempt == 2:
                log.exception("entry %s: stored twice, refused", mutation.id)
                outcome = Outcome(mutation.id, "rejected", reason=FAILED)
                _remember_refusal(db, user, mutation, outcome)
                break
            seen = _seen_before(db, mutation)
            if seen is not None:
                return seen
        except Exception as exc:
            if must_retry(exc):
                raise
            log.exception("entry %s: refused after an error", mutation.id)
            outcome = Outcome(mutation.id, "rejected", reason=FAILED)
            _remember_refusal(db, user, mutation, outcome)
            break
    return outcome


# db.info key: the change counter's value as this transaction will commit it, when a batch's
# creates were the last to take numbers (sync/api.py answers it as the push's cursor)
COUNTER_AFTER = "change_counter_after"


def must_retry(exc: BaseException) -> bool:
    """A database error that dooms the whole transaction (the request answers 5xx and the
    phone sends the batch again), as opposed to one entry the database cannot take."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


def _remember_refusal(db: Session, user: User, m: Mutation, outcome: Outcome) -> None:
    """Keep a refusal for a resend; if even that fails, the answer still goes back."""
    try:
        with db.begin_nested():
            _remember(db, user, m, outcome)
    except Exception as exc:
        if must_retry(exc):
            raise
        log.exception("entry %s: refusal not remembered", m.id)


def _as_stored(payload: Any) -> dict:
    """A payload as JSON stores it (a decoded Struct back to plain values)."""
    if isinstance(payload, msgspec.Struct):
        return msgspec.to_builtins(payload)
    return payload if isinstance(payload, dict) else {}


def decoded(kind: Kind, m: Mutation) -> msgspec.Struct:
    """The mutation's payload as its kind's Struct (decoded here unless it already was)."""
    if isinstance(m.payload, kind.payloads.get(m.schema_version, ())):
        return m.payload
    if isinstance(m.payload, msgspec.Struct):  # decoded for another kind or version
        return kind.decode(msgspec.to_builtins(m.payload), m.schema_version)
    return kind.decode(m.payload, m.schema_version)


def apply_batch(db: Session, user: User, mutations: list[Mutation]) -> list[Outcome]:
    """Apply a batch in order, one outcome per mutation; the caller commits.

    The answers are those of `apply` called on each mutation in turn. Creates of ids the
    server has not seen go first, together; they cannot depend on anything else in the batch
    (each is the first mention of its id and of its mutation number), and everything that
    mentions one of them again comes later in the batch and takes the one-by-one path after.
    """
    outcomes: dict[int, Outcome] = {}
    db.info.pop(COUNTER_AFTER, None)
    with batch_memo(db):
        fresh = _fresh_creates(db, mutations)
        if fresh:
            try:
                with db.begin_nested():
                    outcomes.update(_create_together(db, user, fresh))
                    last = db.info.pop("batch_last_number", None)
                if last is not None:  # kept: the counter row stays locked until commit
                    db.info[COUNTER_AFTER] = last
            except IntegrityError:
                # another request stored one of these ids or numbers a moment ago: the
                # one-by-one path answers it as a retry
                outcomes.clear()
            except Exception as exc:
                if must_retry(exc):
                    raise
                # one of the creates broke the bulk insert: the one-by-one path finds it
                # and refuses only that one
                log.warning("batch insert failed, applying one by one", exc_info=True)
                outcomes.clear()
        for position, mutation in enumerate(mutations):
            if position not in outcomes:
                outcomes[position] = apply(db, user, mutation)
    return [outcomes[position] for position in range(len(mutations))]


def _fresh_creates(db: Session, mutations: list[Mutation]) -> dict[int, Mutation]:
    """The creates that are the first mention of a new id and of an unseen mutation number.

    A number seen before, or used twice in the batch, goes the one-by-one way, where
    `_seen_before` tells a resend (duplicate) from a reused number (rejected)."""
    connection = db.connection()  # nothing of this batch is pending in the session yet
    ids = list({m.id for m in mutations})
    numbers: dict[str, set[int]] = {}
    for m in mutations:
        if m.device_id is not None and m.mutation_no is not None:
            numbers.setdefault(m.device_id, set()).add(m.mutation_no)
    stored, seen = set(), set()
    if len(numbers) == 1:  # one phone per push: both lookups in one statement
        [(device_id, device_numbers)] = numbers.items()
        values = {"ids": _id_array(connection, ids), "device_id": device_id,
                  "numbers": list(device_numbers), "lowest": min(device_numbers),
                  "highest": max(device_numbers)}  # fmt: skip
        if connection.dialect.name == "sqlite":
            values["numbers"] = msgspec.json.encode(values["numbers"]).decode()
        for entry_id, number in connection.execute(
            _STORED_OR_SEEN[connection.dialect.name], values
        ):
            if number is None:
                stored.add(entry_id)
            else:
                seen.add((device_id, number))
    else:
        stored.update(connection.scalars(_STORED_IDS, {"ids": ids}))
        for device_id, device_numbers in numbers.items():
            seen.update(
                (device_id, number)
                for number in connection.scalars(
                    _SEEN_NUMBERS, {"device_id": device_id, "numbers": list(device_numbers)}
                )
            )
    fresh: dict[int, Mutation] = {}
    mentioned: set = set()
    for position, m in enumerate(mutations):
        number = (m.device_id, m.mutation_no) if m.mutation_no is not None else None
        if (
            m.op == "create"
            and m.id not in stored
            and m.id not in mentioned
            and (number is None or (number not in seen and number not in mentioned))
        ):
            fresh[position] = m
        mentioned.add(m.id)
        if number is not None:
            mentioned.add(number)
    return fresh


def _create_together(db: Session, user: User, fresh: dict[int, Mutation]) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    checked: list[tuple[int, Mutation, Kind, Placement]] = []
    _prepare(db, user, fresh.values())
    for position, m in fresh.items():
        try:
            kind, placement = _checked(db, user, m)
        except Rejected as exc:
            outcomes[position] = Outcome(m.id, "rejected", reason=exc.reason)
        else:
            checked.append((position, m, kind, placement))

    numbers = next_change_numbers(db, len(checked)) if checked else range(0)
    db.info["batch_last_number"] = numbers[-1] if checked else None
    rows = [
        _new_row(user, m, kind, placement, seq)
        for (_, m, kind, placement), seq in zip(checked, numbers, strict=True)
    ]
    for row in rows:  # in C (models.EncodedJSON)
        row["document"] = msgspec.json.encode(row["payload"])
    # core inserts of plain rows: building ORM objects cost more than the inserts themselves
    connection = db.connection()
    if rows:
        connection.execute(_INSERT_ENTRIES, rows)
        # the first revisions copied from the rows just inserted, by the database: on
        # PostgreSQL one statement instead of an INSERT a row, and no payload sent twice
        connection.execute(
            _FIRST_REVISIONS[connection.dialect.name],
            {"ids": _id_array(connection, [r["id"] for r in rows])},
        )
    for (position, m, kind, _), row in zip(checked, rows, strict=True):
        written = Written(
            id=row["id"], revision=1, deleted=False, payload=row["payload"], author_id=user.id,
            department_id=row["department_id"], room_id=row["room_id"], class_id=row["class_id"],
        )  # fmt: skip
        kind.after_write(db, written)
        outcomes[position] = Outcome(m.id, "applied", revision=1)

    remembered = [
        _device_row(user, m, outcomes[position])
        for position, m in fresh.items()
        if m.device_id is not None and m.mutation_no is not None
    ]
    if remembered:
        if connection.dialect.name == "postgresql":
            columns = {name: [r[name] for r in remembered] for name in _DEVICE_COLUMNS}
            connection.execute(_INSERT_DEVICE_ROWS_UNNESTED, columns)
        else:
            connection.execute(_INSERT_DEVICE_ROWS, remembered)
    db.flush()
    return outcomes


def _prepare(db: Session, user: User, mutations) -> None:
    """Let each kind fetch what its checks of these creates need, once for the batch."""
    by_kind: dict[str, tuple[Kind, list]] = {}
    for m in mutations:
        try:
            kind = kind_of(m.kind)
            if kind.prepare is not None:
                by_kind.setdefault(kind.name, (kind, []))[1].append(decoded(kind, m))
        except Rejected:  # refused by its own check, with the reason, a moment later
            continue
    for kind, payloads in by_kind.values():
        kind.prepare(db, user, payloads)


def _seen_before(db: Session, m: Mutation) -> Outcome | None:
    """A mutation number this phone has sent before: answer what was answered then.

    Only a resend is answered from memory: the same entry id with the same content. An
    applied one is now a duplicate; a rejected or conflicting one keeps its status and
    reason, so a phone that lost the first answer still shows the user why. The same number
    with another entry or other content is a phone that reused a number: rejected, so the
    phone keeps it, and told nothing about what was first sent under that number.
    """
    if m.device_id is None or m.mutation_no is None:
        return None
    seen = db.get(DeviceMutation, (m.device_id, m.mutation_no))
    if seen is None:
        return None
    if seen.entry_id != m.id or (seen.digest is not None and seen.digest != mutation_digest(m)):
        return Outcome(m.id, "rejected", reason=REUSED_NUMBER)
    status = "duplicate" if seen.status in ("applied", "duplicate") else seen.status
    return Outcome(m.id, status, revision=seen.revision, reason=seen.reason)


def mutation_digest(m: Mutation) -> str:
    """What a numbered mutation carried, to tell a resend from a reused number."""
    carried = [m.op, m.kind, m.payload, m.base_revision, m.schema_version]
    if m.op == "delete":  # only deletes carry a reason: other digests stay as they were
        carried.append(m.reason)
    sent = msgspec.to_builtins(carried, str_keys=True)  # payloads may hold int-keyed maps
    return hashlib.sha256(msgspec.json.encode(sent, order="sorted")).hexdigest()


def _remember(db: Session, user: User, m: Mutation, outcome: Outcome) -> None:
    if m.device_id is None or m.mutation_no is None:
        return
    db.add(DeviceMutation(**_device_row(user, m, outcome)))
    db.flush()


def _device_row(user: User, m: Mutation, outcome: Outcome) -> dict:
    """What is kept of a numbered mutation, to answer it again if the phone resends it."""
    return {
        "device_id": m.device_id,
        "mutation_no": m.mutation_no,
        "entry_id": m.id,
        "status": outcome.status,
        "revision": outcome.revision,
        "reason": outcome.reason,
        "author_id": user.id,
        "digest": mutation_digest(m),
    }


def next_change_number(db: Session) -> int:
    return next_change_numbers(db, 1)[0]


def next_change_numbers(db: Session, count: int) -> range:
    """`count` consecutive change numbers. The counter row stays locked until commit, so
    numbers are handed out in commit order and a pull never skips a change."""
    # on the session's connection: through the session, the ORM's bulk-update machinery
    # (autoflush, synchronising the identity map) took longer than the statement; the
    # callers flush what they write after it
    last = db.connection().execute(_NEXT_NUMBERS, {"count": count}).scalar_one()
    return range(last - count + 1, last + 1)


# statements of every push, built once (building one cost more than running it)
_NEXT_NUMBERS = (
    update(ChangeCounter)
    .where(ChangeCounter.id == 1)
    .values(value=ChangeCounter.value + bindparam("count"))
    .returning(ChangeCounter.value)
)
_STORED_IDS = select(Entry.id).where(Entry.id.in_(bindparam("ids", expanding=True)))
_SEEN_NUMBERS = select(DeviceMutation.mutation_no).where(
    DeviceMutation.device_id == bindparam("device_id"),
    DeviceMutation.mutation_no.in_(bindparam("numbers", expanding=True)),
)


def _stored_or_seen(ids, numbers):
    """(entry id, None) for each stored id, (None, number) for each number seen: one round
    trip for both lookups of a batch."""
    return union_all(
        select(Entry.id, cast(null(), BigInteger)).where(ids),
        select(cast(null(), Uuid), DeviceMutation.mutation_no).where(
            DeviceMutation.device_id == bindparam("device_id"), numbers
        ),
    )


def _id_array(connection, ids: list[uuid.UUID]):
    """Entry ids as one array parameter: a list on PostgreSQL, JSON text on SQLite (of the
    32 hex digits the ids are stored as)."""
    if connection.dialect.name == "sqlite":
        return msgspec.json.encode([i.hex for i in ids]).decode()
    return ids


def _json_array(name: str):
    """SQLite: the values of a JSON array parameter, as a subquery."""
    return select(func.json_each(bindparam(name, type_=String)).table_valued("value").c.value)


# two array parameters (one statement for every batch size) instead of 200 parameters: on
# SQLite, rendering and binding those took four times as long as the JSON arrays
_STORED_OR_SEEN = {
    "postgresql": _stored_or_seen(
        Entry.id == any_(bindparam("ids", type_=ARRAY(Uuid))),
        and_(
            DeviceMutation.mutation_no == any_(bindparam("numbers", type_=ARRAY(BigInteger))),
            # bounds PostgreSQL takes into the index scan: with the array alone it read every
            # number the device had ever sent and filtered them (3 ms a batch at 10,000)
            DeviceMutation.mutation_no.between(bindparam("lowest"), bindparam("highest")),
        ),
    ),
    "sqlite": _stored_or_seen(
        Entry.id.in_(_json_array("ids")), DeviceMutation.mutation_no.in_(_json_array("numbers"))
    ),
}
# the payload as the bytes of msgspec.json.encode, in the parameter "document" (the rows'
# "payload", the dict, is left for after_write)
_INSERT_ENTRIES = insert(Entry.__table__).values(payload=bindparam("document", type_=EncodedJSON()))


def _first_revisions(ids):
    """Revision 1 of each entry named, as the entry row stands."""
    columns = ["entry_id", "revision", "payload", "deleted", "author_id", "reason"]
    return insert(EntryRevision.__table__).from_select(
        columns,
        select(
            Entry.id, literal(1, Integer), Entry.payload, false(), Entry.author_id,
            literal("", Text),
        ).where(ids),
    )  # fmt: skip


_FIRST_REVISIONS = {
    "postgresql": _first_revisions(Entry.id == any_(bindparam("ids", type_=ARRAY(Uuid)))),
    "sqlite": _first_revisions(Entry.id.in_(_json_array("ids"))),
}
_INSERT_DEVICE_ROWS = insert(DeviceMutation.__table__)
_DEVICE_COLUMNS = (
    "device_id", "mutation_no", "entry_id", "status", "revision", "reason", "author_id", "digest"
)  # fmt: skip


def _unnested_insert(table, columns):
    """PostgreSQL: rows as one INSERT … SELECT FROM unnest(an array per column). psycopg's
    executemany sends one INSERT a row (pipelined), which the server runs one by one."""
    arrays = [bindparam(name, type_=ARRAY(table.c[name].type)) for name in columns]
    rows = func.unnest(*arrays).table_valued(*columns).render_derived()
    return insert(table).from_select(list(columns), select(*rows.c))


_INSERT_DEVICE_ROWS_UNNESTED = _unnested_insert(DeviceMutation.__table__, _DEVICE_COLUMNS)


def _checked(db: Session, user: User, m: Mutation) -> tuple[Kind, Placement]:
    kind = kind_of(m.kind)
    payload = decoded(kind, m)
    _check_times(m)
    return kind, kind.check(db, user, payload)


def _received(m: Mutation) -> datetime:
    if m.received_at is None:
        # one reading: the check and the stamp agree; in UTC, as it is read three times
        m.received_at = clock.now().astimezone(UTC)
    return _utc(m.received_at)


def _check_times(m: Mutation) -> None:
    """A new entry's phone time must be plausible against the server's clock."""
    if m.recorded_at is None:  # online forms: the server's time is the record's time
        return
    recorded, received = _utc(m.recorded_at), _received(m)
    if recorded > received + MAX_AHEAD:
        raise Rejected("记录时间晚于服务器时间 10 分钟以上，请检查手机的日期和时间后重新填写。")
    if recorded < received - MAX_BEHIND:
        raise Rejected("记录时间在 30 天以前，已不能通过手机补录，请联系系部负责人。")


def _new_row(user: User, m: Mutation, kind: Kind, placement: Placement, seq: int) -> dict:
    """The columns of a new entry (first revision)."""
    return {
        "id": m.id,
        "kind": kind.name,
        "author_id": user.id,
        "department_id": placement.department_id
        if placement.department_id is not None
        else user.department_id,
        "room_id": placement.room_id,
        "class_id": placement.class_id,
        "payload": placement.payload,
        "schema_version": m.schema_version,
        "recorded_at": _utc(m.recorded_at) if m.recorded_at else _received(m),
        "received_at": _received(m),
        "revision": 1,
        "deleted": False,
        "seq": seq,
    }


def _utc(moment: datetime) -> datetime:
    """Stored in UTC: SQLite keeps the wall time of whatever offset it is given."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _apply(db: Session, user: User, m: Mutation) -> Outcome:
    kind = kind_of(m.kind)
    if m.op != "delete":
        payload = decoded(kind, m)
    entry = db.get(Entry, m.id, with_for_update=True)

    if m.op == "create":
        if entry is not None:
            return _repeat_of_create(db, user, entry, m)
        _check_times(m)
        placement = kind.check(db, user, payload)
        entry = Entry(**_new_row(user, m, kind, placement, next_change_number(db)))
        db.add(entry)
        db.flush()
        _keep_revision(db, entry, user)
        kind.after_write(db, Written.of(entry))
        return Outcome(m.id, "applied", revision=1)

    if entry is None or entry.kind != kind.name:
        raise Rejected("要修改的记录不存在。")
    if entry.author_id != user.id:
        raise Rejected("只有记录的填写人可以修改或删除它。")

    if m.op == "update":
        placement = kind.check(db, user, payload)
        if entry.revision != m.base_revision:
            if not entry.deleted and entry.payload == placement.payload:
                return Outcome(m.id, "duplicate", revision=entry.revision)
            return Outcome(
                m.id,
                "conflict",
                revision=entry.revision,
                reason="这条记录已在别处被修改，服务器上的版本已保留。",
            )
        entry.payload = placement.payload
        entry.room_id, entry.class_id = placement.room_id, placement.class_id
        entry.deleted = False
    elif m.op == "delete":
        reason = deletion_reason(m.reason)
        if entry.deleted:
            return Outcome(m.id, "duplicate", revision=entry.revision)
        if entry.revision != m.base_revision:
            return Outcome(
                m.id, "conflict", revision=entry.revision, reason="这条记录已在别处被修改，未删除。"
            )
        entry.deleted = True
        photos.drop_for_entry(db, entry.id)  # evidence goes with the record
    else:
        raise Rejected(f"未知的操作：{m.op}")

    entry.revision += 1
    entry.updated_at = datetime.now(UTC)
    entry.seq = next_change_number(db)
    db.flush()
    _keep_revision(db, entry, user, reason=reason if m.op == "delete" else "")
    kind.after_write(db, Written.of(entry))
    return Outcome(m.id, "applied", revision=entry.revision)


def deletion_reason(text: str | None) -> str:
    """A deletion's reason, tidied; `Rejected` when there is none or it is too long."""
    reason = "".join(c for c in (text or "") if c >= " " or c in "\t\n").strip()
    if not reason:
        raise Rejected("删除记录需要填写原因。")
    if len(reason) > MAX_REASON_CHARS:
        raise Rejected(f"删除原因太长（最多 {MAX_REASON_CHARS} 字）。")
    return reason


def _repeat_of_create(db: Session, user: User, entry: Entry, m: Mutation) -> Outcome:
    """A create for an id that exists: a retry when the content matches what was first stored,
    a conflict when its author sent other valid content; anyone else's is refused."""
    if entry.author_id != user.id or entry.kind != m.kind:
        # nothing is parked against someone else's record, nor said about it
        raise Rejected("这条记录的编号已被占用，没有保存，请重新填写。")
    first = db.scalar(
        select(EntryRevision.payload).where(
            EntryRevision.entry_id == entry.id, EntryRevision.revision == 1
        )
    )
    kind = kind_of(m.kind)
    try:
        incoming = kind.check(db, user, decoded(kind, m)).payload
    except Rejected:  # scope may have changed since the first send: compare as sent
        if _as_stored(m.payload) == first:
            return Outcome(m.id, "duplicate", revision=entry.revision)
        raise  # invalid content is never kept, not even as a losing version
    if incoming == first:
        return Outcome(m.id, "duplicate", revision=entry.revision)
    return Outcome(
        m.id,
        "conflict",
        revision=entry.revision,
        reason="同一编号的记录已存在且内容不同，服务器上的版本已保留。",
    )


def _keep_conflict(db: Session, user: User, m: Mutation, outcome: Outcome) -> None:
    """Keep the losing version for its author, as the kind's checks left it.

    Only the entry's author gets here (anyone else is rejected first). Bounded: a version over
    MAX_CONFLICT_BYTES, or a sixth unresolved one for the entry, is refused instead (the
    newest waits on the phone, shown with the reason; nothing kept is ever dropped)."""
    kind = kind_of(m.kind)
    if m.op == "delete":  # the losing deletion keeps its reason, to be applied later
        payload = {"reason": deletion_reason(m.reason)}
    else:
        payload = _as_stored(kind.check(db, user, decoded(kind, m)).payload)
    if len(msgspec.json.encode(payload)) > MAX_CONFLICT_BYTES:
        raise Rejected("这条记录内容过大，无法保留为冲突版本。")
    open_conflicts = db.scalar(
        select(func.count())
        .select_from(Conflict)
        .where(Conflict.entry_id == m.id, Conflict.resolved.is_(False))
    )
    if open_conflicts >= MAX_OPEN_CONFLICTS:
        raise Rejected(
            f"这条记录已有 {MAX_OPEN_CONFLICTS} 个待处理的冲突版本，请先处理冲突后再修改。"
        )
    db.add(
        Conflict(
            entry_id=m.id,
            author_id=user.id,
            op=m.op,
            payload=payload,
            base_revision=m.base_revision,
            server_revision=outcome.revision,
            device_id=m.device_id,
        )
    )


def _keep_revision(db: Session, entry: Entry, user: User, *, reason: str = "") -> None:
    db.add(
        EntryRevision(
            entry_id=entry.id,
            revision=entry.revision,
            payload=entry.payload,
            deleted=entry.deleted,
            author_id=user.id,
            reason=reason,
        )
    )
