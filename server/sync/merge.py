"""Merge rules: the one code path that writes an entry, online form or offline replay.

A mutation creates, updates or deletes one entry. The answer is one of:

- applied    the change is stored (new revision);
- duplicate  nothing to do: the same id with the same content is already there;
- conflict   the server keeps its version; the incoming one is not applied
             (an edit based on an old revision, or a create reusing an id with other content);
- rejected   the entry can never be accepted (validation or scope); a reason in Chinese.

Each mutation runs in its own savepoint, so one bad entry never blocks the rest of a batch.
A conflict keeps the losing version in `conflicts` for its author. A phone numbers its
mutations; a number seen before is answered from `device_mutations` without redoing it.

A phone's batch (`apply_batch`) gives the same answers as applying its mutations one by one,
in far fewer statements: the creates of new entries, the bulk of any replay, are checked in
Python against lookups made once per batch and inserted together; everything else (edits,
deletes, retries, a create racing another request) takes the one-by-one path.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from server.entries import Kind, Placement, Rejected, Written, batch_memo
from server.kinds import kind_of
from server.models import ChangeCounter, Conflict, DeviceMutation, Entry, EntryRevision, User

log = logging.getLogger(__name__)

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
    seen = _seen_before(db, mutation)
    if seen is not None:
        return seen
    for attempt in (1, 2):
        try:
            with db.begin_nested():
                outcome = _apply(db, user, mutation)
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
    if outcome.status == "conflict":
        db.add(
            Conflict(
                entry_id=mutation.id,
                author_id=user.id,
                op=mutation.op,
                payload=_as_stored(mutation.payload),
                base_revision=mutation.base_revision,
                server_revision=outcome.revision,
                device_id=mutation.device_id,
            )
        )
    return outcome


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
    with batch_memo(db):
        fresh = _fresh_creates(db, mutations)
        if fresh:
            try:
                with db.begin_nested():
                    outcomes.update(_create_together(db, user, fresh))
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
    """The creates that are the first mention of a new id and of an unseen mutation number."""
    ids = {m.id for m in mutations}
    stored = set(db.scalars(select(Entry.id).where(Entry.id.in_(ids))))
    numbers: dict[str, set[int]] = {}
    for m in mutations:
        if m.device_id is not None and m.mutation_no is not None:
            numbers.setdefault(m.device_id, set()).add(m.mutation_no)
    seen = set()
    for device_id, device_numbers in numbers.items():  # one phone per push
        seen.update(
            (device_id, number)
            for number in db.scalars(
                select(DeviceMutation.mutation_no).where(
                    DeviceMutation.device_id == device_id,
                    DeviceMutation.mutation_no.in_(device_numbers),
                )
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
    for position, m in fresh.items():
        try:
            kind, placement = _checked(db, user, m)
        except Rejected as exc:
            outcomes[position] = Outcome(m.id, "rejected", reason=exc.reason)
        else:
            checked.append((position, m, kind, placement))

    numbers = next_change_numbers(db, len(checked)) if checked else range(0)
    rows = [
        _new_row(user, m, kind, placement, seq)
        for (_, m, kind, placement), seq in zip(checked, numbers, strict=True)
    ]
    # core inserts of plain rows: building ORM objects cost more than the inserts themselves
    connection = db.connection()
    if rows:
        connection.execute(insert(Entry.__table__), rows)
        connection.execute(
            insert(EntryRevision.__table__),
            [
                {"entry_id": r["id"], "revision": 1, "payload": r["payload"], "deleted": False,
                 "author_id": user.id}
                for r in rows
            ],
        )  # fmt: skip
    for (position, m, kind, _), row in zip(checked, rows, strict=True):
        kind.after_write(db, Written(**{k: row[k] for k in Written.__slots__}))
        outcomes[position] = Outcome(m.id, "applied", revision=1)

    remembered = [
        _device_row(user, m, outcomes[position])
        for position, m in fresh.items()
        if m.device_id is not None and m.mutation_no is not None
    ]
    if remembered:
        connection.execute(insert(DeviceMutation.__table__), remembered)
    db.flush()
    return outcomes


def _seen_before(db: Session, m: Mutation) -> Outcome | None:
    """A mutation number this phone has sent before: answer what was answered then.

    An applied one is now a duplicate; a rejected or conflicting one keeps its status and
    reason, so a phone that lost the first answer still shows the user why.
    """
    if m.device_id is None or m.mutation_no is None:
        return None
    seen = db.get(DeviceMutation, (m.device_id, m.mutation_no))
    if seen is None:
        return None
    status = "duplicate" if seen.status in ("applied", "duplicate") else seen.status
    return Outcome(seen.entry_id, status, revision=seen.revision, reason=seen.reason)


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
    }


def next_change_number(db: Session) -> int:
    return next_change_numbers(db, 1)[0]


def next_change_numbers(db: Session, count: int) -> range:
    """`count` consecutive change numbers. The counter row stays locked until commit, so
    numbers are handed out in commit order and a pull never skips a change."""
    last = db.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + count)
        .returning(ChangeCounter.value)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def _checked(db: Session, user: User, m: Mutation) -> tuple[Kind, Placement]:
    kind = kind_of(m.kind)
    return kind, kind.check(db, user, decoded(kind, m))


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
        "recorded_at": _utc(m.recorded_at) if m.recorded_at else datetime.now(UTC),
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
        if entry.deleted:
            return Outcome(m.id, "duplicate", revision=entry.revision)
        if entry.revision != m.base_revision:
            return Outcome(
                m.id, "conflict", revision=entry.revision, reason="这条记录已在别处被修改，未删除。"
            )
        entry.deleted = True
    else:
        raise Rejected(f"未知的操作：{m.op}")

    entry.revision += 1
    entry.updated_at = datetime.now(UTC)
    entry.seq = next_change_number(db)
    db.flush()
    _keep_revision(db, entry, user)
    kind.after_write(db, Written.of(entry))
    return Outcome(m.id, "applied", revision=entry.revision)


def _repeat_of_create(db: Session, user: User, entry: Entry, m: Mutation) -> Outcome:
    """A create for an id that exists: a retry when the content matches what was first stored."""
    first = db.scalar(
        select(EntryRevision.payload).where(
            EntryRevision.entry_id == entry.id, EntryRevision.revision == 1
        )
    )
    if entry.author_id == user.id and entry.kind == m.kind:
        kind = kind_of(m.kind)
        try:
            incoming = kind.check(db, user, decoded(kind, m)).payload
        except Rejected:  # scope may have changed since the first send: compare as sent
            incoming = _as_stored(m.payload)
        if incoming == first:
            return Outcome(m.id, "duplicate", revision=entry.revision)
    return Outcome(
        m.id,
        "conflict",
        revision=entry.revision,
        reason="同一编号的记录已存在且内容不同，服务器上的版本已保留。",
    )


def _keep_revision(db: Session, entry: Entry, user: User) -> None:
    db.add(
        EntryRevision(
            entry_id=entry.id,
            revision=entry.revision,
            payload=entry.payload,
            deleted=entry.deleted,
            author_id=user.id,
        )
    )
