"""Approved staff leave meets the roster (§1.9, §2.4): the leader's list of shifts on a day
of approved leave, each with a suggested substitute (server/duty.py `leave_clashes`)."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, duty, scope
from server.auth import requires_leader
from server.models import Building, User
from server.params import OptionalId


@get("/duty/leave-clashes", name="duty_leave_clashes", guards=[requires_leader],
     sync_to_thread=True)  # fmt: skip
def duty_leave_clashes(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    dept = scope.department_for(db, request.user, department, refusal="只能查看本系部的值班。")
    today = clock.today()
    clashes = duty.upcoming_leave_clashes(db, dept.id, today)
    return Template(
        "duty_leave_clashes.html",
        context={
            "dept": dept, "clashes": clashes, "today": today, "day_label": duty.day_label,
            "days": duty.LEAVE_LOOKAHEAD_DAYS,
            "names": {u.id: u.name for u in db.scalars(select(User).where(User.department_id == dept.id))},
            "buildings": {b.id: b.name for b in db.scalars(select(Building))},
        },
    )  # fmt: skip


ROUTES = [duty_leave_clashes]
