"""今日 (home) and 我的记录 (my records)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import clock, due, duty, week
from server.kinds import KINDS, RECORD_KINDS
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
        .where(DutyShift.staff_id == user.id, DutyShift.date == clock.today())
    ).all()
    shifts = sorted(shifts, key=lambda s: duty.SLOTS.index(s.slot))
    return Template(
        "home.html",
        context={
            "shifts": shifts,
            # on a duty day: the morning and evening rounds expected, done or not yet
            "rounds": duty.rounds(db, shifts),
            "recent": my_entries(db, user, RECENT),
            "kinds": KINDS,
            "today": clock.today(),
            **week_card(db, user),
            "record_kinds": RECORD_KINDS.values(),
            "due_counts": due_counts(db, user),
        },
    )


def week_card(db: Session, user: User) -> dict:
    """What _week_card.html needs: this week's quotas (server/week.py)."""
    monday = clock.monday_of(clock.today())
    return {"monday": monday, "progress": week.my_week(db, user, monday), "timedelta": timedelta}


def due_counts(db: Session, user: User) -> dict[str, int]:
    today = clock.today()
    counts = {
        "follow_ups": len(due.follow_ups_due(db, user, today)),
        "parents": len(due.parents_overdue(db, user, today)),
        "teachers": len(due.course_teachers_overdue(db, user, today)),
    }
    return {**counts, "total": sum(counts.values())}


@get("/week", name="my_week", sync_to_thread=True)
def my_week(request: Request[User, dict, object], db: Session) -> Template:
    """本周 on its own page (the home page shows the same card)."""
    return Template("week.html", context=week_card(db, request.user))


@get("/records", name="my_records", sync_to_thread=True)
def my_records(request: Request[User, dict, object], db: Session, saved: str = "") -> Template:
    return Template(
        "my_records.html",
        context={"entries": my_entries(db, request.user, PAGE), "kinds": KINDS, "saved": saved},
    )


ROUTES = [home, my_week, my_records]
