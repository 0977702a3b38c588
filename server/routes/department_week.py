"""本周工作量: each counselor's and class teacher's week against the quotas, for leaders."""

from __future__ import annotations

from datetime import date

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, params, scope, week
from server.auth import requires_leader
from server.models import Role, User, UserRole


@get("/department/week", name="department_week", guards=[requires_leader], sync_to_thread=True)
def department_week(
    request: Request[User, dict, object], db: Session, day: date | None = None
) -> Template:
    """Each counselor and class teacher of the department, their week against the quotas."""
    user = request.user
    monday = clock.monday_of(params.check_date(day) if day else clock.today())
    staff = (
        select(User)
        .join(UserRole)
        .where(
            UserRole.role.in_([Role.counselor, Role.class_teacher]),
            User.active.is_(True),
            scope.department_condition(user, User.department_id),
        )
    )
    people = db.scalars(staff.distinct().order_by(User.name).limit(500)).all()
    return Template(
        "department_week.html",
        context={
            "monday": monday,
            "rows": [(person, week.my_week(db, person, monday)) for person in people],
        },
    )


ROUTES = [department_week]
