"""Staff leave (请假, guideline §1.9): a counselor or class teacher leaving their post asks
first; a leader of their department decides.

A request is decided once: `requested` → `approved` or `rejected`. Changing a decision later
is a new decision with a reason, kept beside the first (`leave_decisions`), never an
overwrite: approved leave prorates the week's quotas (server/week.py), so what a leader
decided and when stays on the record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import scope
from server.models import LeaveDecision, LeaveStatus, StaffLeave, User

MAX_LEAVE_DAYS = 60
MAX_REASON_CHARS = 500
DECISIONS = {"approve": LeaveStatus.approved, "reject": LeaveStatus.rejected}


class LeaveError(Exception):
    """A request or decision that cannot be taken; the message is shown (Chinese)."""


def ask(db: Session, user: User, start: date, end: date, reason: str) -> StaffLeave:
    reason = reason.strip()
    if end < start:
        raise LeaveError("结束日期不能早于开始日期。")
    if (end - start).days >= MAX_LEAVE_DAYS:
        raise LeaveError(f"一次请假最多 {MAX_LEAVE_DAYS} 天。")
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise LeaveError(f"请填写请假事由（{MAX_REASON_CHARS} 字以内）。")
    leave = StaffLeave(
        staff_id=user.id, department_id=user.department_id, start=start, end=end, reason=reason
    )
    db.add(leave)
    return leave


def decide(
    db: Session, leave: StaffLeave, leader: User, decision: str, note: str = ""
) -> LeaveDecision:
    """The first decision on a request, or a later change of it (which needs a note)."""
    status = DECISIONS.get(decision)
    if status is None:
        raise LeaveError("请选择批准或不批准。")
    if leave.staff_id == leader.id:
        raise LeaveError("不能审批自己的请假。")
    note = note.strip()
    if leave.status != LeaveStatus.requested:
        if status == leave.status:
            raise LeaveError(f"这条请假已经是“{leave.status.label}”。")
        if not note:
            raise LeaveError(f"这条请假已审批（{leave.status.label}）；更改决定须写明理由。")
    if len(note) > MAX_REASON_CHARS:
        raise LeaveError(f"理由最多 {MAX_REASON_CHARS} 字。")
    now = datetime.now(UTC)
    row = LeaveDecision(
        leave_id=leave.id, status=status, decided_by_id=leader.id, note=note, decided_at=now
    )
    db.add(row)
    leave.status, leave.decided_by_id, leave.decided_at = status, leader.id, now
    return row


def mine(db: Session, user: User) -> list[StaffLeave]:
    return list(
        db.scalars(
            select(StaffLeave)
            .where(StaffLeave.staff_id == user.id)
            .order_by(StaffLeave.start.desc())
        )
    )


def of_department(db: Session, user: User) -> list[StaffLeave]:
    """The requests a leader decides: their department's (the office and admin: every one)."""
    query = (
        select(StaffLeave)
        .options(
            joinedload(StaffLeave.staff),
            joinedload(StaffLeave.decisions).joinedload(LeaveDecision.decided_by),
        )
        .where(scope.department_condition(user, StaffLeave.department_id))
        .order_by(StaffLeave.status, StaffLeave.start.desc())
        .limit(200)
    )
    return list(db.scalars(query).unique())


def approved_days(
    db: Session, staff_ids: set[int], first: date, last: date
) -> dict[int, set[date]]:
    """The days from `first` to `last` each person is on approved leave (the roster's check)."""
    away: dict[int, set[date]] = {}
    if not staff_ids:
        return away
    for leave in db.scalars(
        select(StaffLeave).where(
            StaffLeave.staff_id.in_(staff_ids),
            StaffLeave.status == LeaveStatus.approved,
            StaffLeave.start <= last,
            StaffLeave.end >= first,
        )
    ):
        day = max(leave.start, first)
        while day <= min(leave.end, last):
            away.setdefault(leave.staff_id, set()).add(day)
            day += timedelta(days=1)
    return away
