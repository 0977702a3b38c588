"""Many phones at once on one app process, at `college` size (issue 10, point 3).

32 clients for 15 s on `/` (the home page), then 32 on `/sync/pull` (the first page of
changes, 200 entries: what a phone fetches after a login), then 20 pushers on `/sync/push`
(each its own counselor and device, 10 new dorm visits of their own rooms per push, as an
outbox sends after a round). Each client has one connection and sends its next request
when the answer came. Target: 0 errors (a 5xx, a refused entry or a 20 s timeout).
"""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session

from bench import load
from bench.live import LiveApp
from server.db import make_engine
from tests.conftest import rooms_of_students_of

SECONDS = 15
READERS = 32
PUSHERS = 20
READER_USERS = 8  # the 32 readers are counselor1..8, four phones each


def rooms_of(url: str, usernames: list[str]) -> dict[str, list[int]]:
    engine = make_engine(url)
    with Session(engine) as db:
        rooms = {u: rooms_of_students_of(db, u) for u in usernames}
    engine.dispose()
    return rooms


async def _measure(base: str, rooms: dict[str, list[int]]) -> list[tuple[str, load.Tally]]:
    cookies = {u: await load.log_in(base, u) for u in rooms}
    readers = [f"counselor{1 + n % READER_USERS}" for n in range(READERS)]
    results = []
    for path in ("/", "/sync/pull"):
        clients = [(cookies[u], load.reader(path)) for u in readers]
        results.append((f"`{path}`", await load.run(base, clients, seconds=SECONDS)))
    pushers = [(cookies[u], load.pusher(r)) for u, r in list(rooms.items())[:PUSHERS]]
    results.append(("`/sync/push`", await load.run(base, pushers, seconds=SECONDS)))
    return results


def run(name: str, url: str) -> list[tuple[str, str, int, load.Tally]]:
    """(database, what, clients, tally) for each of the three runs, on a loaded college."""
    usernames = [f"counselor{n}" for n in range(1, max(PUSHERS, READER_USERS) + 1)]
    rooms = rooms_of(url, usernames)
    with LiveApp(url) as app:
        measured = asyncio.run(_measure(app.base, rooms))
    rows = []
    for (what, tally), clients in zip(measured, (READERS, READERS, PUSHERS), strict=True):
        print(f"{name:10} {what:14} {clients} clients: {tally.summary()}", flush=True)
        rows.append((name, what, clients, tally))
    return rows
