"""今日 (home) and 我的记录 (my records)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import (
    clock,
    due,
    duty,
    escalations,
    first_lessons,
    grades,
    homes,
    meetings,
    second_classroom,
    semester_plans,
    week,
)
from server.kinds import KINDS, RECORD_KINDS
from server.models import DutyShift, Entry, Role, Room, User

RECENT = 5
REPORTED = 5  # my latest escalations on the home page
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
    rounds = duty.rounds(db, shifts)
    reverse = request.app.route_reverse
    # the day's page is the counselor's and class teacher's; leaders, the office and admin get
    # their cards (server/homes.py) and the day only on a duty day
    day = user.has(Role.counselor, Role.class_teacher) or bool(shifts)
    return Template(
        "home.html",
        context={
            "day": day,
            "counselor_cards": homes.cards(homes.COUNSELOR_CARDS, db, user, reverse)
            if user.has(Role.counselor, Role.class_teacher) else [],
            # the state of what I reported (关注上报), the latest few
            "reported": escalations.reported_by(db, user)[:REPORTED]
            if user.has(Role.counselor, Role.class_teacher) else [],
            "leader_cards": homes.cards(homes.LEADER_CARDS, db, user, reverse)
            if user.has(Role.leader) else [],
            "office_rows": homes.office_rows(db, user, reverse) if user.has(Role.office) else [],
            "admin_cards": homes.cards(homes.ADMIN_CARDS, db, user, reverse)
            if user.has(Role.admin) else [],
            "shifts": shifts,
            # on a duty day: the morning and evening rounds expected, done or not yet
            "rounds": rounds,
            "prepare_first": prepare_first(rounds),
            "recent": (recent := my_entries(db, user, RECENT)),
            "escalation_of": escalations.of_entries(db, user, [e.id for e in recent]),
            "kinds": KINDS,
            "today": clock.today(),
            # the week and the due lists are the day's: the office's "due" would be the whole
            # college's students (issue 16: most of its home page's time)
            **(week_card(db, user) if day else {"progress": []}),
            "record_kinds": RECORD_KINDS.values(),
            "due_counts": due_counts(db, user) if day else {"total": 0},
        },
    )


def prepare_first(rounds: list[duty.Round]) -> bool:
    """准备巡查 leads the page on a duty day until a round's window opens; during the window
    (and on other days) 扫码 does."""
    if any(r.status == "open" for r in rounds):
        return False
    return any(r.status == "upcoming" for r in rounds)


def week_card(db: Session, user: User) -> dict:
    """What _week_card.html needs: this week's quotas (server/week.py)."""
    monday = clock.monday_of(clock.today())
    return {"monday": monday, "progress": week.my_week(db, user, monday), "timedelta": timedelta}


def due_counts(db: Session, user: User) -> dict[str, int]:
    today = clock.today()
    counts = {
        "follow_ups": due.follow_ups_due_count(db, user, today),
        "parents": due.parents_overdue_count(db, user, today),
        "teachers": len(due.course_teachers_overdue(db, user, today)),
        # semester duties: plans, the grades report, first lessons, the lecture rule
        "semester": len(semester_plans.due_for(db, user, today))
        + grades.report_pending(db, user, today)
        + first_lessons.due_count(db, user, today)
        + len(second_classroom.lectures_due(db, user, today)),
    }
    return {**counts, "total": sum(counts.values())}


@get("/week", name="my_week", sync_to_thread=True)
def my_week(request: Request[User, dict, object], db: Session) -> Template:
    """本周 on its own page (the home page shows the same card)."""
    return Template(
        "week.html",
        context={**week_card(db, request.user),
                 "committees": meetings.my_committee_week(db, request.user)},
    )  # fmt: skip


@get("/records", name="my_records", sync_to_thread=True)
def my_records(request: Request[User, dict, object], db: Session, saved: str = "") -> Template:
    entries = my_entries(db, request.user, PAGE)
    return Template(
        "my_records.html",
        context={"entries": entries, "kinds": KINDS, "saved": saved,
                 "escalation_of": escalations.of_entries(db, request.user, [e.id for e in entries])},
    )  # fmt: skip


ROUTES = [home, my_week, my_records]
