"""今日 (home) and 我的记录 (my records)."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.entries import KINDS
from server.models import DutyShift, Entry, Room, User

RECENT = 5
PAGE = 50


def my_entries(db: Session, user: User, limit: int) -> list[Entry]:
    return list(
        db.scalars(
            select(Entry)
            .options(joinedload(Entry.room).joinedload(Room.building))
            .where(Entry.author_id == user.id, Entry.deleted.is_(False))
            .order_by(Entry.recorded_at.desc())
            .limit(limit)
        )
    )


@get("/", name="home", sync_to_thread=True)
def home(request: Request[User, dict, object], db: Session) -> Template:
    user = request.user
    shifts = db.scalars(
        select(DutyShift)
        .options(joinedload(DutyShift.building))
        .where(DutyShift.staff_id == user.id, DutyShift.date == scope.today())
        .order_by(DutyShift.slot)
    ).all()
    return Template(
        "home.html",
        context={
            "shifts": shifts,
            "recent": my_entries(db, user, RECENT),
            "kinds": KINDS,
            "today": scope.today(),
        },
    )


@get("/records", name="my_records", sync_to_thread=True)
def my_records(request: Request[User, dict, object], db: Session, saved: str = "") -> Template:
    return Template(
        "my_records.html",
        context={"entries": my_entries(db, request.user, PAGE), "kinds": KINDS, "saved": saved},
    )


ROUTES = [home, my_records]
