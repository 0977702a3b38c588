"""The demo college keeps the promises the README makes about its people."""

from __future__ import annotations

from sqlalchemy import select

from server.models import SchoolClass
from tests.conftest import user_named


def test_teacher1_is_the_class_teacher_of_one_of_counselor1s_classes(db):
    counselor, teacher = user_named(db, "counselor1"), user_named(db, "teacher1")
    shared = db.scalars(
        select(SchoolClass).where(
            SchoolClass.counselor_id == counselor.id, SchoolClass.class_teacher_id == teacher.id
        )
    ).all()
    assert shared, "README: teacher1 is class teacher of one of counselor1's classes"
