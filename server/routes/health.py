"""/healthz: is this process up and can it reach the database."""

from __future__ import annotations

from litestar import Response, get
from sqlalchemy import text
from sqlalchemy.orm import Session


@get("/healthz", name="healthz", sync_to_thread=True)
def healthz(db: Session) -> Response:
    try:
        db.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure means "not healthy", said plainly
        return Response(
            {"status": "error", "database": str(exc.__class__.__name__)}, status_code=503
        )
    return Response({"status": "ok", "database": "ok"})


ROUTES = [healthz]
