"""Database engine, sessions and migrations.

SQLite is the embedded default (one file under var/); PostgreSQL is production. Both go
through the same models and the same Alembic migrations.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for the write lock before failing
# Threads that run the request handlers (and the user lookup of each request); the app sets
# them as its event loop's default executor. Each holds at most one pooled connection at a
# time, so a pool of this size never makes a running handler wait for a stopped one.
WORKER_THREADS = 8
# Connections beyond WORKER_THREADS: the requests whose handler has returned but whose response
# the event loop is still building hold theirs until their session closes there.
POOL_OVERFLOW = 4
# Execution option of a connection that writes: on SQLite its transactions begin IMMEDIATE
WRITES = "xuegong_writes"


# The app's pool (create_app); scripts, the CLI and tests keep the defaults below
APP_POOL = {"pool_size": WORKER_THREADS, "max_overflow": POOL_OVERFLOW}


# the entries' payloads are read with msgspec: twice as fast as the json module on a
# record's JSON, and a due list or a sync pull reads hundreds of them (issue 16)
_JSON_LOADS = msgspec.json.decode


def make_engine(url: str, **pool: int) -> Engine:
    """An engine; on SQLite, pysqlite begins transactions unless `writing(engine)` (below).

    `pool` (pool_size, max_overflow): the app passes APP_POOL — on PostgreSQL 12 connections
    a process, so several processes stay under the default max_connections (100)."""
    if not url.startswith("sqlite"):
        return create_engine(
            url,
            pool_pre_ping=True,
            json_deserializer=_JSON_LOADS,
            **({"pool_size": 10, "max_overflow": 20} | pool),
        )
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        json_deserializer=_JSON_LOADS,
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        # WAL lets readers go on while one writer writes; foreign keys are off by default
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A transaction that writes takes the write lock at its start, waiting up to the busy
        # timeout behind the current writer. Left to pysqlite, it would begin DEFERRED just
        # before its first write, and a transaction that has read fails at once with
        # "database is locked" when another writer committed in between (SQLite cannot move
        # its snapshot forward), whatever the busy timeout. Other connections keep pysqlite's
        # handling: each read on its own (in WAL mode it never waits for a writer), a DEFERRED
        # BEGIN before a write. pysqlite sees the open transaction and commits it.
        if conn.get_execution_options().get(WRITES, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def writing(engine: Engine) -> Engine:
    """The same engine and pool, for sessions that write: on SQLite their transactions begin
    IMMEDIATE, so concurrent writers queue for the lock instead of failing."""
    return engine.execution_options(**{WRITES: True})


def make_sessionmaker(engine: Engine, **info) -> sessionmaker[Session]:
    """`info` is handed to every session (the app's photo folder, server/photos.py)."""
    return sessionmaker(engine, expire_on_commit=False, info=info)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    # the migrations form one line (0001, 0002, …); "heads" is its last one
    command.upgrade(alembic_config(url), revision)
