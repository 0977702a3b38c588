"""The recorded outbox mutations under tests/wire/, filled in with the demo college's ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from server import clock, scope
from server.models import Bed, ClassCourse, Guardian, SchoolClass, Student
from server.sync.ids import new_entry_id
from tests.conftest import rooms_of_students_of, user_named

WIRE = Path(__file__).parent / "wire"
IDS = ("room", "resident_1", "resident_2", "class", "course", "class_course", "student", "guardian")


def recorded(kind: str, version: int = 1) -> dict:
    return json.loads((WIRE / f"v{version}" / f"{kind}.json").read_text(encoding="utf-8"))


def places(db, username: str = "counselor1") -> dict:
    """Ids the recorded mutations can use for this person: a room where two students of one
    of their classes sleep, that class, one of its courses, a student with a guardian."""
    user = user_named(db, username)
    for room in rooms_of_students_of(db, username):
        rows = db.execute(
            select(Student.id, Student.class_id)
            .join(Bed, Bed.student_id == Student.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .where(Bed.room_id == room, scope.recording_class_condition(user))
            .order_by(Student.id)
        ).all()
        same_class = [r for r in rows if r.class_id == rows[0].class_id] if rows else []
        if len(same_class) < 2:
            continue
        class_id = same_class[0].class_id
        taught = db.scalar(
            select(ClassCourse).where(ClassCourse.class_id == class_id).order_by(ClassCourse.id)
        )
        guardian = db.scalar(
            select(Guardian)
            .join(Student, Guardian.student_id == Student.id)
            .where(Student.class_id == class_id)
            .order_by(Guardian.id)
        )
        if taught is None or guardian is None:
            continue
        return {
            "room": room,
            "resident_1": same_class[0].id,
            "resident_2": same_class[1].id,
            "class": class_id,
            "course": taught.course_id,
            "class_course": taught.id,
            "student": guardian.student_id,
            "guardian": guardian.id,
        }
    raise AssertionError(f"the demo data has no room, class and guardian for {username}")


def filled(value, where: dict, *, numbers: bool, entry_id: str):
    """`value` with its placeholders replaced; ids become numbers where `numbers` is set."""
    if isinstance(value, dict):
        return {
            filled(k, where, numbers=False, entry_id=entry_id): filled(
                v, where, numbers=numbers, entry_id=entry_id
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [filled(v, where, numbers=numbers, entry_id=entry_id) for v in value]
    if not isinstance(value, str):
        return value
    if numbers and value.strip("{}") in IDS and value.startswith("{"):
        return where[value.strip("{}")]
    for name in IDS:
        value = value.replace("{" + name + "}", str(where[name]))
    return (
        value.replace("{today}", clock.today().isoformat())
        .replace("{now}", datetime.now(UTC).isoformat().replace("+00:00", "Z"))
        .replace("{id}", entry_id)
    )


def mutation(kind: str, variant: str, where: dict, version: int = 1) -> dict:
    """The recorded `form` or `payload` mutation of a kind, with a new entry id."""
    sent = recorded(kind, version)[variant]
    entry_id = str(new_entry_id())
    return filled(sent, where, numbers=variant == "payload", entry_id=entry_id)
