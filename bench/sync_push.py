"""Push 10,000 realistic dorm visits in batches of 100 through the running app, against the
durable floor (the same rows written directly, one commit per batch) and pouchdb-server on
LevelDB on disk, in one run; each figure the median of 3 runs (issue 16).

A realistic batch is what a counselor's phone sends after an evening round: 26 rooms of
counselor1's scope, each visit with the presence of the room's real residents, one or two
issues, about 80 characters of talk notes, and one visit in a hundred with a concern (which
opens an escalation and queues its notification). Every figure is entries per second on
this machine; the ratios are what to compare.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bench.live import LiveApp, free_port, wait_for
from server import demo, scope
from server.db import make_engine, upgrade
from server.models import (
    Bed,
    ChangeCounter,
    Department,
    DeviceMutation,
    Entry,
    EntryRevision,
    Escalation,
    Notification,
    Room,
    Student,
    User,
)
from server.sync.ids import new_entry_id

ENTRIES = 10_000
BATCH = 100
ROOMS_PER_BATCH = 26
RUNS = 3  # each figure is the median of this many runs, each on a fresh database
CONCERN_EVERY = 100  # one visit a batch raises a concern (an escalation and its notification)
POUCH_DIR = Path("/tmp/xuegong-bench-pouch")
POUCH_VERSION = "4.2.0"

STATUSES = ["present"] * 5 + ["absent", "late", "leave"]
ISSUE_SETS = [["hygiene"], ["appliance"], ["hygiene", "safety"], ["late_return"], ["safety"]]
NOTES = (
    "与{n}号宿舍同学逐一谈心，了解近期学习和生活情况，提醒按时作息、注意用电安全，"
    "宿舍长反映一名同学情绪低落，已约定周三再谈一次并告知班主任跟进。"
)


class Scenario:
    """counselor1 of the small demo college, the rooms of their scope where residents sleep,
    and those residents: what the payloads are made of."""

    def __init__(self, url: str):
        engine = make_engine(url)
        with Session(engine) as db:
            user = db.scalar(select(User).where(User.username == "counselor1"))
            self.user_id, self.department_id = user.id, user.department_id
            self.department_name = db.get(Department, user.department_id).name
            rooms = db.scalars(
                select(Room.id).where(scope.room_condition(user)).order_by(Room.id)
            ).all()
            self.residents: dict[int, list[int]] = {}
            for room_id, student_id in db.execute(
                select(Bed.room_id, Bed.student_id)
                .join(Student, Bed.student_id == Student.id)
                .where(Bed.room_id.in_(rooms), scope.enrolled())
                .order_by(Bed.room_id, Bed.number)
            ):
                self.residents.setdefault(room_id, []).append(student_id)
        engine.dispose()
        self.rooms = sorted(self.residents)
        if len(self.rooms) < ROOMS_PER_BATCH:
            raise RuntimeError(f"counselor1 has {len(self.rooms)} rooms, {ROOMS_PER_BATCH} needed")

    def payloads(self) -> list[dict]:
        """10,000 visits, as a phone sends them; each batch of 100 names 26 rooms."""
        docs = []
        for n in range(ENTRIES):
            batch, position = divmod(n, BATCH)
            room_id = self.rooms[(batch * 5 + position % ROOMS_PER_BATCH) % len(self.rooms)]
            presence = {
                str(student_id): STATUSES[(n + k) % len(STATUSES)]
                for k, student_id in enumerate(self.residents[room_id][:6])
            }
            concern = None
            if n % CONCERN_EVERY == CONCERN_EVERY - 1:
                concern = {"category": "mental", "note": "情绪低落，已约谈，请心理中心跟进。"}
            docs.append(
                {
                    "room_id": room_id,
                    "presence": presence,
                    "stars": 1 + n % 5,
                    "issues": ISSUE_SETS[n % len(ISSUE_SETS)],
                    "issue_other": "",
                    "talk_notes": NOTES.format(n=room_id),
                    "concern": concern,
                }
            )
        return docs


def fresh_database(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=1)
    engine.dispose()


def as_sent(body: dict) -> bytes:
    """JSON as a browser's JSON.stringify sends it: UTF-8, no \\u escapes."""
    return json.dumps(body, ensure_ascii=False).encode()


def batches(docs: list[dict]) -> list[list[dict]]:
    return [docs[start : start + BATCH] for start in range(0, len(docs), BATCH)]


