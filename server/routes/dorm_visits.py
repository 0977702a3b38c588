"""Door labels and the dorm visit form (guideline §2.7).

Scanning a door label opens /d/<token>; the token names the room. The form posts to
/visits, which writes the entry through the same merge rules as the offline sync.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import doors, dorm_visits, scope
from server.models import Room, User
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
    return _form(db, scope.room_for(db, request.user, room.id))


@get("/rooms/{room_id:int}/visit", name="visit_form", sync_to_thread=True)
def visit_form(request: Request[User, dict, object], db: Session, room_id: Id) -> Template:
    return _form(db, scope.room_for(db, request.user, room_id))


@post("/visits", name="save_visit", sync_to_thread=True)
def save_visit(
    request: HTMXRequest, db: Session, data: Form
) -> Template | Redirect | ClientRedirect:
    """Plain form post: 303 to my records. htmx post (the visit form is enhanced): the same
    target as a client-side redirect, and a refused visit as the form partial to swap in."""
    entry_id, outcome, typed = forms.save(request, db, dorm_visits.DORM_VISIT, data)
    if forms.stored(outcome):
        return forms.saved(request, entry_id)
    room_id = forms.id_of(typed.get("room_id"))
    if not room_id:
        return forms.refused(outcome)
    # show the form again with what was typed, and why it was not saved — only for a room the
    # user may open: another room answers 403 like its GET, and draws none of its residents
    return _form(
        db,
        scope.room_for(db, request.user, room_id),
        error=outcome.reason,
        typed=typed,
        entry_id=new_entry_id(),
        status=422,
        partial=bool(request.htmx),
    )


def _form(
    db: Session,
    room: Room,
    *,
    error: str = "",
    typed: dict | None = None,
    entry_id: uuid.UUID | None = None,
    status: int = 200,
    partial: bool = False,
) -> Template:
    return Template(
        "_visit_form.html" if partial else "visit_form.html",
        context={
            "room": room,
            "residents": dorm_visits.residents(db, room.id),
            # made when the form is drawn: posting the same form twice stores one visit
            "entry_id": entry_id or new_entry_id(),
            "typed": typed or {},
            "error": error,
            "presence": dorm_visits.PRESENCE,
            "issues": dorm_visits.ISSUES,
            "concerns": dorm_visits.CONCERNS,
        },
        status_code=status,
    )


ROUTES = [door, visit_form, save_visit]
