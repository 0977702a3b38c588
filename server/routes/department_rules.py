"""A department's own rules (guideline §4: departments set their assessment rules): weekly
quota targets per role, and how often parents are contacted by contact grade. Blank fields
keep the college's values (DESIGN.md's table, §2.5.4)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import due, params, scope, week
from server.auth import requires_leader
from server.models import ContactCadence, Department, User
from server.params import OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MAX_WEEKLY_TARGET = 50
MAX_CADENCE_DAYS = 365
GRADES = {"special": "特殊", "key": "重点", "general": "一般"}


@get("/department/rules", name="department_rules", guards=[requires_leader], sync_to_thread=True)
def department_rules(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    return _page(db, _department(db, request.user, department), request.user)


@post("/department/rules/save", name="save_rules", guards=[requires_leader], sync_to_thread=True)
def save_rules(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    """All or nothing: one bad field saves none of them and shows the page with the reason."""
    dept = _department(db, request.user, params.form_id(data, "department_id"))
    rows = week.department_rules(db, dept.id)
    try:
        targets = {
            (r.role, r.counts): _field(data, f"target_{r.role.value}_{r.counts}", MAX_WEEKLY_TARGET,
                                       f"{r.role.label}的“{r.label}”", lowest=0)
            for r in rows
        }  # fmt: skip
        days = {g: _field(data, f"cadence_{g}", MAX_CADENCE_DAYS, f"{label}学生的联系周期", lowest=1)
                for g, label in GRADES.items()}  # fmt: skip
    except ValueError as exc:
        return _page(db, dept, request.user, error=str(exc), status=422)
    if any(v is None for v in days.values()) and not all(v is None for v in days.values()):
        return _page(db, dept, request.user, error="联系周期三项要么都填，要么都不填。", status=422)
    for (role, counts), target in targets.items():
        week.set_department_target(db, dept.id, role, counts, target)
    due.set_cadence(db, dept.id, None if days["special"] is None else days)
    db.commit()
    url = request.app.route_reverse("department_rules")
    return Redirect(f"{url}?department={dept.id}&saved=1", status_code=303)


def _page(db: Session, dept: Department, user: User, *, error: str = "", status: int = 200):
    own = db.get(ContactCadence, dept.id)
    return Template(
        "department_rules.html",
        context={
            "department": dept,
            "departments": db.scalars(select(Department).order_by(Department.id)).all()
            if scope.sees_everything(user)
            else [dept],
            "rules": week.department_rules(db, dept.id),
            "cadence_default": due.DEFAULT_CADENCE,
            "cadence_words": due.GUIDELINE_WORDS,
            "cadence_own": {
                "special": own.special_days, "key": own.key_days, "general": own.general_days
            } if own else {},
            "grades": GRADES,
            "error": error,
        },
        status_code=status,
    )  # fmt: skip


def _department(db: Session, user: User, wanted: int | None) -> Department:
    return scope.department_for(db, user, wanted, refusal="只能设置本系部的规则。")


def _field(data: dict, name: str, highest: int, label: str, *, lowest: int) -> int | None:
    """Blank: the college's value (None). Otherwise a whole number in range, or ValueError."""
    raw = params.one(data, name).strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdecimal() or not lowest <= int(raw) <= highest:
        raise ValueError(f"{label}应为 {lowest} 到 {highest} 之间的整数（留空则用学院标准）。")
    return int(raw)


ROUTES = [department_rules, save_rules]