def app_push(url: str, docs: list[dict]) -> float:
    """The running app (one uvicorn process), logged in as counselor1; bodies built before."""
    device = str(uuid.uuid4())
    recorded_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    bodies = []
    for number, batch in enumerate(batches(docs)):
        mutations = [
            {
                "id": str(new_entry_id()),
                "op": "create",
                "kind": "dorm_visit",
                "payload": doc,
                "mutation_no": number * BATCH + i,
                "schema_version": 1,
                "recorded_at": recorded_at,
            }
            for i, doc in enumerate(batch)
        ]
        bodies.append(as_sent({"device_id": device, "mutations": mutations}))
    with LiveApp(url) as app:
        app.log_in("counselor1")
        cookie = "; ".join(f"{c.name}={c.value}" for c in app.cookies)
        with KeptAlive(app.port, {"Cookie": cookie}) as connection:
            started = time.perf_counter()
            for body in bodies:
                answer = connection.post("/sync/push", body)
                statuses = {r["status"] for r in answer["results"]}
                assert statuses == {"applied"}, answer["results"][:2]
            took = time.perf_counter() - started
    return len(docs) / took


class KeptAlive:
    """One HTTP/1.1 connection for every batch, as a phone's browser keeps it (the app and
    pouchdb-server are sent to the same way)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    def __enter__(self) -> KeptAlive:
        return self

    def __exit__(self, *exc) -> None:
        self.connection.close()

    def post(self, path: str, body: bytes) -> dict | list:
        self.connection.request("POST", path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        return json.loads(data)


def stored(doc: dict) -> dict:
    """The payload as the app stores it (server/dorm_visits.py `check`)."""
    return {**doc, "issues": sorted(set(doc["issues"]))}


def durable_floor(
    url: str, scenario: Scenario, docs: list[dict], *, bookkeeping: bool = False
) -> float:
    """The rows a push writes that make up the record — entries, their first revisions, the
    change numbers, and for a concern its escalation and queued notification — inserted with
    SQLAlchemy core bulk inserts, one transaction and commit per batch of 100, through
    `make_engine` (the app's pragmas: WAL, SQLite's default synchronous=FULL). No HTTP, no
    checks, and no idempotency bookkeeping (`device_mutations`, one row per mutation) unless
    `bookkeeping`: that row is the sync protocol's, not the record's."""
    engine = make_engine(url)
    recorded_at = datetime.now(UTC) - timedelta(minutes=5)
    prepared = [[(new_entry_id(), stored(d)) for d in batch] for batch in batches(docs)]
    device = str(uuid.uuid4())
    digests = [hashlib.sha256(json.dumps(d).encode()).hexdigest() for d in docs]
    started = time.perf_counter()
    for number, batch in enumerate(prepared):
        now = datetime.now(UTC)
        with engine.begin() as conn:
            if bookkeeping:
                conn.execute(
                    insert(DeviceMutation.__table__),
                    [
                        {"device_id": device, "mutation_no": number * BATCH + n,
                         "entry_id": entry_id, "status": "applied", "revision": 1,
                         "reason": None, "author_id": scenario.user_id,
                         "digest": digests[number * BATCH + n]}
                        for n, (entry_id, _) in enumerate(batch)
                    ],
                )  # fmt: skip
            last = conn.execute(
                update(ChangeCounter)
                .where(ChangeCounter.id == 1)
                .values(value=ChangeCounter.value + len(batch))
                .returning(ChangeCounter.value)
            ).scalar_one()
            first_seq = last - len(batch) + 1
            conn.execute(
                insert(Entry.__table__),
                [
                    {
                        "id": entry_id,
                        "kind": "dorm_visit",
                        "author_id": scenario.user_id,
                        "department_id": scenario.department_id,
                        "room_id": payload["room_id"],
                        "class_id": None,
                        "payload": payload,
                        "schema_version": 1,
                        "recorded_at": recorded_at,
                        "received_at": now,
                        "revision": 1,
                        "deleted": False,
                        "seq": first_seq + n,
                    }
                    for n, (entry_id, payload) in enumerate(batch)
                ],
            )
            conn.execute(
                insert(EntryRevision.__table__),
                [
                    {"entry_id": entry_id, "revision": 1, "payload": payload, "deleted": False,
                     "author_id": scenario.user_id, "reason": ""}
                    for entry_id, payload in batch
                ],
            )  # fmt: skip
            for entry_id, payload in batch:
                if payload["concern"] is None:
                    continue
                escalation_id = conn.execute(
                    insert(Escalation.__table__).returning(Escalation.id),
                    {"entry_id": entry_id, "room_id": payload["room_id"],
                     "department_id": scenario.department_id, "status": "open",
                     "state": "pending", **payload["concern"]},
                ).scalar_one()  # fmt: skip
                conn.execute(
                    insert(Notification.__table__),
                    {"escalation_id": escalation_id, "event": "opened",
                     "department_name": scenario.department_name, "created_at": now,
                     "status": "pending", "attempts": 0, "next_attempt_at": now,
                     "last_error": ""},
                )  # fmt: skip
    took = time.perf_counter() - started
    engine.dispose()
    return len(docs) / took


def pouchdb_binary() -> Path | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    binary = POUCH_DIR / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
    if not binary.exists():
        POUCH_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
             f"pouchdb-server@{POUCH_VERSION}"],
            cwd=POUCH_DIR, check=True, timeout=600,
        )  # fmt: skip
    return binary


def pouchdb(binary: Path, docs: list[dict]) -> float:
    """pouchdb-server on LevelDB in a fresh directory (`-d`, on disk), the same documents in
    the same batches through `_bulk_docs`, started as a plain node process."""
    folder = Path(tempfile.mkdtemp(prefix="xuegong-bench-pouch-"))
    port = free_port()
    server = subprocess.Popen(
        ["node", str(binary), "--host", "127.0.0.1", "--port", str(port), "-d", str(folder),
         "--no-stdout-logs"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/")
        urllib.request.urlopen(urllib.request.Request(f"{base}/bench", method="PUT")).read()
        bodies = [
            as_sent({"docs": [{"_id": str(new_entry_id()), **d} for d in batch]})
            for batch in batches(docs)
        ]
        with KeptAlive(port) as connection:
            started = time.perf_counter()
            for body in bodies:
                answer = connection.post("/bench/_bulk_docs", body)
                assert all(r.get("ok") for r in answer), answer[:2]
            return len(docs) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


APP, FLOOR, POUCH = "app /sync/push", "durable floor", "pouchdb-server _bulk_docs"
BOOKKEEPING = "floor + device rows"  # the floor and the idempotency rows of the batch


def run(postgres_url: str | None) -> list[tuple[str, str, float | None]]:
    """(where, what, median entries/s) for the app and the floor on each database, and for
    pouchdb-server on disk; the runs of each alternate, on a fresh database each."""
    rows: list[tuple[str, str, float | None]] = []
    targets = [("SQLite", f"sqlite:////tmp/xuegong-bench-{os.getpid()}.sqlite3")]
    if postgres_url:
        targets.append(("PostgreSQL", postgres_url))
    docs = None
    for name, url in targets:
        rates: dict[str, list[float]] = {APP: [], FLOOR: [], BOOKKEEPING: []}
        for _ in range(RUNS):
            for label in rates:
                reset(url)
                fresh_database(url)
                scenario = Scenario(url)
                docs = scenario.payloads()
                if label == APP:
                    rate = app_push(url, docs)
                else:
                    rate = durable_floor(url, scenario, docs, bookkeeping=label == BOOKKEEPING)
                rates[label].append(rate)
        reset(url)
        for label, measured in rates.items():
            rows.append((name, label, statistics.median(measured)))
            runs = ", ".join(f"{r:,.0f}" for r in measured)
            print(f"{name:10} {label:18} {statistics.median(measured):8.0f} entries/s ({runs})")
    binary = pouchdb_binary()
    if binary is None or docs is None:
        print("pouchdb-server: skipped: node not found")
        rows.append(("disk", POUCH, None))
        return rows
    measured = [pouchdb(binary, docs) for _ in range(RUNS)]
    rows.append(("disk", POUCH, statistics.median(measured)))
    runs = ", ".join(f"{r:,.0f}" for r in measured)
    print(
        f"{'LevelDB':10} {'pouchdb _bulk_docs':18} {statistics.median(measured):8.0f} entries/s ({runs})"
    )
    return rows


def figures(rows: list[tuple[str, str, float | None]]) -> list[str]:
    """The sync push table of docs/performance.md (bench/__main__.py)."""
    rates = {(where, label): rate for where, label, rate in rows}
    pouch = rates.get(("disk", POUCH))
    lines = [
        f"Sync push, {ENTRIES:,} realistic dorm visits in batches of {BATCH}"
        f" ({ROOMS_PER_BATCH} rooms a batch, median of {RUNS} runs; targets: app ≥ 0.5× the"
        " durable floor, ≥ 2× pouchdb-server on LevelDB):",
        "",
        "| database | app `/sync/push` | durable floor | app / floor | app / pouchdb-server"
        " | floor + device rows | app / that |",
        "|---|---|---|---|---|---|---|",
    ]
    for db in ("SQLite", "PostgreSQL"):
        app, floor = rates.get((db, APP)), rates.get((db, FLOOR))
        if app is None:
            continue
        kept = rates[(db, BOOKKEEPING)]
        vs_pouch = f"{app / pouch:.2f}×" if pouch else "n/a"
        lines.append(
            f"| {db} | {app:,.0f} | {floor:,.0f} | {app / floor:.2f}× | {vs_pouch}"
            f" | {kept:,.0f} | {app / kept:.2f}× |"
        )
    lines += [
        "",
        f"pouchdb-server {POUCH_VERSION} `_bulk_docs` on LevelDB (`-d`, on disk): {pouch:,.0f}"
        " entries/s."
        if pouch
        else "pouchdb-server: not measured (node not found).",
    ]
    return lines


def reset(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    from sqlalchemy import text

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":  # python -m bench.sync_push [postgres_url]: this part alone
    import sys

    print("\n".join(figures(run(sys.argv[1] if len(sys.argv) > 1 else None))))
