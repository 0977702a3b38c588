"""`xuegong backup` and `xuegong restore`: a backup restored into an empty database holds every row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from server.cli import main as xuegong
from server.db import make_engine


def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.scalar(text(f'SELECT count(*) FROM "{table}"'))
                for table in inspect(conn).get_table_names()
            }
    finally:
        engine.dispose()


@pytest.fixture
def empty_database(database_url, tmp_path) -> str:
    """A new, empty database of the same kind as the suite's."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    target = make_url(database_url)
    name = f"{target.database}_restore"
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield target.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_restored_into_an_empty_database_finds_every_row(
    database_url, empty_database, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XUEGONG_DATABASE_URL", database_url)
    assert xuegong(["backup", str(tmp_path / "backups")]) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written.parent == tmp_path / "backups" and written.stat().st_size > 0

    monkeypatch.setenv("XUEGONG_DATABASE_URL", empty_database)
    assert xuegong(["restore", str(written)]) == 0
    source, restored = row_counts(database_url), row_counts(empty_database)
    assert restored == source
    assert restored["students"] > 0 and restored["entries"] >= 0 and "alembic_version" in restored


def test_restoring_over_a_database_with_data_is_refused_and_changes_nothing(
    database_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XUEGONG_DATABASE_URL", database_url)
    assert xuegong(["backup", str(tmp_path)]) == 0
    written = capsys.readouterr().out.strip()
    before = row_counts(database_url)
    assert xuegong(["restore", written]) == 1
    assert "already holds data" in capsys.readouterr().err
    assert row_counts(database_url) == before


def test_restoring_a_file_that_does_not_exist_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XUEGONG_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert xuegong(["restore", str(tmp_path / "missing.sqlite3")]) == 1
    assert "no such backup file" in capsys.readouterr().err
