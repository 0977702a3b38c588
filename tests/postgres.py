"""`python -m tests.postgres URL`: make sure the test database exists; exit 1 (saying why) if PostgreSQL is unreachable."""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def main(url: str) -> int:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:  # any failure to connect means: no PostgreSQL run here
        print(
            f"PostgreSQL at {target.host}:{target.port} is not reachable ({exc.__class__.__name__}): skipping the PostgreSQL run"
        )
        return 1
    finally:
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
