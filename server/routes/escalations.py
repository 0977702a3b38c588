"""关注上报 (server/escalations.py): the list by state for leaders and the office, one
escalation with its steps, the steps' forms (确认, 跟进, 指定跟进人, 办结), and the reporter's
own list (/escalations/mine)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from server import escalations, flash, params, scope, worklog
from server.auth import role_guard
from server.dorm_visits import CONCERNS
from server.kinds import KINDS
from server.models import Department, Escalation, Role, User
from server.params import Id, OptionalId
from server.settings import Settings

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
# escalations carry sensitive notes: leaders and the office, not admin (scope.py)
requires_leader_or_office = role_guard(Role.leader, Role.office)
StateFilter = Annotated[str | None, Parameter(query="state", max_length=20)]


@get("/escalations", name="escalations", guards=[requires_leader_or_office], sync_to_thread=True)
def escalation_list(
    request: Request[User, dict, object],
    db: Session,
    settings: Settings,
    department: OptionalId = None,
    wanted: StateFilter = None,
) -> Template:
    """By state, the oldest 待确认 first; `?state=` one state, `open` or `overdue` (the home
    cards' lists); `?department=` the office's row of a department (server/homes.py)."""
    wanted = wanted or None  # ?state= empty: every state
    if wanted is not None and wanted not in escalations.FILTERS:
        raise ValidationException(f"没有这种状态：{wanted[:20]}")
    if department is not None:
        department = scope.department_for(
            db, request.user, department, refusal="只能查看本系部的关注上报。"
        ).id
    rows = escalations.listed(db, request.user, wanted, settings.escalation_ack_hours, department)
    if scope.note_sensitive_reads(db, request.user, [e.entry for e in rows], "escalations"):
        db.commit()
    deleted = [e.entry for e in rows if e.entry.deleted]
    groups: dict[str, list[Escalation]] = {}
    for row in rows:
        groups.setdefault(row.state, []).append(row)
    hours = settings.escalation_ack_hours
    return Template(
        "escalations.html",
        context={
            "escalations": rows,
            "groups": groups,
            "states": escalations.STATES,
            "filters": escalations.FILTERS,
            "wanted": wanted,
            "department": department,
            "concerns": CONCERNS,
            "overdue": {e.id for e in rows if escalations.is_overdue(e, hours)},
            "hours": hours,
            "students": {e.id: escalations.students_of(db, e) for e in rows},
            "deletion_reasons": worklog.deletion_reasons(db, deleted),
        },
    )


@get("/escalations/mine", name="my_escalations", sync_to_thread=True)
def my_escalations(request: Request[User, dict, object], db: Session) -> Template:
    """我上报的: the state of each escalation of my records (data-count: the home card's)."""
    rows = escalations.reported_by(db, request.user)
    return Template(
        "escalations_mine.html",
        context={
            "escalations": rows,
            "open_count": sum(1 for e in rows if e.state != "closed"),
            "states": escalations.STATES,
            "concerns": CONCERNS,
            "students": {e.id: escalations.students_of(db, e) for e in rows},
        },
    )


@get("/escalations/{escalation_id:int}", name="escalation", sync_to_thread=True)
def escalation_page(
    request: Request[User, dict, object], db: Session, settings: Settings, escalation_id: Id
) -> Template:
    escalation = scope.escalation_for(db, request.user, escalation_id)
    if scope.note_sensitive_reads(db, request.user, [escalation.entry], "escalation"):
        db.commit()
    return _page(db, request.user, settings, escalation)


@post("/escalations/{escalation_id:int}/acknowledge", name="acknowledge_escalation",
      sync_to_thread=True)  # fmt: skip
def acknowledge(
    request: Request[User, dict, object], db: Session, settings: Settings, escalation_id: Id
) -> Template | Redirect:
    user = request.user
    escalation = scope.escalation_for(db, user, escalation_id, to_handle=True)
    return _act(request, db, settings, escalation, "已确认",
                lambda: escalations.acknowledge(db, user, escalation))  # fmt: skip


@post("/escalations/{escalation_id:int}/notes", name="escalation_note", sync_to_thread=True)
def add_note(
    request: Request[User, dict, object], db: Session, settings: Settings, escalation_id: Id,
    data: Form,
) -> Template | Redirect:  # fmt: skip
    user = request.user
    escalation = scope.escalation_for(db, user, escalation_id, to_handle=True)
    text, for_reporter = params.one(data, "text"), params.one(data, "for_reporter") == "1"
    return _act(request, db, settings, escalation, "跟进记录已保存",
                lambda: escalations.add_note(db, user, escalation, text, for_reporter))  # fmt: skip


@post("/escalations/{escalation_id:int}/assign", name="assign_escalation", sync_to_thread=True)
def assign(
    request: Request[User, dict, object], db: Session, settings: Settings, escalation_id: Id,
    data: Form,
) -> Template | Redirect:  # fmt: skip
    user = request.user
    escalation = scope.escalation_for(db, user, escalation_id, to_handle=True)

    def act():
        try:
            assignee = params.form_id(data, "assignee")
        except params.BadInput as exc:
            raise escalations.EscalationError(exc.detail) from None
        return escalations.assign(db, user, escalation, assignee)

    return _act(request, db, settings, escalation, "已指定跟进人", act)


@post("/escalations/{escalation_id:int}/close", name="close_escalation", sync_to_thread=True)
def close(
    request: Request[User, dict, object], db: Session, settings: Settings, escalation_id: Id,
    data: Form,
) -> Template | Redirect:  # fmt: skip
    user = request.user
    escalation = scope.escalation_for(db, user, escalation_id, to_handle=True)
    outcome = params.one(data, "outcome")
    return _act(request, db, settings, escalation, "已办结",
                lambda: escalations.close(db, user, escalation, outcome))  # fmt: skip


def _act(request, db: Session, settings: Settings, escalation, done: str, action):
    """Take a step; a refused one shows the escalation again with the reason (409)."""
    try:
        action()
    except escalations.EscalationError as exc:
        db.rollback()
        return _page(db, request.user, settings, escalation, error=str(exc), status=409)
    db.commit()
    flash.flash(request, done)
    return Redirect(
        request.app.route_reverse("escalation", escalation_id=escalation.id), status_code=303
    )


def _page(db: Session, user: User, settings: Settings, escalation: Escalation, *,
          error: str = "", status: int = 200) -> Template:  # fmt: skip
    db.refresh(escalation)
    handles = escalations.handles(user, escalation)
    entry = escalation.entry
    kind = KINDS.get(entry.kind)
    return Template(
        "escalation.html",
        context={
            "e": escalation,
            "entry": entry,
            "kind": kind,
            "handles": handles,
            "reporter": entry.author,
            "students": escalations.students_of(db, escalation),
            "steps": escalations.steps_for(db, user, escalation),
            "assignable": escalations.assignable(db, escalation) if handles else [],
            "department": db.get(Department, escalation.department_id)
            if escalation.department_id
            else None,  # fmt: skip
            "states": escalations.STATES,
            "actions": escalations.ACTIONS,
            "concerns": CONCERNS,
            "overdue": escalations.is_overdue(escalation, settings.escalation_ack_hours),
            "hours": settings.escalation_ack_hours,
            # the source record: its history page for those who may read it (scope.entry_for)
            "may_read_entry": handles or entry.author_id == user.id,
            "error": error,
        },
        status_code=status,
    )


ROUTES = [escalation_list, my_escalations, escalation_page, acknowledge, add_note, assign, close]
