"""24 and 32 requests at once against a live server: pages, pulls and pushes; none fails.

The app runs under uvicorn on a free 127.0.0.1 port, on a database of its own (the small
demo college), so the entries pushed here do not change what other tests count. The client
timeout is generous (bench/load.py: 20 s): what fails the test is a stall (the connection
pool once deadlocked for its 30 s timeout at about 20 concurrent requests on SQLite) or a
500 ("database is locked"), not a slow figure — speed is measured by `make bench`.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bench import load
from bench.live import LiveApp, separate_database
from bench.sync_push import fresh_database, reset
from server.db import make_engine, make_sessionmaker, writing
from server.models import ChangeCounter, Entry
from tests.conftest import rooms_of_students_of

REQUESTS_EACH = 3
RUN_BOUND_S = 60  # stops a stalled run; a healthy one takes a few seconds


@pytest.fixture(scope="module")
def live_url(database_url, tmp_path_factory):
    url = separate_database(database_url, tmp_path_factory.mktemp("load"))
    reset(url)
    fresh_database(url)
    yield url
    reset(url)


def entries_of_room(url: str, rooms: list[int]) -> int:
    engine = make_engine(url)
    with Session(engine) as db:
        count = db.scalar(select(func.count()).select_from(Entry).where(Entry.room_id.in_(rooms)))
    engine.dispose()
    return count


@pytest.mark.parametrize(
    ("username", "home", "pulls", "pushers"),
    [
        ("counselor1", 8, 8, 8),  # 24 at once, a third of them pushing
        ("counselor1", 32, 0, 0),  # 32 home pages at once: where the pool once deadlocked
        # a leader's menu counts open escalations: counted on the event loop with a second
        # connection, it waited there for the pool the loop's own requests held (issue 16)
        ("leader1", 32, 0, 0),
    ],
    ids=["24-mixed", "32-pages", "32-leader-pages"],
)
def test_concurrent_pages_pulls_and_pushes_all_answer_without_error(
    live_url, tmp_path, username, home, pulls, pushers
):
    engine = make_engine(live_url)
    with Session(engine) as db:
        rooms = rooms_of_students_of(db, "counselor1")
    engine.dispose()
    before = entries_of_room(live_url, rooms)

    async def burst(base: str) -> load.Tally:
        cookies = await load.log_in(base, username)
        clients = (
            [(cookies, load.reader("/"))] * home
            + [(cookies, load.reader("/sync/pull"))] * pulls
            + [(cookies, load.pusher(rooms)) for _ in range(pushers)]
        )
        return await load.run(base, clients, seconds=RUN_BOUND_S, requests_each=REQUESTS_EACH)

    with LiveApp(live_url, log=str(tmp_path / "server.log")) as app:
        tally = asyncio.run(burst(app.base))

    assert dict(tally.errors) == {}, tally.summary()
    assert len(tally.latencies_ms) == (home + pulls + pushers) * REQUESTS_EACH
    pushed = pushers * REQUESTS_EACH * load.PUSH_BATCH
    assert len(tally.acknowledged) == pushed
    assert entries_of_room(live_url, rooms) == before + pushed


def test_two_writers_that_read_first_both_commit_one_after_the_other(live_url):
    """What a push does: in a savepoint, read, then take a change number. Begun DEFERRED on
    SQLite (the savepoint opened the transaction), the first writer's UPDATE failed with
    "database is locked" once the second had committed in between; begun IMMEDIATE, the
    second waits for the first (PostgreSQL: both commit either way)."""
    engine = make_engine(live_url)
    writers = make_sessionmaker(writing(engine))
    first_read, second_done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def take_a_number(db) -> None:
        db.execute(
            update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + 1)
        )

    def first() -> None:
        try:
            with writers() as db:
                with db.begin_nested():
                    db.get(ChangeCounter, 1)
                    first_read.set()
                    second_done.wait(timeout=1)  # SQLite: it cannot finish while this is open
                    take_a_number(db)
                db.commit()
        except BaseException as exc:
            failures.append(exc)
            first_read.set()

    def second() -> None:
        try:
            first_read.wait(timeout=10)
            with writers() as db:
                with db.begin_nested():
                    db.get(ChangeCounter, 1)
                    take_a_number(db)
                db.commit()
            second_done.set()
        except BaseException as exc:
            failures.append(exc)

    with writers() as db:
        before = db.get(ChangeCounter, 1).value
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with writers() as db:
        after = db.get(ChangeCounter, 1).value
    engine.dispose()
    assert failures == []
    assert after == before + 2
