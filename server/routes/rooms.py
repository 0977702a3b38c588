"""找宿舍: the manual path to a room's visit form, for labels that cannot be scanned.

The page is a plain GET form (it works without JavaScript); htmx asks for the results
fragment as the user types. The fragment has its own URL: the service worker keeps pages
by URL and must never keep a fragment in a page's place.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from server import evaluations, rooms
from server.models import User

ROOM_RESULT_VISITS = 3  # the last visits shown under each room found


@get("/rooms/find", name="find_rooms", sync_to_thread=True)
def find_rooms(request: Request[User, dict, object], db: Session, q: str = "") -> Template:
    return Template("find_rooms.html", context=_results(db, request.user, q))


@get("/rooms/find/results", name="find_rooms_results", sync_to_thread=True)
def find_rooms_results(request: Request[User, dict, object], db: Session, q: str = "") -> Template:
    return Template("_room_results.html", context=_results(db, request.user, q))


def _results(db: Session, user: User, q: str) -> dict:
    found = rooms.find(db, user, q)
    return {
        "q": q,
        "found": found,
        "max_results": rooms.MAX_RESULTS,
        # each room's last visits (stars, issues), collapsed under the room
        "histories": evaluations.room_history(
            db, [item.room.id for item in found], ROOM_RESULT_VISITS
        ),
    }


ROUTES = [find_rooms, find_rooms_results]
