"""Conflicts a person resolves: their version that lost a merge, beside the server's.

A conflict row (`conflicts`, kept by sync/merge.py) holds the phone's version of an entry
whose server copy had moved on. Its author looks at both (`/conflicts/<id>`, the outbox's
冲突 item) and keeps one: 保留我的 writes the phone's version as the next revision, through
`merge.apply` like any edit (scope and validation apply again); 保留服务器的 discards it. Either
way the row is marked resolved, with when and which side was kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.entries import Kind
from server.kinds import KINDS
from server.models import Conflict, Entry, Student, User
from server.sync import merge

Keep = Literal["server", "mine"]
# payload fields that map student ids to a choice (who was where, who was absent)
PER_STUDENT = {"presence": "presence", "marks": "marks"}


def open_of(db: Session, user: User, entry_id: uuid.UUID | None = None) -> list[Conflict]:
    """The user's unresolved conflicts, oldest first (of one entry, if given)."""
    query = select(Conflict).where(Conflict.author_id == user.id, Conflict.resolved.is_(False))
    if entry_id is not None:
        query = query.where(Conflict.entry_id == entry_id)
    return list(db.scalars(query.order_by(Conflict.id)))


def resolve(db: Session, user: User, conflict: Conflict, keep: Keep) -> merge.Outcome:
    """Keep the server's version, or write mine on top of the current revision; the caller
    commits. A refused "mine" (its content no longer passes) leaves the conflict open."""
    outcome = merge.Outcome(conflict.entry_id, "duplicate", revision=conflict.server_revision)
    if keep == "mine":
        entry = db.get(Entry, conflict.entry_id)
        deleting = conflict.op == "delete"
        outcome = merge.apply(
            db,
            user,
            merge.Mutation(
                id=conflict.entry_id,
                op="delete" if deleting else "update",
                kind=entry.kind,
                payload={} if deleting else conflict.payload,
                base_revision=entry.revision,
                reason=conflict.payload.get("reason") if deleting else None,
            ),
        )
    if outcome.status != "rejected":
        conflict.resolved = True
        conflict.resolved_at = datetime.now(UTC)
        conflict.kept = keep
    return outcome


@dataclass
class Row:
    field: str
    server: str
    mine: str

    @property
    def differs(self) -> bool:
        return self.server != self.mine


def compare(db: Session, conflict: Conflict, entry: Entry) -> list[Row]:
    """The fields of both versions side by side, by the kind's Chinese field names."""
    kind = KINDS.get(entry.kind)
    if conflict.op == "delete":
        reason = conflict.payload.get("reason", "")
        return [Row("操作", "保留（未删除）" if not entry.deleted else "已删除", f"删除：{reason}")]
    server = {} if entry.deleted else entry.payload
    mine = conflict.payload
    names = _student_names(db, [server, mine])
    rows = [
        Row(
            kind.label_of(key) if kind else key,
            shown(kind, key, server.get(key), names),
            shown(kind, key, mine.get(key), names),
        )
        for key in dict.fromkeys([*server, *mine])
    ]
    if entry.deleted:
        rows.insert(0, Row("状态", "已删除", "保留"))
    return rows


def shown(kind: Kind | None, key: str, value, names: dict[int, str]) -> str:
    """A payload value as a person reads it: choices by their labels, students by name."""
    choices = kind.choices.get(key, {}) if kind else {}
    if value in (None, "", [], {}):
        return "（空）"
    if key in PER_STUDENT and isinstance(value, dict):
        labels = kind.choices.get(PER_STUDENT[key], {}) if kind else {}
        return "；".join(
            f"{names.get(_int(k), k)}：{labels.get(v, v)}" for k, v in sorted(value.items())
        )
    if key.endswith("student_id") and _int(value) in names:
        return names[_int(value)]
    if isinstance(value, list):
        return "、".join(str(choices.get(v, v)) for v in value)
    if isinstance(value, dict):
        return "；".join(
            f"{kind.label_of(f'{key}.{k}') if kind else k}：{shown(kind, f'{key}.{k}', v, names)}"
            for k, v in value.items()
        )
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(choices.get(value, value)) if isinstance(value, str) else str(value)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _student_names(db: Session, payloads: list[dict]) -> dict[int, str]:
    ids: set[int] = set()
    for payload in payloads:
        for key, value in payload.items():
            if key in PER_STUDENT and isinstance(value, dict):
                ids.update(i for i in map(_int, value) if i is not None)
            elif key.endswith("student_id") and _int(value) is not None:
                ids.add(_int(value))
    if not ids:
        return {}
    return dict(db.execute(select(Student.id, Student.name).where(Student.id.in_(ids))).all())
