"""值班 (guideline §2.4): the roster on phones, missed rounds, swaps, the Excel sheet.

Everyone reads /duty (their own shifts first; cached by 准备巡查 for offline reading) and
may print the roster; leaders, the office and admins see missed rounds. Building a roster
is in duty_roster.py. The rules live in server/duty.py and server/swaps.py; these handlers
parse, call and render.
"""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from server import clock, duty, homes, params, scope, swaps
from server.auth import requires_leader
from server.flash import flash
from server.models import DutyShift, Role, SwapRequest, SwapStatus, User
from server.params import Id, OptionalId

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MY_SHIFTS_DAYS = 28  # "my shifts" looks four weeks ahead
MISSED_DAYS = homes.MISSED_DAYS  # leaders see missed rounds of the last week
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/duty", name="duty", sync_to_thread=True)
def duty_page(request: Request[User, dict, object], db: Session, week: str = "") -> Template:
    """My shifts, today's duty, this week's roster, and the swap requests I am part of."""
    user = request.user
    today = clock.today()
    try:
        monday, sunday = clock.week_of(duty.parse_date(week) if week else today)
    except duty.RosterError as e:
        return _refused(str(e), status=400)
    department_id = user.department_id  # None: the office and admins see every department
    mine = db.scalars(
        select(DutyShift)
        .options(joinedload(DutyShift.building))
        .where(
            DutyShift.staff_id == user.id,
            DutyShift.date >= today,
            DutyShift.date < today + timedelta(days=MY_SHIFTS_DAYS),
        )
    ).all()
    week_shifts = duty.shifts_between(db, department_id, monday, sunday)
    return Template(
        "duty.html",
        context={
            "today": today,
            "monday": monday,
            "mine": sorted(mine, key=lambda s: (s.date, duty.SLOTS.index(s.slot))),
            "today_shifts": duty.shifts_between(db, department_id, today, today),
            "days": _by_day(duty.period_dates(monday, sunday), week_shifts),
            "swaps": _swaps_for(db, user),
            "prev_week": (monday - timedelta(days=7)).isoformat(),
            "next_week": (monday + timedelta(days=7)).isoformat(),
            "day_label": duty.day_label,
            "slots": duty.SLOTS,
        },
    )


@get("/duty/missed", name="duty_missed", guards=[requires_leader], sync_to_thread=True)
def missed(
    request: Request[User, dict, object], db: Session, department: OptionalId = None
) -> Template:
    """Missed rounds of the last week: the leader's department; the office and admin every
    department, or one (`department`, the office's home)."""
    today = clock.today()
    start = today - timedelta(days=MISSED_DAYS - 1)
    department_id = request.user.department_id
    if department is not None:
        department_id = scope.department_for(
            db, request.user, department, refusal="只能查看本系部的漏巡记录。"
        ).id
    rounds = homes.missed_rounds(db, department_id, today)
    return Template(
        "duty_missed.html",
        context={"rounds": rounds, "start": start, "today": today, "day_label": duty.day_label},
    )


@get("/duty/swaps/waiting", name="swaps_waiting", guards=[requires_leader], sync_to_thread=True)
def waiting_swaps(request: Request[User, dict, object], db: Session) -> Template:
    """换班待审批: swaps a colleague accepted, waiting for the leader (the leader's home)."""
    rows = db.scalars(
        homes.swaps_waiting(request.user)
        .options(
            joinedload(SwapRequest.shift).joinedload(DutyShift.building),
            joinedload(SwapRequest.colleague_shift).joinedload(DutyShift.building),
            joinedload(SwapRequest.requester),
            joinedload(SwapRequest.colleague),
        )
        .order_by(SwapRequest.id)
    ).all()
    return Template("duty_swaps_waiting.html", context={"swaps": rows, "day_label": duty.day_label})


@get("/duty/roster.xlsx", name="duty_roster_xlsx", sync_to_thread=True)
def roster_xlsx(
    request: Request[User, dict, object], db: Session, start: str = "", end: str = ""
) -> Response:
    """The roster of a period as an Excel sheet to print (this week by default)."""
    monday, sunday = clock.week_of(clock.today())
    try:
        first, last = (
            duty.parse_date(start) if start else monday,
            duty.parse_date(end) if end else sunday,
        )
        duty.period_dates(first, last)
    except duty.RosterError as e:
        return _refused(str(e), status=400)
    department = request.user.department
    shifts = duty.shifts_between(db, request.user.department_id, first, last)
    book = duty.roster_workbook(department.name if department else "全院", first, last, shifts)
    out = BytesIO()
    book.save(out)
    filename = quote(f"值班表_{first:%Y%m%d}-{last:%Y%m%d}.xlsx")
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


# ---------------------------------------------------------------- swap requests


@get("/duty/shifts/{shift_id:int}/swap", name="duty_swap_form", sync_to_thread=True)
def swap_form(request: Request[User, dict, object], db: Session, shift_id: Id) -> Template:
    shift = scope.shift_for(db, request.user, shift_id)
    return _swap_form(db, request.user, shift)


