"""排班 (building the duty roster): leaders, the office and admins, guideline §2.4.

The first screen picks the period, the staff, the buildings and the rounds; 生成排班 asks
the rotation (server/duty.py) for a proposal and 载入已保存的排班 loads the saved one; both
show a grid with one choice per round and building to edit by hand. Every change re-checks
the grid through htmx (the problems partial); saving refuses a roster that still has
problems, and otherwise replaces the department's shifts of the period.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, duty, params, scope, semesters
from server.auth import requires_leader
from server.flash import flash
from server.models import Building, Department, DutyShift, Slot, User
from server.params import OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/duty/roster", name="duty_roster", guards=[requires_leader], sync_to_thread=True)
def roster(
    request: Request[User, dict, object],
    db: Session,
    start: str = "",
    end: str = "",
    department: OptionalId = None,
) -> Template:
    """The roster builder's first screen: next week, every staff member, the usual buildings."""
    dept = _department(db, request.user, department)
    next_monday = clock.week_of(clock.today())[0] + timedelta(days=7)
    try:
        first = duty.parse_date(start) if start else next_monday
        last = duty.parse_date(end) if end else first + timedelta(days=6)
        duty.period_dates(first, last)
    except duty.RosterError as e:
        return _refused(str(e), status=400)
    usual = set(db.scalars(select(DutyShift.building_id).where(DutyShift.department_id == dept.id)))
    plan = {
        "department_id": dept.id,
        "start": first,
        "end": last,
        "staff": [u.id for u in duty.department_staff(db, dept.id)],
        "buildings": sorted(usual),
        "slots": list(duty.SLOTS),
    }
    # the calendar's holidays of the period start out as the roster's (the leader may edit them)
    plan["holidays"] = semesters.holidays_between(db, first, last)
    plan["holidays_text"] = " ".join(sorted(d.isoformat() for d in plan["holidays"]))
    return _builder(request, db, dept, plan)


@post("/duty/windows", name="duty_windows", guards=[requires_leader], sync_to_thread=True)
def save_windows(
    request: Request[User, dict, object], db: Session, data: Form
) -> Template | Redirect:
    """巡查时间: the department's own morning and evening round windows."""
    dept = _department(db, request.user, params.form_id(data, "department_id"))
    try:
        windows = {
            slot: (
                _time(params.one(data, f"{slot.value}_starts")),
                _time(params.one(data, f"{slot.value}_ends")),
            )  # fmt: skip
            for slot in duty.SLOTS
        }
        duty.set_windows(db, dept.id, windows)
    except duty.RosterError as e:
        db.rollback()
        return _refused(str(e))
    db.commit()
    flash(request, "巡查时间段已保存。")
    target = f"{request.app.route_reverse('duty_roster')}?department={dept.id}"
    return Redirect(target, status_code=303)


@post("/duty/roster/draft", name="duty_roster_draft", guards=[requires_leader], sync_to_thread=True)
def roster_draft(request: Request[User, dict, object], db: Session, data: Form) -> Template:
    """生成排班 (the rotation proposes) or 载入已有排班 (the saved shifts), ready to edit."""
    dept = _department(db, request.user, params.form_id(data, "department_id"))
    try:
        plan = _plan(db, dept, data)
        if data.get("action") == "load":
            saved = duty.shifts_between(db, dept.id, plan["start"], plan["end"])
            shifts = [duty.Shift(s.date, s.slot, s.building_id, s.staff_id) for s in saved]
            plan["buildings"] = sorted({*plan["buildings"], *(s.building_id for s in shifts)})
        else:
            shifts = duty.rotation(
                plan["staff"], plan["dates"], plan["slots"], plan["buildings"], plan["holidays"]
            )
    except duty.RosterError as e:
        return _builder(request, db, dept, _plan_as_typed(data), error=str(e), status=422)
    return _builder(request, db, dept, plan, shifts=shifts)


