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


def test_the_demo_has_no_record_after_the_moment_it_is_loaded(tmp_path):
    from datetime import UTC, datetime

    from sqlalchemy import func

    from server import demo
    from server.db import make_engine, make_sessionmaker, upgrade
    from server.models import Entry

    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=1, weeks=1)
    loaded = datetime.now(UTC)
    with make_sessionmaker(engine)() as db:
        latest = db.scalar(select(func.max(Entry.recorded_at)))
        assert latest is not None and latest <= loaded
    engine.dispose()


def test_the_demo_loaded_at_0240_has_no_record_later_that_night(tmp_path, monkeypatch):
    """The issue's case: loaded at 02:40, the lists showed 21:59 of the same day."""
    from datetime import datetime, time

    from sqlalchemy import func

    from server import clock, demo
    from server.db import make_engine, make_sessionmaker, upgrade
    from server.models import Entry

    early = datetime.combine(clock.today(), time(2, 40), tzinfo=clock.COLLEGE_TZ)
    monkeypatch.setattr(clock, "now", lambda: early)
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=1, weeks=1)
    with make_sessionmaker(engine)() as db:
        latest = db.scalar(select(func.max(Entry.recorded_at)))
        assert latest is not None and latest <= early
    engine.dispose()
