"""Push 10,000 dorm visits in batches of 100 through the running app, against a raw
SQLAlchemy-core insert of the same rows and pouchdb-server's _bulk_docs, in one run.

Every figure is entries per second on this machine; the ratios are what to compare.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.live import LiveApp, free_port, wait_for
from server import demo
from server.db import make_engine, upgrade
from server.models import Entry, EntryRevision, User
from server.sync.ids import new_entry_id
from tests.conftest import rooms_of_students_of

ENTRIES = 10_000
BATCH = 100
POUCH_DIR = Path("/tmp/xuegong-bench-pouch")


def payloads(room_id: int) -> list[dict]:
    return [
        {
            "room_id": room_id,
            "presence": {},
            "stars": 1 + n % 5,
            "issues": [],
            "issue_other": "",
            "talk_notes": f"第{n}次",
            "concern": None,
        }
        for n in range(ENTRIES)
    ]


def fresh_database(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=1)
    engine.dispose()


def counselor_room(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with Session(engine) as db:
        user_id = db.scalar(select(User.id).where(User.username == "counselor1"))
        room_id = rooms_of_students_of(db, "counselor1")[0]
    engine.dispose()
    return user_id, room_id


def app_push(url: str, docs: list[dict]) -> float:
    with LiveApp(url) as app:
        app.log_in("counselor1")
        device = str(uuid.uuid4())
        started = time.perf_counter()
        for start in range(0, len(docs), BATCH):
            mutations = [
                {
                    "id": str(new_entry_id()),
                    "op": "create",
                    "kind": "dorm_visit",
                    "payload": doc,
                    "mutation_no": start + i,
                    "schema_version": 1,
                }
                for i, doc in enumerate(docs[start : start + BATCH])
            ]
            answer = app.post_json("/sync/push", {"device_id": device, "mutations": mutations})
            assert all(r["status"] == "applied" for r in answer["results"]), answer["results"][:2]
        return len(docs) / (time.perf_counter() - started)


def raw_insert(url: str, docs: list[dict], author_id: int, room_id: int) -> float:
    """The same rows the app stores (entry + its first revision), inserted with core bulk inserts."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with engine.begin() as conn:
        for start in range(0, len(docs), BATCH):
            ids = [new_entry_id() for _ in docs[start : start + BATCH]]
            conn.execute(
                insert(Entry),
                [
                    {
                        "id": i,
                        "kind": "dorm_visit",
                        "author_id": author_id,
                        "department_id": 1,
                        "room_id": room_id,
                        "payload": d,
                        "schema_version": 1,
                        "recorded_at": now,
                        "revision": 1,
                        "deleted": False,
                        "seq": 0,
                    }
                    for i, d in zip(ids, docs[start : start + BATCH], strict=True)
                ],
            )
            conn.execute(
                insert(EntryRevision),
                [
                    {
                        "entry_id": i,
                        "revision": 1,
                        "payload": d,
                        "deleted": False,
                        "author_id": author_id,
                    }
                    for i, d in zip(ids, docs[start : start + BATCH], strict=True)
                ],
            )
    took = time.perf_counter() - started
    engine.dispose()
    return len(docs) / took


def pouchdb(docs: list[dict]) -> float | None:
    if not shutil.which("node") or not shutil.which("npm"):
        print("pouchdb-server: skipped: node not found")
        return None
    binary = POUCH_DIR / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
    if not binary.exists():
        POUCH_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "pouchdb-server@4.2.0",
            ],
            cwd=POUCH_DIR,
            check=True,
            timeout=600,
        )
    port = free_port()
    server = subprocess.Popen(
        ["node", str(binary), "--host", "127.0.0.1", "--port", str(port), "-m", "--no-stdout-logs"],
        cwd=POUCH_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/")
        urllib.request.urlopen(urllib.request.Request(f"{base}/bench", method="PUT"))
        started = time.perf_counter()
        for start in range(0, len(docs), BATCH):
            body = json.dumps(
                {"docs": [{"_id": str(new_entry_id()), **d} for d in docs[start : start + BATCH]]}
            ).encode()
            request = urllib.request.Request(
                f"{base}/bench/_bulk_docs", data=body, headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request).read()
        return len(docs) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(postgres_url: str | None) -> list[tuple[str, str, float | None]]:
    rows: list[tuple[str, str, float | None]] = []
    targets = [("SQLite", f"sqlite:////tmp/xuegong-bench-{os.getpid()}.sqlite3")]
    if postgres_url:
        targets.append(("PostgreSQL", postgres_url))
    for name, url in targets:
        for label, measure in (("app /sync/push", "app"), ("raw core insert", "raw")):
            reset(url)
            fresh_database(url)
            author_id, room_id = counselor_room(url)
            docs = payloads(room_id)
            rate = (
                app_push(url, docs)
                if measure == "app"
                else raw_insert(url, docs, author_id, room_id)
            )
            rows.append((name, label, rate))
            print(f"{name:10} {label:18} {rate:8.0f} entries/s", flush=True)
        reset(url)
    rate = pouchdb(payloads(1))
    rows.append(("memory", "pouchdb-server _bulk_docs", rate))
    if rate:
        print(f"{'memory':10} {'pouchdb _bulk_docs':18} {rate:8.0f} entries/s", flush=True)
    return rows


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
