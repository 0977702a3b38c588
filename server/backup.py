"""`xuegong backup DIR` and `xuegong restore FILE`: a copy of the whole database, and back.

SQLite is copied with its online backup API (a consistent copy while the app keeps serving,
WAL included); PostgreSQL with `pg_dump` in its custom format, restored by `pg_restore`.
A restore goes into an empty database only: restoring over live data would mix two states
of the college, so a database that already has staff in it is refused.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from server import clock
from server.db import make_engine


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why (for the shell)."""


def backup(database_url: str, directory: Path, *, now: datetime | None = None) -> Path:
    """Write a backup of the database into `directory`; returns the file written."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = clock.college_time(now or clock.now()).strftime("%Y%m%d-%H%M%S")
    if _is_sqlite(database_url):
        target = directory / f"xuegong-{stamp}.sqlite3"
        source = sqlite3.connect(_sqlite_path(database_url))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return target
    target = directory / f"xuegong-{stamp}.dump"
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(database_url)])
    return target


def restore(database_url: str, backup_file: Path) -> None:
    """Load a backup made by `backup` into the (empty) database of `database_url`."""
    if not backup_file.is_file():
        raise BackupError(f"no such backup file: {backup_file}")
    _refuse_unless_empty(database_url)
    if _is_sqlite(database_url):
        if backup_file.suffix != ".sqlite3":
            raise BackupError("a SQLite database restores from a .sqlite3 backup")
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(database_url))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    if backup_file.suffix != ".dump":
        raise BackupError("a PostgreSQL database restores from a .dump backup (pg_dump -Fc)")
    _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(database_url)}",
          str(backup_file)])  # fmt: skip


def _refuse_unless_empty(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            if "users" in inspect(conn).get_table_names():
                if conn.scalar(text("SELECT count(*) FROM users")):
                    raise BackupError(
                        "the database already holds data: restore into an empty database "
                        "(a new SQLite file, or a new PostgreSQL database made with createdb)"
                    )
                raise BackupError(
                    "the database already has the app's tables: restore into a database made "
                    "new for it, before `xuegong migrate`"
                )
    finally:
        engine.dispose()


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _sqlite_path(database_url: str) -> str:
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path


def _libpq(database_url: str) -> str:
    """The SQLAlchemy URL as pg_dump reads it (no `+psycopg` driver part)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-500:]}")
