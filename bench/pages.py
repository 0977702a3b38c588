"""Pages under a whole college (issue 16): requests/s of each daily and leader page with
`wrk -t2 -c32 -d15s` on one app process, against a bare Litestar `/hello` served by the same
uvicorn in the same run; the p50 of one client at a time; and `/` on PostgreSQL with two
worker processes against one.

Targets: daily pages ≥ 0.10× `/hello`, leader pages ≥ 0.05×, 0 errors and 0 timeouts; one
client at a time, every daily page's p50 ≤ 5 ms; two workers on PostgreSQL ≥ 1.6× one.
wrk (Debian's `wrk`) shares the machine's cores with the server, as it did in the issue.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.live import BENCH_SECRET, LiveApp, free_port, wait_for
from server import doors
from server.db import make_engine
from server.demo import DEMO_PASSWORD
from server.models import Room
from server.settings import Settings
from tests.conftest import rooms_of_students_of

WRK = ["wrk", "-t2", "-c32", "-d15s", "--timeout", "10s"]
ONE_CLIENT_REQUESTS = 40
COUNSELORS = 8  # the 32 connections take turns with counselor1..8's sessions
DAILY = ["/", "/week", "/duty", "/attendance", "/due", "/log", "/students?q=zh", "/d/{token}"]
FLOOR = "/account/password"  # a form and nothing else: what every authenticated page costs
LEADER = [("leader1", "/"), ("leader1", "/department/week"), ("office1", "/")]
DAILY_TARGET, LEADER_TARGET, P50_TARGET_MS, WORKERS_TARGET = 0.10, 0.05, 5.0, 1.6

# each request of a connection takes the next session in turn; every answer but a 200
# (a redirect to /login is a lost session) counts as an error
ROTATE = """
sessions = {%s}
threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0; bad = 0 end
function request()
  n = n + 1
  return wrk.format("GET", nil, {["Cookie"] = sessions[n %% #sessions + 1]})
end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("not 200: %%d\\n", total))
end
"""


@dataclass
class Wrk:
    rate: float  # requests/s
    p50_ms: float
    errors: int  # non-2xx answers and socket errors but timeouts
    timeouts: int


def wrk(url: str, cookies: list[str]) -> Wrk:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(ROTATE % ", ".join(f"[==[{c}]==]" for c in cookies))
    done = subprocess.run(
        [*WRK, "--latency", "-s", script.name, url], capture_output=True, text=True, check=True
    )
    Path(script.name).unlink()
    if done.stderr.strip():  # a script wrk could not run: it would measure without sessions
        raise RuntimeError(f"wrk: {done.stderr.strip()}")
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    p50_ms = float(p50.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p50.group(2)]
    not_200 = int(re.search(r"not 200: (\d+)", out).group(1))
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    connect, read, write, timeouts = map(int, sockets.groups()) if sockets else (0, 0, 0, 0)
    errors = not_200 + connect + read + write
    return Wrk(rate, p50_ms, errors, timeouts)


class Hello:
    """bench/hello.py under `python -m uvicorn`, as LiveApp runs the app."""

    def __enter__(self) -> Hello:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.hello:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
        )  # fmt: skip
        wait_for(f"{self.base}/hello")
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def door_token(url: str) -> str:
    """The door label's token of one of counselor1's rooms (what the QR code opens)."""
    engine = make_engine(url)
    with Session(engine) as db:
        room = db.scalar(select(Room).where(Room.id == rooms_of_students_of(db, "counselor1")[0]))
        token = doors.room_token(Settings.from_env({"XUEGONG_SECRET_KEYS": BENCH_SECRET}), room)
    engine.dispose()
    return token


def session_cookie(base: str, username: str) -> str:
    """The Cookie header of one demo user's session (one argon2 check, before any clock)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login").text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
        answer = client.post(
            "/login", data={"username": username, "password": DEMO_PASSWORD, "_csrf_token": token}
        )
        if answer.status_code != 303:
            raise RuntimeError(f"{username} could not log in: {answer.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def one_client_p50(base: str, cookie: str, path: str) -> float:
    with httpx.Client(base_url=base, headers={"Cookie": cookie}, timeout=20) as client:
        client.get(path)  # warm
        times = []
        for _ in range(ONE_CLIENT_REQUESTS):
            started = time.perf_counter()
            client.get(path).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(name: str, url: str, two_workers: bool = False) -> list[tuple]:
    """(database, page, kind, wrk result, one-client p50 ms, ratio to /hello) on a loaded
    college; with two_workers also `/` of counselor1..8 on two processes ("workers" rows)."""
    if shutil.which("wrk") is None:
        print("bench.pages: wrk not found (apt-get install wrk); pages not measured")
        return []
    token = door_token(url)
    rows = []
    with LiveApp(url) as app, Hello() as hello:
        base = rate = wrk(f"{hello.base}/hello", ["-"])
        rows.append((name, "`/hello` (bare Litestar)", "baseline", base, None, None))
        counselors = [session_cookie(app.base, f"counselor{n}") for n in range(1, COUNSELORS + 1)]
        # the least any page of the app does: the session, the user, the guards, base.html
        rate = wrk(f"{app.base}{FLOOR}", counselors)
        p50 = one_client_p50(app.base, counselors[0], FLOOR)
        rows.append((name, f"`{FLOOR}` (floor, no target)", "floor", rate, p50, rate.rate / base.rate))
        for path in DAILY:
            path = path.format(token=token)
            # a door is counselor1's room: the other counselors would be refused it
            cookies = counselors[:1] if token in path else counselors
            rate = wrk(f"{app.base}{path}", cookies)
            p50 = one_client_p50(app.base, counselors[0], path)
            rows.append((name, f"`{path[:20]}`", "daily", rate, p50, rate.rate / base.rate))
        for username, path in LEADER:
            cookie = session_cookie(app.base, username)
            rate = wrk(f"{app.base}{path}", [cookie])
            p50 = one_client_p50(app.base, cookie, path)
            rows.append(
                (name, f"`{path}` ({username})", "leader", rate, p50, rate.rate / base.rate)
            )
        one = next(row[3] for row in rows if row[1] == "`/`")
    if two_workers:
        with LiveApp(url, workers=2) as app:
            wait_for(f"{app.base}/healthz")
            counselors = [
                session_cookie(app.base, f"counselor{n}") for n in range(1, COUNSELORS + 1)
            ]
            two = wrk(f"{app.base}/", counselors)
        rows.append((name, "`/`, two worker processes", "workers", two, None, two.rate / one.rate))
    for db, page, _, result, p50, ratio in rows:
        print(f"{db:10} {page:36} {result.rate:8,.0f} req/s"
              f" {'' if ratio is None else f'{ratio:.3f}×':>8}  errors {result.errors}"
              f" timeouts {result.timeouts}"
              f"{'' if p50 is None else f'  one client p50 {p50:.1f} ms'}", flush=True)  # fmt: skip
    return rows


def met(kind: str, result: Wrk, p50: float | None, ratio: float | None) -> bool:
    if result.errors or result.timeouts:
        return False
    target = {"daily": DAILY_TARGET, "leader": LEADER_TARGET, "workers": WORKERS_TARGET}
    if kind == "baseline":
        return True
    if kind == "daily" and p50 is not None and p50 > P50_TARGET_MS:
        return False
    return ratio >= target[kind]


def figures(rows: list[tuple]) -> list[str]:
    if not rows:
        return ["", "Pages at `college` size: not measured (wrk not found)."]
    lines = [
        "",
        f"Pages at `college` size, one app process, `{' '.join(WRK)}` on each page (the"
        f" daily pages with {COUNSELORS} counselors' sessions in turn), against a bare Litestar"
        " `/hello` on the same uvicorn in the same run; targets: daily pages ≥ 0.10× and one"
        " client's p50 ≤ 5 ms, leader pages ≥ 0.05×, two workers ≥ 1.6× one, 0 errors and 0"
        " timeouts:",
        "",
        "| database | page | requests/s | ratio | p50 (32 connections) | one client p50 | errors / timeouts | target met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for db, page, kind, result, p50, ratio in rows:
        shown = "—" if ratio is None else f"{ratio:.3f}×"
        one = "—" if p50 is None else f"{p50:.1f} ms"
        verdict = "—" if kind == "floor" else "yes" if met(kind, result, p50, ratio) else "no"
        lines.append(
            f"| {db} | {page} | {result.rate:,.0f} | {shown} | {result.p50_ms:.1f} ms | {one}"
            f" | {result.errors} / {result.timeouts} | {verdict} |"
        )
    return lines


if __name__ == "__main__":  # python -m bench.pages <database url of a loaded college> [--workers]
    name = "PostgreSQL" if sys.argv[1].startswith("postgresql") else "SQLite"
    print("\n".join(figures(run(name, sys.argv[1], two_workers="--workers" in sys.argv))))
