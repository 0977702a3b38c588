"""`xuegong demo --weeks N`: generated records that look like what the forms write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, demo, week
from server.clock import today
from server.db import make_engine, upgrade
from server.demo import weeks as demo_weeks
from server.kinds import KINDS
from server.models import ChangeCounter, Entry, User

TODAY = today()  # the college's today: the kinds' checks judge dates against it


@pytest.fixture(scope="module")
def demo_weeks_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('weeks') / 'demo.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=3, weeks=3)
    with Session(engine) as db:
        yield db
    engine.dispose()


def test_every_generated_record_passes_its_kinds_check(demo_weeks_db):
    db = demo_weeks_db
    entries = db.scalars(select(Entry)).all()
    assert {e.kind for e in entries} >= {"talk", "dorm_visit", "attendance_check",
                                          "lecture_observation", "parent_contact"}  # fmt: skip
    for entry in entries:
        author = db.get(User, entry.author_id)
        kind = KINDS[entry.kind]
        checked = kind.check(db, author, kind.decode(entry.payload, entry.schema_version))
        assert checked.payload == entry.payload, entry.kind
    assert db.get(ChangeCounter, 1).value == len(entries) == max(e.seq for e in entries)


def test_some_people_meet_last_weeks_quotas_and_some_do_not(demo_weeks_db):
    db = demo_weeks_db
    last_monday = clock.monday_of(TODAY) - timedelta(days=7)
    outcomes = set()
    for author_id in db.scalars(select(Entry.author_id).distinct()):
        rows = week.my_week(db, db.get(User, author_id), last_monday)
        outcomes.add(all(r.met for r in rows if r.counts != "attendance_check"))
    assert outcomes == {True, False}


def test_the_records_are_the_same_for_the_same_seed():
    one = demo.build("small", seed=5, today=TODAY)
    first, _ = demo_weeks.generate(one, 2, 5, TODAY)
    again, _ = demo_weeks.generate(demo.build("small", seed=5, today=TODAY), 2, 5, TODAY)
    assert [e["id"] for e in first] == [e["id"] for e in again]
    assert all(e["recorded_at"].date() <= TODAY for e in first)
