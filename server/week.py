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
- 个别谈心 is one-to-one (§1.5 "个别谈心不少于5人"): a distinct-student quota counts the
  distinct students of records about one student; a record about several students (a group
  talk, 集体谈话) is kept and counts as ONE toward the quota, whoever was in it (`group_talks`).
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
    group_talks: int = 0  # records about several students: one each (§1.5 个别谈心)

    @property
    def met(self) -> bool:
        return self.done >= self.target

    @property
    def missing(self) -> int:
        return max(self.target - self.done, 0)

    @property
    def state(self) -> str:
        """What 本周 says of the quota: 已完成, or how many are missing ("还差 2 人")."""
        if self.met:
            return "已完成"
        return f"还差 {self.missing} {'人' if self.distinct_students else '次'}"


def is_group(students: set[int]) -> bool:
    """A talk with several students is a group talk (集体谈话), not 个别谈心 (§1.5)."""
    return len(students) > 1


def quota_roles(db: Session, user: User) -> list[Role]:
    """The roles whose weekly rules apply to this person.

    A counselor's targets come with the role. A class teacher's follow the assignment: they
    apply while the person is the class teacher of a class (a class teacher whose class was
    given to someone else has no class-teacher targets), and to a counselor who covers a
    class without a class teacher (§1.10)."""
    teaching, covering = _assignments(db, [user.id])
    return _roles(user, teaching, covering)


def _assignments(db: Session, ids: list[int]) -> tuple[set[int], set[int]]:
    """Of these people: who is class teacher of a current class, and who counsels a current
    class without a class teacher. An archived class (graduated cohort) gives no targets."""
    teaching = db.scalars(
        select(SchoolClass.class_teacher_id).where(
            scope.current_class(), SchoolClass.class_teacher_id.in_(ids)
        )
    )
    covering = db.scalars(
        select(SchoolClass.counselor_id).where(
            scope.current_class(),
            SchoolClass.counselor_id.in_(ids),
            SchoolClass.class_teacher_id.is_(None),
        )
    )
    return set(teaching), set(covering)


def _roles(user: User, teaching: set[int], covering: set[int]) -> list[Role]:
    roles = [Role.counselor] if user.has(Role.counselor) else []
    teaches = user.has(Role.class_teacher) and user.id in teaching
    covers = user.has(Role.counselor) and user.id in covering
    if teaches or covers:
        roles.append(Role.class_teacher)
    return roles


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
    return _chosen(rows, user, roles)


def _chosen(rows: list[QuotaRule], user: User, roles: list[Role]) -> list[QuotaRule]:
    chosen: dict[tuple[Role, str], QuotaRule] = {}
    for rule in rows:
        if rule.role not in roles or rule.department_id not in (None, user.department_id):
            continue
        key = (rule.role, rule.counts)
        if key not in chosen or rule.department_id is not None:
            chosen[key] = rule
    return list(chosen.values())


def leave_days(db: Session, user: User, monday: date) -> int:
    """Working days of this week the person is on approved leave."""
    return _days_away(_leaves(db, [user.id], monday).get(user.id, []), monday)


def _leaves(db: Session, ids: list[int], monday: date) -> dict[int, list[StaffLeave]]:
    friday = monday + timedelta(days=WORKING_DAYS - 1)
    leaves: dict[int, list[StaffLeave]] = {}
    for leave in db.scalars(
        select(StaffLeave).where(
            StaffLeave.staff_id.in_(ids),
            StaffLeave.status == LeaveStatus.approved,
            StaffLeave.start <= friday,
            StaffLeave.end >= monday,
        )
    ):
        leaves.setdefault(leave.staff_id, []).append(leave)
    return leaves


def _days_away(leaves: list[StaffLeave], monday: date) -> int:
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
    return weeks_of(db, [user], monday)[user.id]