@post("/duty/roster/check", name="duty_roster_check", guards=[requires_leader], sync_to_thread=True)
def roster_check(request: Request[User, dict, object], db: Session, data: Form) -> Template:
    """htmx: the problems of the roster as edited so far, shown before saving."""
    dept = _department(db, request.user, params.form_id(data, "department_id"))
    try:
        plan = _plan(db, dept, data)
        cells = _cells(db, dept, plan, data)
        problems = _problems(db, dept, plan, cells)
    except duty.RosterError as e:
        return Template("_roster_problems.html", context={"error": str(e), "problems": []})
    return Template(
        "_roster_problems.html",
        context={"problems": problems, "error": "", "leave": _leave(db, dept, cells)},
    )


@post("/duty/roster/save", name="duty_roster_save", guards=[requires_leader], sync_to_thread=True)
def roster_save(
    request: HTMXRequest, db: Session, data: Form
) -> Template | Redirect | ClientRedirect:
    """Save: the department's shifts of the period become the edited ones, when nothing is wrong."""
    dept = _department(db, request.user, params.form_id(data, "department_id"))
    try:
        plan = _plan(db, dept, data)
        shifts = _cells(db, dept, plan, data)
    except duty.RosterError as e:
        return _builder(request, db, dept, _plan_as_typed(data), error=str(e), status=422)
    problems = _problems(db, dept, plan, shifts)
    if problems:
        return _builder(
            request,
            db,
            dept,
            plan,
            shifts=shifts,
            error="排班还有问题，未保存。请先处理下面列出的问题。",
            status=422,
        )
    duty.replace_roster(db, dept.id, plan["start"], plan["end"], shifts)
    db.commit()
    flash(request, f"排班已保存（{plan['start'].isoformat()} 至 {plan['end'].isoformat()}）。")
    target = f"{request.app.route_reverse('duty')}?week={plan['start'].isoformat()}"
    return ClientRedirect(target) if request.htmx else Redirect(target, status_code=303)


# ---------------------------------------------------------------- helpers


def _time(value: Any) -> time:
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        raise duty.RosterError(f"无法识别的时间：{value}（应为 21:00 这样的格式）") from None


def _many(data: dict, name: str) -> list[str]:
    return params.many(data, name)


def _refused(message: str, status: int = 422) -> Template:
    return Template(
        "error.html",
        context={"status": status, "title": "无法完成", "message": message},
        status_code=status,
    )


def _department(db: Session, user: User, wanted: int | None) -> Department:
    """The department whose roster is built: a leader's own; the office and admins pick."""
    return scope.department_for(db, user, wanted, refusal="只能编排本系部的值班。")


def _plan_as_typed(data: dict) -> dict:
    """What was typed, to show the form again after a refusal."""
    return {
        "department_id": params.form_id(data, "department_id"),
        "start": data.get("start", ""),
        "end": data.get("end", ""),
        "staff": params.form_ids(data, "staff"),
        "buildings": params.form_ids(data, "buildings"),
        "slots": [s for s in _many(data, "slots") if s in Slot.__members__],
        "holidays_text": data.get("holidays", ""),
    }


def _plan(db: Session, dept: Department, data: dict) -> dict:
    """Read and check the roster settings; raises RosterError with a message to show."""
    start, end = duty.parse_date(data.get("start", "")), duty.parse_date(data.get("end", ""))
    dates = duty.period_dates(start, end)
    known_staff = {u.id for u in duty.department_staff(db, dept.id)}
    staff = params.form_ids(data, "staff")
    if any(s not in known_staff for s in staff):
        raise duty.RosterError("所选值班人员中有不属于本系部的人员。")
    buildings = params.form_ids(data, "buildings")
    known_buildings = set(db.scalars(select(Building.id)))
    if any(b not in known_buildings for b in buildings):
        raise duty.RosterError("所选宿舍楼中有不存在的楼栋。")
    slots = [Slot(s) for s in duty.SLOTS if s.value in _many(data, "slots")]
    holidays_text = params.one(data, "holidays")
    holidays = {duty.parse_date(t) for t in re.split(r"[\s,，、;；]+", holidays_text) if t}
    return {
        "department_id": dept.id,
        "start": start,
        "end": end,
        "dates": [d for d in dates if d not in holidays],
        "holidays": holidays,
        "holidays_text": holidays_text,
        "staff": staff,
        "buildings": buildings,
        "slots": slots,
    }


