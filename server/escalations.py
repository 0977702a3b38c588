"""关注上报 (escalations, §2.7.2, §2.8) handled to the end.

States: 待确认 (pending) → 已确认 (acknowledged: who, when) → 跟进中 (following: follow-up
notes, each with author and time, some meant for the reporter; an assignment to a named
person of the office or the department) → 已办结 (closed, with the outcome). Each step is a
row of `escalation_steps`, never edited; the escalation's own columns mirror the last step.

Who: the office handles every escalation, a department leader their department's
(scope.escalation_condition); the reporter (the record's author) reads the state of what
they reported and the notes meant for them (`steps_for`), nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.kinds import KINDS
from server.models import (
    Bed,
    Entry,
    Escalation,
    EscalationStep,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
)

STATES = {"pending": "待确认", "acknowledged": "已确认", "following": "跟进中", "closed": "已办结"}
OPEN_STATES = ("pending", "acknowledged", "following")
ACTIONS = {"acknowledge": "确认", "note": "跟进记录", "assign": "指定跟进人", "close": "办结"}
# the filters of /escalations?state=: one state, every open one, or the overdue ones
FILTERS = {**STATES, "open": "未办结", "overdue": "超时未确认"}
NOTE_MAX = 2000
CLOSED_SHOWN = 50  # /escalations shows the latest closed ones


class EscalationError(Exception):
    """A step that does not fit the escalation's state, or bad input: a Chinese reason."""


def now() -> datetime:
    return datetime.now(UTC)


def overdue_before(hours: int, at: datetime | None = None) -> datetime:
    return (at or now()) - timedelta(hours=hours)


def is_overdue(escalation: Escalation, hours: int, at: datetime | None = None) -> bool:
    return (
        escalation.status == "open"
        and escalation.state == "pending"
        and escalation.created_at < overdue_before(hours, at)
    )


def handles(user: User, escalation: Escalation) -> bool:
    """The office, and the leader of the escalation's department, take its steps."""
    if user.has(Role.office):
        return True
    return (
        user.has(Role.leader)
        and user.department_id is not None
        and user.department_id == escalation.department_id
    )


def listed(db: Session, user: User, wanted: str | None, hours: int,
           department_id: int | None = None) -> list[Escalation]:  # fmt: skip
    """The escalations /escalations shows: those the user handles (never withdrawn ones), of
    one state or filter; the oldest pending first, then the others oldest first, the latest
    closed last."""
    query = (
        select(Escalation)
        .options(
            joinedload(Escalation.entry).joinedload(Entry.author),
            joinedload(Escalation.room).joinedload(Room.building),
            joinedload(Escalation.assignee),
            joinedload(Escalation.acknowledged_by),
        )
        .where(*_listed_where(user, wanted, hours, department_id))
    )
    opened = list(
        db.scalars(
            query.where(Escalation.state != "closed").order_by(Escalation.created_at, Escalation.id)
        ).unique()
    )
    closed = []
    if wanted in (None, "closed"):
        closed = list(
            db.scalars(
                query.where(Escalation.state == "closed")
                .order_by(Escalation.closed_at.desc(), Escalation.id.desc())
                .limit(CLOSED_SHOWN)
            ).unique()
        )
    order = {state: i for i, state in enumerate(STATES)}
    return sorted(opened, key=lambda e: order[e.state]) + closed


def overdue_count(db: Session, user: User, hours: int, department_id: int | None = None) -> int:
    """How many `listed(…, "overdue", …)` would show (a home's card), counted in SQL."""
    where = _listed_where(user, "overdue", hours, department_id)
    return db.scalar(select(func.count(Escalation.id)).where(*where)) or 0


def _listed_where(
    user: User, wanted: str | None, hours: int, department_id: int | None
) -> list[ColumnElement[bool]]:
    where = [scope.escalation_condition(user), Escalation.status != "withdrawn"]
    if department_id is not None:
        where.append(Escalation.department_id == department_id)
    if wanted == "overdue":
        where += [
            Escalation.state == "pending",
            Escalation.status == "open",
            Escalation.created_at < overdue_before(hours),
        ]
    elif wanted == "open":
        where += [Escalation.state.in_(OPEN_STATES), Escalation.status == "open"]
    elif wanted in STATES:
        where.append(Escalation.state == wanted)
    return where


def reported_by(db: Session, user: User) -> list[Escalation]:
    """What the user reported (their records' escalations, withdrawn ones left out), newest first."""
    return list(
        db.scalars(
            select(Escalation)
            .join(Entry, Escalation.entry_id == Entry.id)
            .options(
                joinedload(Escalation.entry), joinedload(Escalation.room).joinedload(Room.building)
            )
            .where(Entry.author_id == user.id, Escalation.status != "withdrawn")
            .order_by(Escalation.created_at.desc())
            .limit(200)
        ).unique()
    )


def open_reported_count(db: Session, user: User) -> int:
    return sum(1 for e in reported_by(db, user) if e.state != "closed")


def of_entries(db: Session, user: User, entry_ids) -> dict:
    """entry id → its escalation, for the record pages and the work log: the reporter sees
    their own, the office and leaders those they handle."""
    ids = list(entry_ids)
    if not ids:
        return {}
    rows = db.scalars(
        select(Escalation)
        .join(Entry, Escalation.entry_id == Entry.id)
        .where(
            Escalation.entry_id.in_(ids),
            Escalation.status != "withdrawn",
            or_(Entry.author_id == user.id, scope.escalation_condition(user)),
        )
    )
    return {e.entry_id: e for e in rows}


@dataclass
class Named:
    """A student an escalation is about: name, 学号, class, room."""

    student: Student
    class_name: str
    room: str


