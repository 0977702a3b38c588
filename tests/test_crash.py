"""The server is killed (SIGKILL) while 20 phones push: nothing acknowledged is lost, and a
full resend stores every entry exactly once.

A phone deletes an entry from its outbox when the server answers "applied", so that answer
must come only after the commit; and a phone that got no answer resends, so the resend of
an entry that was (or was not) stored must end with exactly one copy. The app runs under
uvicorn on a database of its own; each phone has its own device id. Bounded throughout:
the pushers stop at the kill (or after PUSH_BOUND_S), every request has a timeout.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import load
from bench.live import LiveApp, separate_database
from bench.sync_push import fresh_database, reset
from server.db import make_engine
from server.models import Entry, EntryRevision
from tests.conftest import rooms_of_students_of

PUSHERS = 20
KILL_AFTER_ACKNOWLEDGED = 200  # entries answered "applied" before the kill
PUSH_BOUND_S = 60
RESEND_BATCH = 50

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_url(database_url, tmp_path_factory):
    url = separate_database(database_url, tmp_path_factory.mktemp("crash"))
    reset(url)
    fresh_database(url)
    yield url
    reset(url)


def stored(url: str, ids: list[str]) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    """How many entry rows and revisions each of these ids has."""
    wanted = [uuid.UUID(i) for i in ids]
    engine = make_engine(url)
    with Session(engine) as db:
        entries = dict(
            db.execute(
                select(Entry.id, func.count()).where(Entry.id.in_(wanted)).group_by(Entry.id)
            ).all()
        )
        revisions = dict(
            db.execute(
                select(EntryRevision.entry_id, func.count())
                .where(EntryRevision.entry_id.in_(wanted))
                .group_by(EntryRevision.entry_id)
            ).all()
        )
    engine.dispose()
    return entries, revisions


async def push_until_killed(app: LiveApp, rooms: list[int]) -> tuple[load.Tally, httpx.Cookies]:
    cookies = await load.log_in(app.base, "counselor1")
    tally, stop = load.Tally(), asyncio.Event()

    async def kill_when_enough_acknowledged() -> None:
        while len(tally.acknowledged) < KILL_AFTER_ACKNOWLEDGED and not stop.is_set():
            await asyncio.sleep(0.05)
        await asyncio.to_thread(app.kill)
        stop.set()

    pushers = [(cookies, load.pusher(rooms)) for _ in range(PUSHERS)]
    killer = asyncio.create_task(kill_when_enough_acknowledged())
    await load.run(app.base, pushers, seconds=PUSH_BOUND_S, stop=stop, tally=tally)
    stop.set()
    await killer
    return tally, cookies


async def resend(base: str, cookies: httpx.Cookies, sent: list[dict]) -> list[str]:
    """Every mutation again, per device in its order; the statuses the server answered."""
    by_device: dict[str, list[dict]] = defaultdict(list)
    for m in sent:
        by_device[m["device_id"]].append({k: v for k, v in m.items() if k != "device_id"})
    statuses = []
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, timeout=load.REQUEST_TIMEOUT_S
    ) as client:
        for device, mutations in by_device.items():
            for start in range(0, len(mutations), RESEND_BATCH):
                body = {"device_id": device, "mutations": mutations[start : start + RESEND_BATCH]}
                answer = await client.post("/sync/push", json=body)
                assert answer.status_code == 200, answer.text
                statuses += [r["status"] for r in answer.json()["results"]]
    return statuses


def test_entries_acknowledged_before_a_sigkill_are_kept_and_a_resend_stores_each_once(
    live_url, tmp_path
):
    engine = make_engine(live_url)
    with Session(engine) as db:
        rooms = rooms_of_students_of(db, "counselor1")
    engine.dispose()

    with LiveApp(live_url, log=str(tmp_path / "server.log")) as app:
        tally, cookies = asyncio.run(push_until_killed(app, rooms))
        acknowledged = [m["id"] for m in tally.acknowledged]
        sent = [m["id"] for m in tally.sent]
        assert len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED, tally.summary()
        assert len(sent) > len(acknowledged)  # the kill cut pushes short
        assert app.process.returncode == -9  # killed, not stopped
        assert not [e for e in tally.errors if e.startswith("5")], tally.summary()

        app.start()
        entries, _ = stored(live_url, acknowledged)
        assert [i for i in acknowledged if entries.get(uuid.UUID(i)) != 1] == []

        statuses = asyncio.run(resend(app.base, cookies, tally.sent))

    assert set(statuses) <= {"applied", "duplicate"}, set(statuses)
    assert statuses.count("duplicate") >= len(acknowledged)
    entries, revisions = stored(live_url, sent)
    assert len(entries) == len(set(sent)) == len(sent)
    assert set(entries.values()) == {1}
    assert set(revisions.values()) == {1}
