"""本周工作量: each counselor's and class teacher's week against the quotas, for leaders."""

from __future__ import annotations

from datetime import date

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, homes, params, scope
from server.auth import requires_leader
from server.models import Department, User
from server.params import OptionalId


@get("/department/week", name="department_week", guards=[requires_leader], sync_to_thread=True)
def department_week(
    request: Request[User, dict, object], db: Session, day: date | None = None,
    department: OptionalId = None, behind: bool = False,
) -> Template:  # fmt: skip
    """Each counselor and class teacher of the department, their week against the quotas;
    `behind`: only those with a quota not met yet (the leader's and the office's homes)."""
    user = request.user
    monday = clock.monday_of(params.check_date(day) if day else clock.today())
    if department is not None:
        department = scope.department_for(
            db, user, department, refusal="只能查看本系部的工作量。"
        ).id
    rows = homes.staff_weeks(db, user, monday, department)
    if department is None and scope.sees_everything(user):
        # the office: one row per department (its quotas met / people), not every person's
        # card; a department's row opens its people (?department=…)
        return Template(
            "department_week_office.html",
            context={"monday": monday, "rows": _by_department(db, rows), "behind": behind},
        )
    if behind:
        rows = [(person, progress) for person, progress in rows if homes.behind(progress)]
    return Template(
        "department_week.html", context={"monday": monday, "rows": rows, "behind": behind}
    )


def _by_department(db: Session, rows) -> list[dict]:
    out: dict[int | None, dict] = {}
    names = dict(db.execute(select(Department.id, Department.name)).all())
    for person, progress in rows:
        row = out.setdefault(person.department_id, {
            "id": person.department_id, "name": names.get(person.department_id, "（无系部）"),
            "people": 0, "behind": 0, "quotas": {},
        })  # fmt: skip
        row["people"] += 1
        row["behind"] += 1 if homes.behind(progress) else 0
        for quota in progress:
            met = row["quotas"].setdefault(quota.label, [0, 0])
            met[0] += 1 if quota.met else 0
            met[1] += 1
    return sorted(out.values(), key=lambda r: r["name"])


ROUTES = [department_week]
