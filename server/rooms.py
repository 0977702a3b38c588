"""Finding a room by hand (the manual path beside scanning): for a damaged label, a phone
without a camera, or a camera the user refused.

What people type: the short code printed on the label (`3-512`), a room number (`512`), a
building's name or part of it (`1号`), or both (`1号 512`, `1号512`). Only rooms the user
may open are ever listed (scope.room_condition), with their residents' names to confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, contains_eager

from server import doors, scope
from server.models import Bed, Building, Room, Student, User

MAX_RESULTS = 20
MAX_QUERY_CHARS = 40
ROOM_NUMBER = re.compile(r"[A-Za-z]?\d+[A-Za-z]?")  # 512, A312, 101B
# a building name typed straight into the number: 1号512 → 1号, 512
NAME_THEN_NUMBER = re.compile(r"(.*\D)(\d+[A-Za-z]?)")


@dataclass(frozen=True)
class Found:
    room: Room
    code: str  # the short code printed on the label
    residents: list[str]  # names, by bed


def find(db: Session, user: User, q: str) -> list[Found]:
    """Rooms in the user's scope matching what was typed, by building and number."""
    condition = _matching(q.strip()[:MAX_QUERY_CHARS])
    if condition is None:
        return []
    rooms = list(
        db.scalars(
            select(Room)
            .join(Building)
            .options(contains_eager(Room.building))
            .where(condition, scope.room_condition(user))
            .order_by(Building.name, Room.number)
            .limit(MAX_RESULTS)
        )
    )
    names: dict[int, list[str]] = {room.id: [] for room in rooms}
    for room_id, name in db.execute(
        select(Bed.room_id, Student.name)
        .join(Student, Bed.student_id == Student.id)
        .where(Bed.room_id.in_(list(names)))
        .order_by(Bed.room_id, Bed.number)
    ):
        names[room_id].append(name)
    return [Found(room, doors.short_code(room), names[room.id]) for room in rooms]


def _matching(q: str):
    """The SQL condition for what was typed, or None when nothing was typed."""
    if not q:
        return None
    code = doors.SHORT_CODE.fullmatch(q)
    if code:
        return and_(Room.building_id == int(code[1]), Room.number == code[2])
    words = q.split()
    joined = NAME_THEN_NUMBER.fullmatch(words[-1])
    if joined and not ROOM_NUMBER.fullmatch(words[-1]):
        words[-1:] = [joined[1], joined[2]]
    conditions = []
    if ROOM_NUMBER.fullmatch(words[-1]):
        conditions.append(Room.number.startswith(words.pop(), autoescape=True))
    conditions += [Building.name.contains(word, autoescape=True) for word in words]
    return and_(*conditions)
