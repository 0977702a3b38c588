"""准备巡查 (prepare for rounds): what a phone caches before going where there is no signal.

`GET /rounds/plan` lists the pages to cache, each with a title and a kind; the page asks its
service worker to fetch and keep every one of them. The rooms' door pages (a hundred or more)
come in one response, `GET /rounds/rooms`: one request instead of one per room, and the pages,
alike but for their residents, compress together to a fraction of their separate size.

Kinds now: `page` (home, outbox, offline pages, this week's duty roster), `room` (the door-visit form of every room the user may open today: where their
students live and the buildings they are on duty in) and `roster` (the attendance check form
of each class the user checks). Later areas add their own kinds to the same list, and the
phone caches them without a change.
"""

from __future__ import annotations

from datetime import date, timedelta

from litestar import Request, Response, get
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload

from server import bundles, clock, doors, scope, tonight
from server.attendance import ATTENDANCE_CHECK
from server.dorm_visits import DORM_VISIT
from server.kinds import RECORD_KINDS
from server.models import Building, DutyShift, Room, SchoolClass, User
from server.routes.dorm_visits import door_form
from server.settings import Settings

# a counselor's students and duty buildings come to a few hundred rooms; a cap keeps a
# leader's or an office account's plan from filling the phone with thousands of pages
MAX_ROOMS = 600


@get("/rounds/plan", name="rounds_plan", sync_to_thread=True)
def rounds_plan(request: Request[User, dict, object], db: Session, settings: Settings) -> Response:
    user = request.user
    today = clock.today()
    monday = today - timedelta(days=today.weekday())
    rooms = rooms_to_prepare(db, user, today)
    reverse = request.app.route_reverse
    items = [
        {"kind": "page", "url": reverse("home"), "title": "今日"},
        {"kind": "page", "url": reverse("my_records"), "title": "我的记录"},
        {"kind": "page", "url": reverse("outbox"), "title": "待同步"},
        {"kind": "page", "url": reverse("offline"), "title": "离线"},
        {"kind": "page", "url": reverse("door_not_prepared"), "title": "未缓存的宿舍"},
        # this week's roster, my shifts first: a plain URL, so the cached copy is the default view
        {"kind": "page", "url": reverse("duty"), "title": "值班表"},
        {"kind": "page", "url": reverse("my_week"), "title": "本周"},
        {"kind": "page", "url": reverse("due"), "title": "待办联系"},
        {"kind": "page", "url": reverse("tonight_rooms"), "title": "今晚的宿舍"},
        # 离线查找学生: the user's students and today's residents, with their pinyin keys
        {"kind": "page", "url": reverse("students_offline"), "title": "离线查找学生"},
    ]
    # the guideline's record forms (talk, parent contact …): written offline like a visit
    items += [
        {
            "kind": "form",
            "url": reverse("new_record", kind_name=kind.name),
            "title": kind.label,
            "record": kind.name,  # the kind of entry the page writes (a test checks every kind)
        }
        for kind in RECORD_KINDS.values()
    ]
    items += [
        {
            "kind": "room",
            "url": reverse("door", token=doors.room_token(settings, room)),
            "title": room.title,
            "record": DORM_VISIT.name,
        }
        for room in rooms[:MAX_ROOMS]
    ]
    # the attendance check form of each class the user checks (its URL has no query: the
    # course, period and date are chosen in the form, so one cached page serves every lesson)
    items += [
        {
            "kind": "roster",
            "url": reverse("attendance_form", class_id=school_class.id),
            "title": f"查课 · {school_class.name}",
            "record": ATTENDANCE_CHECK.name,
        }
        for school_class in db.scalars(
            select(SchoolClass)
            .where(scope.recording_class_condition(user))
            .order_by(SchoolClass.name)
        )
    ]
    return Response(
        {
            "week": {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()},
            "items": items,
            "rooms_url": reverse("rounds_rooms"),  # the "room" items' pages, all at once
            "truncated": len(rooms) > MAX_ROOMS,
            "later_shifts": later_shifts(db, user, today, monday + timedelta(days=6)),
            "tonight": tonight_plan(db, user, reverse, settings),
        },
        headers={"Cache-Control": "no-store"},
    )


@get("/rounds/rooms", name="rounds_rooms", sync_to_thread=True)
def rounds_rooms(
    request: Request[User, dict, object], db: Session, settings: Settings
) -> Response:
    """The door page of every room of the plan, as /d/<token> draws it, in one response
    (server/bundles.py); the service worker keeps each under its own URL."""
    rooms = rooms_to_prepare(db, request.user, clock.today())[:MAX_ROOMS]
    reverse = request.app.route_reverse
    return bundles.bundle(
        request,
        {
            reverse("door", token=doors.room_token(settings, room)): door_form(
                db, room, request.user
            )
            for room in rooms
        },
    )


def rooms_to_prepare(db: Session, user: User, today: date) -> list[Room]:
    """Rooms whose door form the user may open today, by building and number.

    Duty buildings count only on the day of the shift (scope.room_condition), so a shift
    later this week is prepared on its day. People who may open every room (office, admin)
    get the buildings of their own shifts today, not the whole college. A room with no 在读
    resident (all graduated, or empty) is not prepared: there is no one to visit.
    """
    condition = scope.room_condition(user, today)
    if scope.sees_everything(user):
        condition = Room.building_id.in_(
            select(DutyShift.building_id).where(
                DutyShift.staff_id == user.id, DutyShift.date == today
            )
        )
    return list(
        db.scalars(
            select(Room)
            .join(Building)
            .options(contains_eager(Room.building))
            .where(condition, Room.id.in_(scope.occupied_room_ids()))
            .order_by(Building.name, Room.number)
            .limit(MAX_ROOMS + 1)
        )
    )


def tonight_plan(db: Session, user: User, reverse, settings: Settings) -> dict | None:
    """Tonight's round as the phone keeps it (app.js): after a visit saved offline it
    suggests 下一间 from these rooms, those visited when preparing and the outbox's visits."""
    this_round = tonight.current_round(db, user)
    if this_round is None:
        return None
    return {
        "date": this_round.shift.date.isoformat(),
        "since": this_round.since.isoformat(),
        "building": this_round.shift.building.name,
        "rooms": [
            {
                "id": room.id,
                "title": room.title,
                "url": reverse("door", token=doors.room_token(settings, room)),
            }
            for room in this_round.rooms
        ],
        "visited": sorted(this_round.visited),
    }


def later_shifts(db: Session, user: User, today: date, sunday: date) -> list[dict]:
    """This week's shifts after today: their rooms open (and are prepared) on the day."""
    shifts = db.scalars(
        select(DutyShift)
        .options(joinedload(DutyShift.building))
        .where(DutyShift.staff_id == user.id, DutyShift.date > today, DutyShift.date <= sunday)
        .order_by(DutyShift.date, DutyShift.slot)
    )
    return [
        {
            "date": s.date.isoformat(),
            "label": f"{clock.weekday_name(s.date)} {s.slot.label} {s.building.name}",
        }
        for s in shifts
    ]


ROUTES = [rounds_plan, rounds_rooms]