def _cells(db: Session, dept: Department, plan: dict, data: dict) -> list[duty.Shift]:
    """The edited grid: one field per round and building, `cell:<date>:<slot>:<building>`."""
    known_staff = {u.id for u in duty.department_staff(db, dept.id)}
    shifts = []
    for name, value in data.items():
        if not name.startswith("cell:") or value in ("", None):
            continue
        try:
            _, day, slot, building = name.split(":")
            shift = duty.Shift(
                date.fromisoformat(day), Slot(slot), params.as_id(building), params.as_id(value)
            )
        except (ValueError, TypeError):
            raise duty.RosterError("排班表格内容有误，请重新生成。") from None
        if shift.staff_id not in known_staff:
            raise duty.RosterError("排班中有不属于本系部的值班人员。")
        if shift.building_id not in plan["buildings"]:
            raise duty.RosterError("排班中有未选择的宿舍楼，请勾选后重新生成。")
        if shift.date in plan["dates"] and shift.slot in plan["slots"]:  # holidays stay empty
            shifts.append(shift)
    return shifts


def _problems(db: Session, dept: Department, plan: dict, shifts: list[duty.Shift]) -> list[str]:
    """The roster's problems, in words."""
    problems = duty.roster_problems(shifts, plan["dates"], plan["slots"], plan["buildings"])
    if not problems:
        return []
    names = {u.id: u.name for u in duty.department_staff(db, dept.id)}
    buildings = {b.id: b.name for b in db.scalars(select(Building))}
    return [p.text(names, buildings) for p in problems]


def _builder(
    request: Request,
    db: Session,
    dept: Department,
    plan: dict,
    *,
    shifts: list[duty.Shift] | None = None,
    error: str = "",
    status: int = 200,
) -> Template:
    staff = duty.department_staff(db, dept.id)
    buildings = db.scalars(select(Building).order_by(Building.name)).all()
    problems = []
    dates = []
    if shifts is not None:
        problems = _problems(db, dept, plan, shifts)
        dates = duty.period_dates(plan["start"], plan["end"])
    return Template(
        "duty_roster.html",
        context={
            "dept": dept,
            "departments": db.scalars(select(Department).order_by(Department.id)).all()
            if scope.sees_everything(request.user)
            else [],
            "plan": plan,
            "staff": staff,
            "buildings": buildings,
            "building_names": {b.id: b.name for b in buildings},
            "grid": {(s.date, s.slot, s.building_id): s.staff_id for s in shifts or []},
            "has_grid": shifts is not None,
            "dates": dates,
            "problems": problems,
            "leave": _leave(db, dept, shifts or []),  # approved leave on a shift: a warning
            "error": error,
            "day_label": duty.day_label,
            "slots": duty.SLOTS,
            "windows": duty.windows_for(db, dept.id),
        },
        status_code=status,
    )


ROUTES = [roster, save_windows, roster_draft, roster_check, roster_save]


def _leave(db: Session, dept: Department, shifts: list) -> list[str]:
    """Shifts on a day of approved leave, with the suggested substitute, in words."""
    clashes = duty.leave_clashes(db, dept.id, shifts)
    if not clashes:
        return []
    names = {u.id: u.name for u in db.scalars(select(User).where(User.department_id == dept.id))}
    buildings = {b.id: b.name for b in db.scalars(select(Building))}
    return [c.text(names, buildings) for c in clashes]
