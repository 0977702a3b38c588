"""The semester work plan and summary (guideline §1.3: 每学期初……辅导员、班主任要制定学期工作
计划; §3: 对自己工作进行总结).

Every active counselor and class teacher writes a 学期工作计划 (the plan kind,
server/records/plan.py) at semester start: it is due from the first day and overdue after
the first two weeks. The 学期工作总结 is due in the semester's last two weeks. A plan
counts for the semester when it was recorded from three weeks before its first day to its
last day (plans are often written in the holidays); a summary from four weeks before the
last day to two weeks after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, semesters
from server.models import Entry, Role, User, UserRole
from server.records import PLAN

PLAN_DAYS = 14  # the first two weeks
SUMMARY_DAYS = 14  # the last two weeks
PLAN_EARLY_DAYS = 21
SUMMARY_EARLY_DAYS, SUMMARY_LATE_DAYS = 28, 14
WRITERS = (Role.counselor, Role.class_teacher)


@dataclass
class Duty:
    staff: User
    what: str  # semester_plan, semester_summary
    due_by: date
    done: bool

    @property
    def label(self) -> str:
        return "学期工作计划" if self.what == "semester_plan" else "学期工作总结"

    def overdue(self, today: date) -> bool:
        return not self.done and today > self.due_by


def duties(db: Session, staff: list[User], today: date) -> list[Duty]:
    """Each person's plan (from the semester's first day) and summary (in its last two
    weeks), done or not."""
    term = semesters.term_of(db, today)
    written = _written(db, [s.id for s in staff], term)
    out = []
    for person in staff:
        if today >= term.first:
            out.append(Duty(person, "semester_plan", term.first + timedelta(days=PLAN_DAYS - 1),
                            (person.id, "semester_plan") in written))  # fmt: skip
        if today >= term.last - timedelta(days=SUMMARY_DAYS - 1):
            out.append(Duty(person, "semester_summary", term.last,
                            (person.id, "semester_summary") in written))  # fmt: skip
    return out


def _written(db: Session, staff_ids: list[int], term: semesters.Term) -> set[tuple[int, str]]:
    windows = {
        "semester_plan": (term.first - timedelta(days=PLAN_EARLY_DAYS), term.last),
        "semester_summary": (term.last - timedelta(days=SUMMARY_EARLY_DAYS),
                             term.last + timedelta(days=SUMMARY_LATE_DAYS)),
    }  # fmt: skip
    done = set()
    for author, payload, recorded_at in db.execute(
        select(Entry.author_id, Entry.payload, Entry.recorded_at).where(
            Entry.kind == PLAN.name, Entry.deleted.is_(False), Entry.author_id.in_(staff_ids)
        )
    ):
        what = payload.get("plan_type")
        if what in windows and windows[what][0] <= clock.day_of(recorded_at) <= windows[what][1]:
            done.add((author, what))
    return done


def due_for(db: Session, user: User, today: date) -> list[Duty]:
    if not user.has(*WRITERS):
        return []
    return [d for d in duties(db, [user], today) if not d.done]


def department_staff(db: Session, department_id: int) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .where(User.department_id == department_id, User.active.is_(True),
                   User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(WRITERS))))
            .order_by(User.name)
        )
    )  # fmt: skip


def not_submitted(db: Session, department_id: int, today: date) -> list[Duty]:
    """What the leader sees: who has not written this semester's plan (or summary, in the
    last two weeks)."""
    return [d for d in duties(db, department_staff(db, department_id), today) if not d.done]
