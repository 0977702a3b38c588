"""Many clients at once against a live app: pages, pulls and pushes, with httpx and asyncio.

Used by `make bench` (32 readers for 15 s on `/` and `/sync/pull`, 20 pushers on `/sync/push`,
at `college` size) and by tests/test_load.py (a short mixed burst). Everything is bounded:
each client stops at its deadline, each request has a timeout, and a request that times out
or answers 5xx is counted as an error, never retried.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from server.demo import DEMO_PASSWORD
from server.sync.ids import new_entry_id

REQUEST_TIMEOUT_S = 20  # generous: a stall shows up as a timeout error, not as a slow figure
PUSH_BATCH = 10  # entries per push: what a phone's outbox sends after an evening round


@dataclass
class Tally:
    """What a group of clients saw: one latency per answered request, errors by kind."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    sent: list[dict] = field(default_factory=list)  # every pushed mutation, with its device id
    acknowledged: list[dict] = field(default_factory=list)  # those answered "applied"

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds:.1f} s, {self.rate():.0f}/s, "
            f"p50 {self.percentile(50):.1f} ms, p99 {self.percentile(99):.1f} ms, "
            f"errors {dict(self.errors) or 0}"
        )


async def log_in(base: str, username: str) -> httpx.Cookies:
    """The session cookie of one demo user (one argon2 check, done before any clock starts)."""
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S) as client:
        page = (await client.get("/login")).text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
        answer = await client.post(
            "/login",
            data={"username": username, "password": DEMO_PASSWORD, "_csrf_token": token},
        )
        if answer.status_code != 303:
            raise RuntimeError(f"{username} could not log in: {answer.status_code}")
        return client.cookies


def visit(room_id: int, n: int) -> dict:
    """A dorm visit as a phone's outbox sends it: a few stars, sometimes a problem noted."""
    return {
        "room_id": room_id,
        "presence": {},
        "stars": 1 + n % 5,
        "issues": ["hygiene"] if n % 7 == 0 else [],
        "issue_other": "",
        "talk_notes": f"第{n}次走访，宿舍整洁。" if n % 3 else "",
        "concern": None,
    }


def push_body(device: str, numbers: itertools.count, rooms: list[int]) -> dict:
    now = datetime.now(UTC).isoformat()
    mutations = []
    for _ in range(PUSH_BATCH):
        n = next(numbers)
        mutations.append(
            {
                "id": str(new_entry_id()),
                "op": "create",
                "kind": "dorm_visit",
                "payload": visit(rooms[n % len(rooms)], n),
                "mutation_no": n,
                "schema_version": 1,
                "recorded_at": now,
            }
        )
    return {"device_id": device, "mutations": mutations}


Step = Callable[[httpx.AsyncClient, Tally], Awaitable[None]]


def reader(path: str) -> Step:
    async def step(client: httpx.AsyncClient, tally: Tally) -> None:
        await _timed(tally, client.get(path))

    return step


def pusher(rooms: list[int]) -> Step:
    """One phone: its own device id, numbers counting up, new entries in every batch."""
    device = str(uuid.uuid4())
    numbers = itertools.count(1)

    async def step(client: httpx.AsyncClient, tally: Tally) -> None:
        body = push_body(device, numbers, rooms)
        tally.sent += [{"device_id": device, **m} for m in body["mutations"]]
        answer = await _timed(tally, client.post("/sync/push", json=body))
        if answer is None:
            return
        for mutation, result in zip(body["mutations"], answer.json()["results"], strict=True):
            if result["status"] == "applied":
                tally.acknowledged.append({"device_id": device, **mutation})
            else:
                tally.errors[f"push {result['status']}: {result.get('reason')}"] += 1

    return step


async def _timed(tally: Tally, request: Awaitable[httpx.Response]) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        answer = await request
    except httpx.TimeoutException:
        tally.errors["timeout"] += 1
        return None
    except httpx.TransportError as exc:
        tally.errors[type(exc).__name__] += 1
        return None
    if answer.status_code >= 400:
        tally.errors[f"{answer.status_code} {answer.text[:80]}"] += 1
        return None
    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
    return answer


async def run(
    base: str,
    clients: list[tuple[httpx.Cookies, Step]],
    *,
    seconds: float,
    requests_each: int | None = None,
    stop: asyncio.Event | None = None,
    tally: Tally | None = None,
) -> Tally:
    """Run every client at once until `seconds` have passed, each made `requests_each` or
    `stop` is set (a client finishes the request it is making)."""
    tally = tally or Tally()
    stop = stop or asyncio.Event()
    deadline = float("inf")  # set when every client is ready
    go = asyncio.Event()

    async def one(cookies: httpx.Cookies, step: Step) -> None:
        limits = httpx.Limits(max_connections=1)  # one client, one connection, like a phone
        async with httpx.AsyncClient(
            base_url=base, cookies=cookies, timeout=REQUEST_TIMEOUT_S, limits=limits
        ) as client:
            await go.wait()
            for _ in itertools.count() if requests_each is None else range(requests_each):
                if time.perf_counter() >= deadline or stop.is_set():
                    return
                await step(client, tally)

    tasks = [asyncio.create_task(one(c, s)) for c, s in clients]
    await asyncio.sleep(0)
    started = time.perf_counter()
    deadline = started + seconds
    go.set()
    await asyncio.gather(*tasks)
    tally.seconds = time.perf_counter() - started
    return tally
