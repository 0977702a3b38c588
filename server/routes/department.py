"""The department's records and escalations, for leaders and the student affairs office."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.auth import requires_leader
from server.dorm_visits import CONCERNS
from server.kinds import KINDS
from server.models import Entry, Escalation, Room, User

PAGE = 100


@get(
    "/department/records", name="department_records", guards=[requires_leader], sync_to_thread=True
)
def department_records(request: Request[User, dict, object], db: Session) -> Template:
    entries = db.scalars(
        select(Entry)
        .options(joinedload(Entry.author), joinedload(Entry.room).joinedload(Room.building))
        .where(scope.entry_condition(request.user), Entry.deleted.is_(False))
        .order_by(Entry.recorded_at.desc())
        .limit(PAGE)
    ).all()
    return Template("department_records.html", context={"entries": entries, "kinds": KINDS})


@get("/escalations", name="escalations", guards=[requires_leader], sync_to_thread=True)
def escalations(request: Request[User, dict, object], db: Session) -> Template:
    rows = db.scalars(
        select(Escalation)
        .options(
            joinedload(Escalation.entry).joinedload(Entry.author),
            joinedload(Escalation.room).joinedload(Room.building),
        )
        .where(scope.escalation_condition(request.user), Escalation.status == "open")
        .order_by(Escalation.created_at.desc())
        .limit(PAGE)
    ).all()
    return Template("escalations.html", context={"escalations": rows, "concerns": CONCERNS})


ROUTES = [department_records, escalations]