def students_of(db: Session, escalation: Escalation) -> list[Named]:
    """The students of the escalation's record: a talk's students, a visit's residents."""
    entry = escalation.entry
    kind = KINDS.get(entry.kind)
    ids = sorted(kind.students(entry.payload)) if kind else []
    if not ids:
        return []
    rows = db.execute(
        select(Student, SchoolClass.name)
        .join(SchoolClass, Student.class_id == SchoolClass.id, isouter=True)
        .where(Student.id.in_(ids))
        .order_by(Student.student_number)
    ).all()
    rooms = {
        student_id: room.title
        for student_id, room in db.execute(
            select(Bed.student_id, Room)
            .join(Room, Bed.room_id == Room.id)
            .options(joinedload(Room.building))
            .where(Bed.student_id.in_(ids))
        )
    }
    return [Named(s, name or "", rooms.get(s.id, "")) for s, name in rows]


def steps(db: Session, escalation: Escalation) -> list[EscalationStep]:
    return list(
        db.scalars(
            select(EscalationStep)
            .options(joinedload(EscalationStep.author), joinedload(EscalationStep.assignee))
            .where(EscalationStep.escalation_id == escalation.id)
            .order_by(EscalationStep.at, EscalationStep.id)
        )
    )


def steps_for(db: Session, user: User, escalation: Escalation) -> list[EscalationStep]:
    """Every step for those who handle it; for the reporter the steps without a note (确认,
    指定, their times) and the notes meant for them — the outcome of 办结 is for them too."""
    every = steps(db, escalation)
    if handles(user, escalation):
        return every
    return [s for s in every if s.action != "note" or s.for_reporter]


def assignable(db: Session, escalation: Escalation) -> list[User]:
    """Who may be named to follow it up: active staff of the office, and of its department."""
    in_office = select(UserRole.user_id).where(UserRole.role == Role.office)
    return list(
        db.scalars(
            select(User)
            .where(
                User.active.is_(True),
                or_(User.id.in_(in_office), User.department_id == escalation.department_id),
            )
            .order_by(User.name)
        )
    )


# --- the steps ------------------------------------------------------------------------------


def _locked(db: Session, escalation: Escalation) -> Escalation:
    """The escalation again, locked for the step (PostgreSQL; SQLite writes one at a time), so
    two people acknowledging at once make one step and one refusal."""
    db.flush()
    locked = db.scalar(
        select(Escalation)
        .where(Escalation.id == escalation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked.status == "withdrawn":
        raise EscalationError("这条关注上报已撤回（记录修改后不再需要关注）。")
    return locked


def _step(db: Session, escalation: Escalation, user: User, action: str, **values) -> EscalationStep:
    step = EscalationStep(
        escalation_id=escalation.id, action=action, author_id=user.id, at=now(),
        text=values.get("text", ""), for_reporter=values.get("for_reporter", False),
        assignee_id=values.get("assignee_id"),
    )  # fmt: skip
    db.add(step)
    return step


def _text(value: str, what: str, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise EscalationError(f"请填写{what}。")
    if len(text) > NOTE_MAX:
        raise EscalationError(f"{what}太长（最多 {NOTE_MAX} 字）。")
    return text


def acknowledge(db: Session, user: User, escalation: Escalation) -> EscalationStep:
    escalation = _locked(db, escalation)
    if escalation.state != "pending":
        who = escalation.acknowledged_by.name if escalation.acknowledged_by else "其他人"
        raise EscalationError(f"这条关注上报已由{who}确认。")
    escalation.state = "acknowledged"
    escalation.acknowledged_by_id = user.id
    escalation.acknowledged_at = now()
    return _step(db, escalation, user, "acknowledge")


def _followed(escalation: Escalation) -> None:
    if escalation.state == "pending":
        raise EscalationError("请先确认这条关注上报，再记录跟进。")
    if escalation.state == "closed":
        raise EscalationError("这条关注上报已办结，不能再记录跟进。")
    escalation.state = "following"


def add_note(db: Session, user: User, escalation: Escalation, text: str,
             for_reporter: bool) -> EscalationStep:  # fmt: skip
    text = _text(text, "跟进记录", required=True)
    escalation = _locked(db, escalation)
    _followed(escalation)
    return _step(db, escalation, user, "note", text=text, for_reporter=for_reporter)


def assign(
    db: Session, user: User, escalation: Escalation, assignee_id: int | None
) -> EscalationStep:
    escalation = _locked(db, escalation)
    allowed = {u.id: u for u in assignable(db, escalation)}
    if assignee_id is None or assignee_id not in allowed:
        raise EscalationError("请选择学生处或本系部的一位在职人员作为跟进人。")
    _followed(escalation)
    escalation.assignee_id = assignee_id
    return _step(db, escalation, user, "assign", assignee_id=assignee_id)


def close(db: Session, user: User, escalation: Escalation, outcome: str) -> EscalationStep:
    outcome = _text(outcome, "办结结果", required=True)
    escalation = _locked(db, escalation)
    if escalation.state == "pending":
        raise EscalationError("请先确认这条关注上报，再办结。")
    if escalation.state == "closed":
        raise EscalationError("这条关注上报已经办结。")
    escalation.state = "closed"
    escalation.status = "closed"
    escalation.closed_at = now()
    return _step(db, escalation, user, "close", text=outcome, for_reporter=True)


def open_count(db: Session, user: User) -> int:
    """The menu's badge: open escalations of the leader's department, or all for the office;
    0 for everyone else (worked out with the user, server/auth.py)."""
    if not user.has(Role.leader, Role.office):
        return 0
    from server import homes

    return homes._count(db, homes.open_escalations(db, user))


def badge_count(request) -> int:
    """The menu's badge (base.html), as counted when the user was loaded: never a database
    read here, on the event loop."""
    return request.scope.get("escalation_badge", 0)
