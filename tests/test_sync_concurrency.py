"""20 phones push at once while another pulls: the pull cursor never skips a change.

Change numbers come from one counter row that each writer locks until it commits, so they
become visible in order. This only means something where writers really run in parallel:
PostgreSQL (SQLite lets one writer in at a time).
"""

from __future__ import annotations

import threading
import uuid

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from server.models import Entry
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import log_in, rooms_of_students_of, user_named

WRITERS = 20
BATCHES = 5
BATCH = 10

pytestmark = pytest.mark.postgres


def test_concurrent_pushes_never_make_a_pull_skip_a_change(app, sessionmaker, on_postgres):
    if not on_postgres:
        pytest.skip(
            "needs PostgreSQL: SQLite runs one writer at a time (make test runs this on PostgreSQL)"
        )
    with sessionmaker() as db:
        user = user_named(db, "counselor1")
        room = rooms_of_students_of(db, "counselor1")[0]
        start = db.scalar(select(Entry.seq).order_by(Entry.seq.desc()).limit(1)) or 0

    written: list[uuid.UUID] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def writer(n: int) -> None:
        try:
            device = str(uuid.uuid4())
            with sessionmaker() as db:
                me = db.merge(user, load=False)
                for b in range(BATCHES):
                    for i in range(BATCH):
                        entry_id = new_entry_id()
                        payload = {
                            "room_id": room,
                            "presence": {},
                            "stars": 1 + (n + i) % 5,
                            "issues": [],
                            "talk_notes": "",
                            "concern": None,
                        }
                        outcome = merge.apply(
                            db,
                            me,
                            merge.Mutation(
                                entry_id,
                                "create",
                                "dorm_visit",
                                payload,
                                device_id=device,
                                mutation_no=b * BATCH + i,
                            ),
                        )
                        assert outcome.status == "applied"
                        written.append(entry_id)
                    db.commit()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    seen: dict[str, int] = {}
    with TestClient(app) as reader:
        assert log_in(reader, "counselor1").status_code == 303
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        cursor = start

        def pull_once() -> None:
            nonlocal cursor
            page = reader.get("/sync/pull", params={"since": cursor, "limit": 37}).json()
            for change in page["changes"]:
                assert change["seq"] > cursor
                seen[change["id"]] = change["seq"]
                cursor = change["seq"]

        pulls = 0
        while any(t.is_alive() for t in threads):
            pull_once()  # races the writers: commits land between and during pulls
            pulls += 1
        for t in threads:
            t.join()
        done.set()
        while True:
            before = cursor
            pull_once()
            if cursor == before:
                break

    assert not failures, failures
    assert len(written) == WRITERS * BATCHES * BATCH
    missing = {str(i) for i in written} - set(seen)
    assert not missing, f"{len(missing)} changes were skipped by a cursor that had moved past them"
    assert pulls > 3, "the reader never raced the writers"
