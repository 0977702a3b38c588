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
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.entries import Rejected, kind_of
from server.models import ChangeCounter, Conflict, DeviceMutation, Entry, EntryRevision, User

Op = Literal["create", "update", "delete"]
Status = Literal["applied", "duplicate", "conflict", "rejected"]


@dataclass
class Mutation:
    id: uuid.UUID
    op: Op
    kind: str
    payload: dict = field(default_factory=dict)
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
    """Apply one mutation inside a savepoint; the caller commits."""
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
            with db.begin_nested():
                _remember(db, user, mutation, outcome)
            break
        except IntegrityError:
            # another request created the same entry (or sent the same mutation) a moment
            # ago and has committed: the second try sees its row and answers duplicate
            if attempt == 2:
                raise
            seen = _seen_before(db, mutation)
            if seen is not None:
                return seen
    if outcome.status == "conflict":
        db.add(
            Conflict(
                entry_id=mutation.id,
                author_id=user.id,
                op=mutation.op,
                payload=mutation.payload,
                base_revision=mutation.base_revision,
                server_revision=outcome.revision,
                device_id=mutation.device_id,
            )
        )
    return outcome


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
    db.add(
        DeviceMutation(
            device_id=m.device_id,
            mutation_no=m.mutation_no,
            entry_id=m.id,
            status=outcome.status,
            revision=outcome.revision,
            reason=outcome.reason,
            author_id=user.id,
        )
    )
    db.flush()


def next_change_number(db: Session) -> int:
    return db.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + 1)
        .returning(ChangeCounter.value)
    ).scalar_one()


def _apply(db: Session, user: User, m: Mutation) -> Outcome:
    kind = kind_of(m.kind)
    if m.schema_version not in kind.schema_versions:
        raise Rejected(f"表单版本 {m.schema_version} 已不受支持，请刷新页面后重新填写。")
    entry = db.get(Entry, m.id, with_for_update=True)

    if m.op == "create":
        if entry is not None:
            return _repeat_of_create(db, user, entry, m)
        placement = kind.check(db, user, m.payload)
        entry = Entry(
            id=m.id,
            kind=kind.name,
            author_id=user.id,
            department_id=placement.department_id
            if placement.department_id is not None
            else user.department_id,
            room_id=placement.room_id,
            class_id=placement.class_id,
            payload=placement.payload,
            schema_version=m.schema_version,
            recorded_at=m.recorded_at or datetime.now(UTC),
            revision=1,
            seq=next_change_number(db),
        )
        db.add(entry)
        db.flush()
        _keep_revision(db, entry, user)
        kind.after_write(db, entry)
        return Outcome(m.id, "applied", revision=1)

    if entry is None or entry.kind != kind.name:
        raise Rejected("要修改的记录不存在。")
    if entry.author_id != user.id:
        raise Rejected("只有记录的填写人可以修改或删除它。")

    if m.op == "update":
        placement = kind.check(db, user, m.payload)
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
    kind.after_write(db, entry)
    return Outcome(m.id, "applied", revision=entry.revision)


def _repeat_of_create(db: Session, user: User, entry: Entry, m: Mutation) -> Outcome:
    """A create for an id that exists: a retry when the content matches what was first stored."""
    first = db.scalar(
        select(EntryRevision.payload).where(
            EntryRevision.entry_id == entry.id, EntryRevision.revision == 1
        )
    )
    if entry.author_id == user.id and entry.kind == m.kind:
        try:
            incoming = kind_of(m.kind).check(db, user, m.payload).payload
        except Rejected:  # scope may have changed since the first send: compare as sent
            incoming = m.payload
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
