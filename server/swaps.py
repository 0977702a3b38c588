"""换班 (shift swaps): the requester asks, the colleague answers, the leader decides.

requested → accepted / refused (by the colleague) → approved / rejected (by the leader).
A swap either exchanges two shifts (`colleague_shift` set) or hands the requester's shift
to the colleague (代班). The roster changes only on approval, and only when nobody ends up
on duty twice in one round and the shifts still belong to the people who agreed.
Callers check who is acting (the requester's own shift, the colleague, a leader of the
department); these functions keep the order of the steps and the roster's rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.duty import RosterError, department_staff
from server.models import DutyShift, Slot, SwapRequest, SwapStatus, User


def _busy(db: Session, staff_id: int, day: date, slot: Slot, besides: Iterable[int]) -> bool:
    """Is this person on duty in that round already, not counting the shifts named?"""
    return (
        db.scalar(
            select(DutyShift.id).where(
                DutyShift.staff_id == staff_id,
                DutyShift.date == day,
                DutyShift.slot == slot,
                DutyShift.id.not_in(list(besides)),
            )
        )
        is not None
    )


def _check_no_double_booking(db: Session, swap: SwapRequest) -> None:
    shift, theirs = swap.shift, swap.colleague_shift
    besides = [shift.id] + ([theirs.id] if theirs else [])
    if _busy(db, swap.colleague_id, shift.date, shift.slot, besides):
        raise RosterError("对方在该时段已有值班，不能接这个班。")
    if theirs and _busy(db, swap.requester_id, theirs.date, theirs.slot, besides):
        raise RosterError("您在对方值班的时段已有值班，不能互换。")


def ask(
    db: Session,
    user: User,
    shift: DutyShift,
    colleague_id: int | None,
    colleague_shift_id: int | None,
    note: str = "",
    today: date | None = None,
) -> SwapRequest:
    """The requester asks; the caller has checked the shift is the requester's own."""
    today = today or clock.today()
    if shift.date < today:
        raise RosterError("已经过去的值班不能换班。")
    open_ = (SwapStatus.requested, SwapStatus.accepted)
    if db.scalar(
        select(SwapRequest.id).where(
            SwapRequest.shift_id == shift.id, SwapRequest.status.in_(open_)
        )
    ):
        raise RosterError("这个值班已有换班申请正在处理。")
    theirs = None
    if colleague_shift_id:
        theirs = db.get(DutyShift, colleague_shift_id)
        if theirs is None or theirs.department_id != shift.department_id:
            raise RosterError("找不到要互换的值班。")
        if theirs.date < today:
            raise RosterError("已经过去的值班不能互换。")
        colleague_id = theirs.staff_id
    staff_ids = {u.id for u in department_staff(db, shift.department_id)}
    if not colleague_id or colleague_id not in staff_ids:
        raise RosterError("请选择本系部的一位值班同事。")
    if colleague_id == user.id:
        raise RosterError("不能和自己换班。")
    swap = SwapRequest(
        shift=shift,
        colleague_shift=theirs,
        requester_id=user.id,
        colleague_id=colleague_id,
        department_id=shift.department_id,
        status=SwapStatus.requested,
        note=note.strip()[:200],
    )
    _check_no_double_booking(db, swap)
    db.add(swap)
    return swap


def answer(swap: SwapRequest, accept: bool) -> None:
    """The colleague accepts or refuses; the caller has checked who is answering."""
    if swap.status != SwapStatus.requested:
        raise RosterError(f"这个换班申请已经处理过了（{swap.status.label}）。")
    swap.status = SwapStatus.accepted if accept else SwapStatus.refused


def decide(db: Session, leader: User, swap: SwapRequest, approve: bool) -> None:
    """The leader approves (the roster changes) or rejects; only after the colleague accepted."""
    if swap.status != SwapStatus.accepted:
        raise RosterError(f"只能审批同事已同意的换班申请（现在：{swap.status.label}）。")
    if approve:
        shift, theirs = swap.shift, swap.colleague_shift
        if shift.staff_id != swap.requester_id or (theirs and theirs.staff_id != swap.colleague_id):
            raise RosterError("排班已经变了，这个申请不再适用。")
        _check_no_double_booking(db, swap)
        shift.staff_id = swap.colleague_id
        if theirs:
            theirs.staff_id = swap.requester_id
    swap.status = SwapStatus.approved if approve else SwapStatus.rejected
    swap.decided_by_id = leader.id
