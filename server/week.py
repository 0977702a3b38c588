"""本周 (my week): a person's week against the guideline's weekly quotas (§1.5, DESIGN.md).

The rules are data (models.QuotaRule): per role, what is counted and the weekly target, with
the college's defaults and a department's own rows replacing them. This module decides
whose rules apply and counts a week's entries against them:

- roles: a counselor's rules; a class teacher's rules; and a counselor who covers a class
  without a class teacher carries that class teacher's duties as well (§1.10), so the
  class-teacher targets are added to the counselor's.
- weeks run Monday to Sunday in Asia/Shanghai, by when the entry was recorded on the phone.
- approved staff leave (§1.9) on working days (Monday–Friday) prorates every target:
  target × working days present / 5, rounded up; a whole week away leaves nothing due.
- entries still in a phone's outbox are not here: the page adds them as pending (app.js).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, scope
from server.kinds import KINDS
from server.models import (
    Entry,
    LeaveStatus,
    QuotaRule,
    Role,
    SchoolClass,
    StaffLeave,
    User,
)

WORKING_DAYS = 5
QUOTA_ROLES = (Role.counselor, Role.class_teacher)


@dataclass
class Progress:
    """One quota of a person's week."""

    counts: str  # the facet counted (QuotaRule.counts)
    label: str
    target: int
    distinct_students: bool
    done: int = 0
    students: set[int] = field(default_factory=set)  # for distinct-student quotas

    @property
    def met(self) -> bool:
        return self.done >= self.target


def quota_roles(db: Session, user: User) -> list[Role]:
    """The roles whose weekly rules apply to this person.

    A counselor's targets come with the role. A class teacher's follow the assignment: they
    apply while the person is the class teacher of a class (a class teacher whose class was
    given to someone else has no class-teacher targets), and to a counselor who covers a
    class without a class teacher (§1.10)."""
    roles = [Role.counselor] if user.has(Role.counselor) else []
    teaches = user.has(Role.class_teacher) and _has_class(db, SchoolClass.class_teacher_id == user.id)
    covers = user.has(Role.counselor) and _has_class(
        db, SchoolClass.counselor_id == user.id, SchoolClass.class_teacher_id.is_(None)
    )
    if teaches or covers:
        roles.append(Role.class_teacher)
    return roles


def _has_class(db: Session, *conditions) -> bool:
    """An archived class (graduated cohort) gives no targets."""
    return (
        db.scalar(select(SchoolClass.id).where(scope.current_class(), *conditions).limit(1))
        is not None
    )


def rules_for(db: Session, user: User, roles: list[Role]) -> list[QuotaRule]:
    """Each (role, counts) once: the department's own rule, else the college's default."""
    rows = db.scalars(
        select(QuotaRule)
        .where(
            QuotaRule.role.in_(roles),
            (QuotaRule.department_id.is_(None)) | (QuotaRule.department_id == user.department_id),
        )
        .order_by(QuotaRule.id)
    ).all()
    chosen: dict[tuple[Role, str], QuotaRule] = {}
    for rule in rows:
        key = (rule.role, rule.counts)
        if key not in chosen or rule.department_id is not None:
            chosen[key] = rule
    return list(chosen.values())


def leave_days(db: Session, user: User, monday: date) -> int:
    """Working days of this week the person is on approved leave."""
    friday = monday + timedelta(days=WORKING_DAYS - 1)
    leaves = db.scalars(
        select(StaffLeave).where(
            StaffLeave.staff_id == user.id,
            StaffLeave.status == LeaveStatus.approved,
            StaffLeave.start <= friday,
            StaffLeave.end >= monday,
        )
    ).all()
    away = set()
    for leave in leaves:
        for n in range(WORKING_DAYS):
            day = monday + timedelta(days=n)
            if leave.start <= day <= leave.end:
                away.add(day)
    return len(away)


def prorated(target: int, days_away: int) -> int:
    present = max(WORKING_DAYS - days_away, 0)
    return math.ceil(target * present / WORKING_DAYS)


def my_week(db: Session, user: User, monday: date) -> list[Progress]:
    """The person's quotas for the week starting `monday`, with what the server holds."""
    roles = quota_roles(db, user)
    if not roles:
        return []
    away = leave_days(db, user, monday)
    progress: dict[str, Progress] = {}
    for rule in rules_for(db, user, roles):
        row = progress.setdefault(
            rule.counts, Progress(rule.counts, rule.label, 0, rule.distinct_students)
        )
        row.target += rule.target  # §1.10: a counselor standing in for a class teacher adds
    for row in progress.values():
        row.target = prorated(row.target, away)

    start, end = clock.week_bounds(monday)
    entries = db.execute(
        select(Entry.kind, Entry.payload).where(
            Entry.author_id == user.id,
            Entry.deleted.is_(False),
            Entry.recorded_at >= start,
            Entry.recorded_at < end,
        )
    )
    for kind_name, payload in entries:
        kind = KINDS.get(kind_name)
        if kind is None:
            continue
        for facet in kind.facets(payload):
            row = progress.get(facet)
            if row is None:
                continue
            if row.distinct_students:
                row.students |= kind.students(payload)
                row.done = len(row.students)
            else:
                row.done += 1
    return list(progress.values())


@dataclass
class RuleRow:
    """A weekly quota of one role as a department sees it: the college's target and its own."""

    role: Role
    counts: str
    label: str
    default: int
    own: int | None  # the department's target, None when it keeps the college's


def department_rules(db: Session, department_id: int) -> list[RuleRow]:
    rules = db.scalars(
        select(QuotaRule)
        .where(QuotaRule.department_id.is_(None) | (QuotaRule.department_id == department_id))
        .order_by(QuotaRule.id)
    ).all()
    rows: dict[tuple[Role, str], RuleRow] = {}
    for rule in rules:
        if rule.department_id is None:
            rows[(rule.role, rule.counts)] = RuleRow(
                rule.role, rule.counts, rule.label, rule.target, None
            )
    for rule in rules:
        if rule.department_id is not None and (rule.role, rule.counts) in rows:
            rows[(rule.role, rule.counts)].own = rule.target
    return sorted(rows.values(), key=lambda r: (QUOTA_ROLES.index(r.role), r.label))


def set_department_target(
    db: Session, department_id: int, role: Role, counts: str, target: int | None
) -> None:
    """The department's own weekly target for a role's quota; None goes back to the college's."""
    default = db.scalar(
        select(QuotaRule).where(
            QuotaRule.department_id.is_(None), QuotaRule.role == role, QuotaRule.counts == counts
        )
    )
    own = db.scalar(
        select(QuotaRule).where(
            QuotaRule.department_id == department_id,
            QuotaRule.role == role,
            QuotaRule.counts == counts,
        )
    )
    if target is None:
        if own is not None:
            db.delete(own)
        return
    if own is None:
        own = QuotaRule(
            department_id=department_id, role=role, counts=counts, label=default.label,
            distinct_students=default.distinct_students,
        )  # fmt: skip
        db.add(own)
    own.target = target
