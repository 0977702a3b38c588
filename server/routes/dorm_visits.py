"""Door labels and the dorm visit form (guideline §2.7).

Scanning a door label opens /d/<token>; the token names the room. The form posts to
/visits, which writes the entry through the same merge rules as the offline sync.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, doors, dorm_visits, evaluations, photos, scope, tonight
from server.flash import flash
from server.models import Entry, Room, Student, User
from server.params import Id
from server.routes import forms
from server.settings import Settings
from server.sync.ids import new_entry_id

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/d/{token:str}", name="door", sync_to_thread=True)
def door(
    request: Request[User, dict, object], db: Session, settings: Settings, token: str
) -> Template:
    room = doors.room_from_token(db, settings, token)
    return _form(db, scope.room_for(db, request.user, room.id), request.user)


@get("/rooms/{room_id:int}/visit", name="visit_form", sync_to_thread=True)
def visit_form(request: Request[User, dict, object], db: Session, room_id: Id) -> Template:
    return _form(db, scope.room_for(db, request.user, room_id), request.user)


@post("/visits", name="save_visit", sync_to_thread=True)
def save_visit(
    request: HTMXRequest, db: Session, data: Form
) -> Template | Redirect | ClientRedirect:
    """Plain form post: 303 to my records. htmx post (the visit form is enhanced): the same
    target as a client-side redirect, and a refused visit as the form partial to swap in."""
    entry_id, outcome, typed = forms.save(request, db, dorm_visits.DORM_VISIT, data)
    if forms.stored(outcome):
        # not to my records: to 扫下一间 / 下一间 (the round goes on)
        target = request.app.route_reverse("visit_saved", entry_id=entry_id)
        flash(request, "走访记录已保存。")
        return ClientRedirect(target) if request.htmx else Redirect(target, status_code=303)
    room_id = forms.id_of(typed.get("room_id"))
    if not room_id:
        return forms.refused(outcome)
    # show the form again with what was typed, and why it was not saved — only for a room the
    # user may open: another room answers 403 like its GET, and draws none of its residents
    return _form(
        db,
        scope.room_for(db, request.user, room_id),
        request.user,
        error=outcome.reason,
        typed=typed,
        entry_id=new_entry_id(),
        status=422,
        partial=bool(request.htmx),
    )


@get("/visits/{entry_id:uuid}/saved", name="visit_saved", sync_to_thread=True)
def visit_saved(
    request: Request[User, dict, object], db: Session, settings: Settings, entry_id: uuid.UUID
) -> Template:
    """After a visit: 扫下一间 (the scanner), 下一间 (the next room of tonight's round not
    visited yet) and tonight's rooms one tap away (server/tonight.py)."""
    entry = scope.entry_for(db, request.user, entry_id, to_edit=True)
    if entry.kind != dorm_visits.DORM_VISIT.name:
        raise NotFoundException("找不到这条走访记录。")
    this_round = tonight.current_round(db, request.user)
    next_room = this_round.next_room(after=entry.room_id) if this_round else None
    return Template(
        "visit_saved.html",
        context={
            "entry": entry,
            "room_title": entry.room.title
            if entry.room
            else "",  # loaded here, not in the template
            "round": this_round,
            "next_room": next_room,
            "next_url": _door_url(request, settings, next_room) if next_room else "",
        },
    )


@get("/rounds/tonight", name="tonight_rooms", sync_to_thread=True)
def tonight_rooms(
    request: Request[User, dict, object], db: Session, settings: Settings
) -> Template:
    """Tonight's rooms with a tick for those visited; a plain URL, so 准备巡查 caches it and
    app.js ticks the rooms whose visits still wait in the outbox."""
    this_round = tonight.current_round(db, request.user)
    rooms = [
        (room, _door_url(request, settings, room), room.id in this_round.visited)
        for room in (this_round.rooms if this_round else [])
    ]
    return Template(
        "tonight_rooms.html",
        context={"round": this_round, "rooms": rooms, "today": clock.today()},
    )


def _door_url(request: Request, settings: Settings, room: Room) -> str:
    """The door label's in-app URL: the page 准备巡查 cached for the room."""
    return request.app.route_reverse("door", token=doors.room_token(settings, room))


def edit_form(
    db: Session,
    user: User,
    entry: Entry,
    *,
    error: str = "",
    typed: dict | None = None,
    status: int = 200,
    partial: bool = False,
) -> Template:
    """A visit's door form, filled in from the entry, for its author's correction (an
    update on the revision shown; /entries/<id>/edit, server/routes/records.py)."""
    return _form(
        db,
        scope.room_for(db, user, entry.room_id),
        user,
        error=error,
        typed=entry.payload if typed is None else typed,
        editing=entry,
        status=status,
        partial=partial,
    )


def door_form(db: Session, room: Room, user: User) -> Template:
    """The door page of a room the user may open, as /d/<token> answers it (准备巡查's
    bundle of rooms, server/routes/prepare.py)."""
    return _form(db, room, user)


def _form(
    db: Session,
    room: Room,
    user: User,
    *,
    error: str = "",
    typed: dict | None = None,
    entry_id: uuid.UUID | None = None,
    editing: Entry | None = None,
    status: int = 200,
    partial: bool = False,
) -> Template:
    residents = dorm_visits.residents(db, room.id)
    return Template(
        "_visit_form.html" if partial else "visit_form.html",
        context={
            "editing": editing,
            "max_photos": photos.MAX_PHOTOS,
            "room": room,
            "residents": residents,
            # residents whose page the user may open (not those of a duty building's room)
            "linked": _in_scope(db, user, [student.id for _, student in residents]),
            # made when the form is drawn: posting the same form twice stores one visit
            "entry_id": editing.id if editing else entry_id or new_entry_id(),
            "typed": typed or {},
            "error": error,
            "presence": dorm_visits.PRESENCE,
            "issues": dorm_visits.ISSUES,
            "concerns": dorm_visits.CONCERNS,
            # the room's last visits (stars, issues), above the form; not in the refused partial
            "history": [] if partial else evaluations.room_history(db, [room.id])[room.id],
        },
        status_code=status,
    )


def _in_scope(db: Session, user: User, student_ids: list[int]) -> set[int]:
    if not student_ids:
        return set()
    return set(
        db.scalars(
            select(Student.id).where(Student.id.in_(student_ids), scope.student_condition(user))
        )
    )


ROUTES = [door, visit_form, save_visit, visit_saved, tonight_rooms]
