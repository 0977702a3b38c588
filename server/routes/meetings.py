"""Weekly meetings (§2.1–§2.3): the leader's weeks without one, and a class's 班会手册."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from server import clock, meetings, scope
from server.auth import requires_leader
from server.models import User
from server.params import Id, OptionalId
from server.records import MEETING_TYPES


@get("/department/meetings", name="department_meetings", guards=[requires_leader],
     sync_to_thread=True)  # fmt: skip
def department_meetings(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    """每周例会: the weeks of the semester without a staff meeting, a cadre meeting or a
    class's class-committee meeting."""
    dept = scope.department_for(db, request.user, department, refusal="只能查看本系部的例会情况。")
    today = clock.today()
    return Template(
        "department_meetings.html",
        context={"dept": dept, "missing": meetings.weeks_without(db, dept.id, today),
                 "today": today},
    )  # fmt: skip


@get("/classes/{class_id:int}/meetings", name="class_meeting_handbook", sync_to_thread=True)
def class_meeting_handbook(
    request: Request[User, dict, object], db: Session, class_id: Id
) -> Template:
    """班会手册: the class's committee meetings and 主题班会, printable."""
    school_class = scope.class_for(db, request.user, class_id)
    entries = meetings.handbook(db, school_class)
    return Template(
        "class_meeting_handbook.html",
        context={"school_class": school_class, "entries": entries, "types": MEETING_TYPES,
                 "names": meetings.staff_names(db, entries)},
    )  # fmt: skip


ROUTES = [department_meetings, class_meeting_handbook]
