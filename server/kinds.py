"""The registry of kinds of work record: every kind the app knows, in one explicit list.

Adding a kind is one module (its payload Struct, `check`, form mapping, labels, summary —
see docs/architecture.md) plus one line in `_LIST`. Nothing registers itself on import: the
registry is complete as soon as this module is imported, whatever else was.
"""

from __future__ import annotations

from server.attendance import ATTENDANCE_CHECK
from server.dorm_visits import DORM_VISIT
from server.entries import Kind, Rejected, clean_text
from server.records import (
    LECTURE_OBSERVATION,
    MEETING,
    PARENT_CONTACT,
    PLAN,
    RETAKE_ANALYSIS,
    TALK,
    TEACHER_CONTACT,
)
from server.records.discipline import DISCIPLINE

_LIST: list[Kind] = [
    DORM_VISIT,
    ATTENDANCE_CHECK,
    TALK,
    PARENT_CONTACT,
    LECTURE_OBSERVATION,
    TEACHER_CONTACT,
    MEETING,
    PLAN,
    DISCIPLINE,
    RETAKE_ANALYSIS,
]

KINDS: dict[str, Kind] = {kind.name: kind for kind in _LIST}
# the kinds written with the shared record form (/records/new/<kind>) and edited there
RECORD_KINDS: dict[str, Kind] = {kind.name: kind for kind in _LIST if kind.record_form}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise Rejected(
            f"未知的记录类型：{clean_text(str(name).replace(chr(0), ''))[:40]}"
        ) from None
