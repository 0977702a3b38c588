"""主管领导布置的工作 (§1.4 "做好主管领导布置的其他工作"): a leader gives a task to one or
more staff of the department with a due date; it shows on each one's home until they mark
their part done with a note. The leader sees who has done it.

Who: a department leader assigns to the staff of their own department; the office to anyone
(a task of the office has no department). Only the person themselves marks their part done;
a part done is not re-opened (a correction is a new task).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server import clock, scope
from server.models import LeaderTask, Role, TaskAssignee, User

MAX_TITLE = 200
MAX_TEXT = 2000
MAX_ASSIGNEES = 100


class TaskError(Exception):
    """A task or a done mark that cannot be saved; the message is shown as it is."""


def may_assign(user: User) -> bool:
    return user.has(Role.leader, Role.office)


def assignable(db: Session, user: User) -> list[User]:
    """The staff a user may give tasks to: their department's, or anyone's for the office."""
    query = select(User).where(User.active.is_(True), User.id != user.id)
    if not user.has(Role.office):
        query = query.where(User.department_id == user.department_id)
    return list(db.scalars(query.order_by(User.name).limit(1000)))


def assign(
    db: Session, user: User, title: str, detail: str, due: date, staff_ids: list[int]
) -> LeaderTask:
    if not may_assign(user):
        raise TaskError("只有系部负责人和学工处可以布置工作。")
    title = title.strip()
    if not title:
        raise TaskError("请填写工作内容。")
    if len(title) > MAX_TITLE:
        raise TaskError(f"工作内容太长（最多 {MAX_TITLE} 字）。")
    if len(detail) > MAX_TEXT:
        raise TaskError(f"说明太长（最多 {MAX_TEXT} 字）。")
    if due < clock.today():
        raise TaskError("完成期限不能早于今天。")
    ids = sorted(set(staff_ids))
    if not ids:
        raise TaskError("请至少选择一位老师。")
    if len(ids) > MAX_ASSIGNEES:
        raise TaskError(f"一项工作最多布置给 {MAX_ASSIGNEES} 位老师。")
    allowed = {u.id for u in assignable(db, user)}
    if any(i not in allowed for i in ids):
        raise TaskError("只能给本系部的老师布置工作。")
    task = LeaderTask(
        department_id=user.department_id, assigned_by_id=user.id, title=title, detail=detail,
        due=due, created_at=clock.now(),
        assignees=[TaskAssignee(staff_id=i, note="") for i in ids],
    )  # fmt: skip
    db.add(task)
    db.flush()
    return task


def open_for(db: Session, user: User) -> list[TaskAssignee]:
    """My parts of tasks not done yet, the soonest due first (the home card counts them)."""
    return list(
        db.scalars(
            select(TaskAssignee)
            .join(LeaderTask)
            .options(selectinload(TaskAssignee.task).selectinload(LeaderTask.assigned_by))
            .where(TaskAssignee.staff_id == user.id, TaskAssignee.done_at.is_(None))
            .order_by(LeaderTask.due, LeaderTask.id)
        )
    )


def done_by(db: Session, user: User, limit: int = 20) -> list[TaskAssignee]:
    return list(
        db.scalars(
            select(TaskAssignee)
            .join(LeaderTask)
            .where(TaskAssignee.staff_id == user.id, TaskAssignee.done_at.is_not(None))
            .order_by(TaskAssignee.done_at.desc())
            .limit(limit)
        )
    )


def assigned_by(db: Session, user: User, limit: int = 100) -> list[LeaderTask]:
    """The tasks a leader gave, newest first, with each person's part."""
    query = (
        select(LeaderTask)
        .options(selectinload(LeaderTask.assignees).selectinload(TaskAssignee.staff))
        .where(scope.department_condition(user, LeaderTask.department_id)
               | (LeaderTask.assigned_by_id == user.id))
    )  # fmt: skip
    return list(db.scalars(query.order_by(LeaderTask.id.desc()).limit(limit)))


def mark_done(db: Session, user: User, assignee_id: int, note: str) -> TaskAssignee:
    part = db.get(TaskAssignee, assignee_id)
    if part is None:
        raise LookupError("找不到这项工作。")
    if part.staff_id != user.id:
        raise PermissionError("只能标记自己的工作完成。")
    if part.done_at is not None:
        raise TaskError("这项工作已经标记完成。")
    note = note.strip()
    if not note:
        raise TaskError("请填写完成情况。")
    if len(note) > MAX_TEXT:
        raise TaskError(f"完成情况太长（最多 {MAX_TEXT} 字）。")
    part.done_at = clock.now()
    part.note = note
    return part


def overdue(parts: list[TaskAssignee], today: date | None = None) -> int:
    today = today or clock.today()
    return sum(1 for p in parts if p.task.due < today)