@post("/duty/swaps", name="duty_swap_ask", sync_to_thread=True)
def swap_ask(request: Request[User, dict, object], db: Session, data: Form) -> Template | Redirect:
    shift = scope.shift_for(db, request.user, params.form_id(data, "shift_id") or 0)
    try:
        swaps.ask(
            db,
            request.user,
            shift,
            params.form_id(data, "colleague_id"),
            params.form_id(data, "colleague_shift_id"),
            params.one(data, "note"),
            today=clock.today(),
        )
    except duty.RosterError as e:
        db.rollback()
        return _swap_form(db, request.user, shift, error=str(e), status=422)
    db.commit()
    flash(request, "换班申请已发出，等对方答复。")
    return Redirect(request.app.route_reverse("duty"), status_code=303)


@post("/duty/swaps/{swap_id:int}/answer", name="duty_swap_answer", sync_to_thread=True)
def swap_answer(
    request: Request[User, dict, object], db: Session, swap_id: Id, data: Form
) -> Template | Redirect:
    """The colleague: 同意 (accept) or 拒绝 (refuse)."""
    swap = scope.swap_for(db, request.user, swap_id, to="answer")
    accepted = params.one(data, "answer") == "accept"
    try:
        swaps.answer(swap, accepted)
    except duty.RosterError as e:
        return _refused(str(e))
    db.commit()
    flash(request, "已同意换班，等负责人批准。" if accepted else "已拒绝换班。")
    return Redirect(request.app.route_reverse("duty"), status_code=303)


@post(
    "/duty/swaps/{swap_id:int}/decide",
    name="duty_swap_decide",
    guards=[requires_leader],
    sync_to_thread=True,
)
def swap_decide(
    request: Request[User, dict, object], db: Session, swap_id: Id, data: Form
) -> Template | Redirect:
    """The department leader: 批准 (approve, the roster changes) or 不批准 (reject)."""
    user = request.user
    swap = scope.swap_for(db, user, swap_id, to="decide")
    approved = params.one(data, "decision") == "approve"
    try:
        swaps.decide(db, user, swap, approved)
    except duty.RosterError as e:
        db.rollback()
        return _refused(str(e))
    db.commit()
    flash(request, "已批准换班，值班表已更新。" if approved else "已不批准这次换班。")
    return Redirect(request.app.route_reverse("duty"), status_code=303)


# ---------------------------------------------------------------- helpers


def _refused(message: str, status: int = 422) -> Template:
    return Template(
        "error.html",
        context={"status": status, "title": "无法完成", "message": message},
        status_code=status,
    )


def _by_day(dates: list[date], shifts: list[DutyShift]) -> list[tuple[date, dict]]:
    rows = []
    for day in dates:
        rows.append(
            (
                day,
                {
                    slot: [s for s in shifts if (s.date, s.slot) == (day, slot)]
                    for slot in duty.SLOTS
                },
            )
        )
    return rows


def _swaps_for(db: Session, user: User) -> list[SwapRequest]:
    """Swap requests this person is part of; leaders also those waiting for their approval."""
    involved = [SwapRequest.requester_id == user.id, SwapRequest.colleague_id == user.id]
    if user.has(Role.leader, Role.office, Role.admin):
        involved.append(
            (SwapRequest.status == SwapStatus.accepted)
            & scope.department_condition(user, SwapRequest.department_id)
        )
    return list(
        db.scalars(
            select(SwapRequest)
            .options(
                joinedload(SwapRequest.shift).joinedload(DutyShift.building),
                joinedload(SwapRequest.colleague_shift).joinedload(DutyShift.building),
                joinedload(SwapRequest.requester),
                joinedload(SwapRequest.colleague),
            )
            .where(or_(*involved))
            .order_by(SwapRequest.id.desc())
            .limit(30)
        )
    )


def _swap_form(
    db: Session, user: User, shift: DutyShift, error: str = "", status: int = 200
) -> Template:
    today = clock.today()
    colleagues = [u for u in duty.department_staff(db, shift.department_id) if u.id != user.id]
    theirs = db.scalars(
        select(DutyShift)
        .options(joinedload(DutyShift.building), joinedload(DutyShift.staff))
        .where(
            DutyShift.department_id == shift.department_id,
            DutyShift.staff_id != user.id,
            DutyShift.date >= today,
            DutyShift.date < today + timedelta(days=MY_SHIFTS_DAYS),
        )
    ).all()
    return Template(
        "duty_swap_form.html",
        context={
            "shift": shift,
            "colleagues": colleagues,
            "their_shifts": sorted(theirs, key=lambda s: (s.date, duty.SLOTS.index(s.slot))),
            "error": error,
            "day_label": duty.day_label,
        },
        status_code=status,
    )


ROUTES = [
    duty_page, missed, waiting_swaps, roster_xlsx, swap_form, swap_ask, swap_answer, swap_decide
]
