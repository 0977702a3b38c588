"""Migration 0011_synctrust on a database that already holds sync history: every device seen
before gets the owner of its first remembered mutation, and entries get a `received_at`."""

import uuid
from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import text

from server.db import alembic_config, make_engine, upgrade

MINE = "0011_synctrust"


def test_devices_seen_before_belong_to_whoever_sent_their_first_number(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    before = ScriptDirectory.from_config(alembic_config(url)).get_revision(MINE).down_revision
    upgrade(url, before)
    engine = make_engine(url)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    entry = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (id, name) VALUES (1, '系')"))
        for user_id in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO users (id, username, name, password_hash, active, department_id,"
                    " session_epoch) VALUES (:id, :u, :u, '-', 1, 1, 0)"
                ),
                {"id": user_id, "u": f"u{user_id}"},
            )
        rows = [(first, 1, 1), (first, 2, 2), (second, 5, 2), (second, 9, 1)]  # (device, no, user)
        for device, number, user_id in rows:
            conn.execute(
                text(
                    "INSERT INTO device_mutations (device_id, mutation_no, entry_id, status,"
                    " author_id) VALUES (:d, :n, :e, 'applied', :a)"
                ),
                {"d": device, "n": number, "e": uuid.uuid4().hex, "a": user_id},
            )
        created = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
        conn.execute(
            text(
                "INSERT INTO entries (id, kind, author_id, payload, schema_version, recorded_at,"
                " created_at, updated_at, revision, deleted, seq) VALUES (:id, 'dorm_visit', 1,"
                " '{}', 1, :at, :at, :at, 1, 0, 1)"
            ),
            {"id": entry.hex, "at": created},
        )
    engine.dispose()

    upgrade(url, MINE)
    engine = make_engine(url)
    with engine.connect() as conn:
        owners = dict(conn.execute(text("SELECT device_id, user_id FROM devices")).all())
        received = conn.execute(text("SELECT received_at, created_at FROM entries")).one()
    engine.dispose()
    assert owners == {first: 1, second: 2}
    assert received[0] == received[1]