def weeks_of(db: Session, people: list[User], monday: date) -> dict[int, list[Progress]]:
    """`my_week` of many people (user id → quotas) in five queries, however many they are:
    a leader's and the office's pages show every person's week (issue 16: one person at a
    time was 5 queries each, 1,800 for the office)."""
    if not people:
        return {}
    ids = [person.id for person in people]
    teaching, covering = _assignments(db, ids)
    rules = db.scalars(select(QuotaRule).order_by(QuotaRule.id)).all()  # a few dozen rows
    leaves = _leaves(db, ids, monday)
    start, end = clock.week_bounds(monday)
    written: dict[int, list[tuple[str, dict]]] = {}
    for author_id, kind_name, payload in db.execute(
        select(Entry.author_id, Entry.kind, Entry.payload).where(
            Entry.author_id.in_(ids),
            Entry.deleted.is_(False),
            Entry.recorded_at >= start,
            Entry.recorded_at < end,
        )
    ):
        written.setdefault(author_id, []).append((kind_name, payload))
    weeks = {}
    # the rules that apply depend only on the department and the roles: chosen once for
    # each pair, not once a person (the office's home has the whole college's staff)
    chosen: dict[tuple[int | None, tuple[Role, ...]], list[QuotaRule]] = {}
    for person in people:
        roles = _roles(person, teaching, covering)
        if not roles:
            weeks[person.id] = []
            continue
        key = (person.department_id, tuple(roles))
        if key not in chosen:
            chosen[key] = _chosen(rules, person, roles)
        away = _days_away(leaves.get(person.id, []), monday)
        weeks[person.id] = _counted(chosen[key], away, written.get(person.id, []))
    return weeks


def _counted(rules: list[QuotaRule], away: int, entries: list[tuple[str, dict]]) -> list[Progress]:
    """A person's week: their rules' targets prorated by leave, and their entries counted."""
    progress: dict[str, Progress] = {}
    for rule in rules:
        row = progress.setdefault(
            rule.counts, Progress(rule.counts, rule.label, 0, rule.distinct_students)
        )
        row.target += rule.target  # §1.10: a counselor standing in for a class teacher adds
    for row in progress.values():
        row.target = prorated(row.target, away)
    for kind_name, payload in entries:
        kind = KINDS.get(kind_name)
        if kind is None:
            continue
        for facet in kind.facets(payload):
            row = progress.get(facet)
            if row is None:
                continue
            if row.distinct_students:
                people = kind.students(payload)
                if is_group(people):
                    row.group_talks += 1
                else:
                    row.students |= people
                row.done = len(row.students) + row.group_talks
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


def my_weeks(
    db: Session, user: User, mondays: list[date], entries: list[tuple] | None = None
) -> list[list[Progress]]:
    """`my_week` for many weeks at once (the assessment's periods, the semester's charts):
    the roles, rules and leave are read once and the entries in one query, each week counted
    by `_counted` as `my_week` counts it. `entries`: the person's (kind, payload, recorded_at)
    of those weeks, not deleted, when the caller has read them already (a department at once)."""
    if not mondays:
        return []
    roles = quota_roles(db, user)
    if not roles:
        return [[] for _ in mondays]
    rules = rules_for(db, user, roles)
    first, last = min(mondays), max(mondays) + timedelta(days=6)
    leaves = db.scalars(
        select(StaffLeave).where(
            StaffLeave.staff_id == user.id,
            StaffLeave.status == LeaveStatus.approved,
            StaffLeave.start <= last,
            StaffLeave.end >= first,
        )
    ).all()
    if entries is None:
        start, end = clock.utc_bounds(first, last)
        entries = db.execute(
            select(Entry.kind, Entry.payload, Entry.recorded_at).where(
                Entry.author_id == user.id,
                Entry.deleted.is_(False),
                Entry.recorded_at >= start,
                Entry.recorded_at < end,
            )
        )
    by_week: dict[date, list[tuple[str, dict]]] = {}
    for kind_name, payload, recorded_at in entries:
        monday = clock.monday_of(clock.day_of(recorded_at))
        by_week.setdefault(monday, []).append((kind_name, payload))
    return [
        _counted(rules, _days_away(list(leaves), monday), by_week.get(monday, []))
        for monday in mondays
    ]
