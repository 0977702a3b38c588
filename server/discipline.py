"""违纪处理 (discipline cases, §1.8): 辅导员提出 → 系部学生工作领导小组审议 → 学院审批 → 已处理.

A case is an entry of kind `discipline` (server/records/discipline.py: what the counselor
wrote). Where it stands is the last of its steps (`discipline_steps`), which are only ever
added: the counselor submits; the department leader records the group's view (agree, change
the handling with a reason, or return to the counselor); the student affairs office approves,
changes (with a reason) or returns to the department; an approval or change is the final
decision, with its date. A returned case goes back one level with the reason. Who may act is
`scope.discipline_case_for`; whether the case's state allows it is here (`DisciplineError`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO

from openpyxl import Workbook
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from server import clock, scope, xlsx
from server.models import (
    Department,
    DisciplineStep,
    Entry,
    Role,
    SchoolClass,
    Student,
    User,
)
from server.records.discipline import (
    DECISIONS,
    DISCIPLINE,
    HANDLINGS,
    STATES,
    STEPS,
    WITH_COUNSELOR,
    WITH_LEADER,
    WITH_OFFICE,
    state_after,
)
from server.semesters import Term

MAX_REASON_CHARS = 2000
DECIDED_DAYS_BACK = 60  # a decision dated further back is a typing mistake


class DisciplineError(Exception):
    """An action the case's state does not allow, or a decision without what it needs; the
    message is shown (Chinese)."""


@dataclass
class Case:
    """A case as the lists and its page show it: the entry and its last step."""

    entry: Entry
    last: DisciplineStep | None

    @property
    def state(self) -> str:
        return state_after(self.last.step, self.last.decision) if self.last else "draft"

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def handling(self) -> str | None:
        """The handling as it stands: the counselor's proposal until a step changed it."""
        if self.last is None or self.state in WITH_COUNSELOR:
            return self.entry.payload.get("handling")
        return self.last.handling

    @property
    def handling_label(self) -> str:
        return HANDLINGS.get(self.handling or "", "")

    @property
    def decided_on(self) -> date | None:
        return self.last.decided_on if self.state == "done" else None

    @property
    def student_ids(self) -> list[int]:
        return [int(i) for i in self.entry.payload.get("student_ids", [])]


# --- reading cases ------------------------------------------------------------------------


def _latest(db: Session, condition: ColumnElement[bool]) -> dict[uuid.UUID, DisciplineStep]:
    """The last step of every case matching `condition` (SQL on Entry)."""
    # only entries that have steps: cases are few, and `condition` alone (a whole department's
    # entries) has SQLite scan tens of thousands of rows to find them (issue 16)
    cases = select(Entry.id).where(Entry.id.in_(select(DisciplineStep.entry_id)), condition)
    numbers = (
        select(DisciplineStep.entry_id, func.max(DisciplineStep.number).label("number"))
        .where(DisciplineStep.entry_id.in_(cases))
        .group_by(DisciplineStep.entry_id)
        .subquery()
    )
    rows = db.scalars(
        select(DisciplineStep)
        .options(joinedload(DisciplineStep.actor))
        .join(
            numbers,
            (DisciplineStep.entry_id == numbers.c.entry_id)
            & (DisciplineStep.number == numbers.c.number),
        )
    )
    return {row.entry_id: row for row in rows}


def cases_where(db: Session, condition: ColumnElement[bool], limit: int = 500) -> list[Case]:
    """Cases (newest first) matching `condition`, a SQL condition on Entry that already
    includes the reader's scope (`scope.discipline_condition`)."""
    condition = condition & (Entry.kind == DISCIPLINE.name) & Entry.deleted.is_(False)
    entries = db.scalars(
        select(Entry)
        .options(joinedload(Entry.author))
        .where(condition)
        .order_by(Entry.recorded_at.desc())
        .limit(limit)
    ).all()
    latest = _latest(db, condition)
    return [Case(entry, latest.get(entry.id)) for entry in entries]


def case_of(db: Session, entry: Entry) -> Case:
    return Case(entry, _latest(db, Entry.id == entry.id).get(entry.id))


def steps_of(db: Session, entry_id: uuid.UUID) -> list[DisciplineStep]:
    return list(
        db.scalars(
            select(DisciplineStep)
            .options(joinedload(DisciplineStep.actor))
            .where(DisciplineStep.entry_id == entry_id)
            .order_by(DisciplineStep.number)
        )
    )


def mine(db: Session, user: User) -> list[Case]:
    """My cases as their counselor (all states, newest first)."""
    if not user.has(Role.counselor):
        return []
    return cases_where(db, scope.discipline_condition(user) & (Entry.author_id == user.id))


def of_department(db: Session, user: User) -> list[Case]:
    """Every case of a leader's department."""
    if not user.has(Role.leader) or user.department_id is None:
        return []
    return cases_where(
        db, scope.discipline_condition(user) & (Entry.department_id == user.department_id)
    )


def to_review(db: Session, user: User) -> list[Case]:
    """The cases a leader's department group has to review (submitted, or returned by the
    college), oldest first."""
    waiting = [c for c in of_department(db, user) if c.state in WITH_LEADER]
    return sorted(waiting, key=lambda c: c.last.at)


def to_approve(db: Session, user: User, department_id: int | None = None) -> list[Case]:
    """The cases the office has to approve, of one department or all, oldest first."""
    if not user.has(Role.office):
        return []
    condition = scope.discipline_condition(user)
    if department_id is not None:
        condition = condition & (Entry.department_id == department_id)
    waiting = [c for c in cases_where(db, condition, limit=5000) if c.state in WITH_OFFICE]
    return sorted(waiting, key=lambda c: c.last.at)


def my_open(db: Session, user: User) -> list[Case]:
    """My cases not yet decided: drafts, returned ones and those under review."""
    return [c for c in mine(db, user) if c.state != "done"]


# --- the counts a home page shows (each matches its list on /discipline) ------------------
# read as columns, the state from each case's last step: building the lists' Case objects
# (entries, steps, authors, actors) for a number was most of a home page's discipline time


def _states(
    db: Session, condition: ColumnElement[bool], drafts: bool = False
) -> list[tuple[int, str]]:
    """(department id, state) of each case matching `condition`; drafts (no step yet) only
    when asked: without them the query starts from the few steps, not from the entries (the
    office's condition alone had SQLite scan every entry of the college, issue 16)."""
    rows = db.execute(
        _with_last_step(
            select(Entry.department_id, DisciplineStep.step, DisciplineStep.decision), drafts
        ).where(condition & (Entry.kind == DISCIPLINE.name) & Entry.deleted.is_(False))
    )
    return [
        (department_id, state_after(step, decision) if step else "draft")
        for department_id, step, decision in rows
    ]


_LAST_NUMBERS = (
    select(DisciplineStep.entry_id, func.max(DisciplineStep.number).label("number"))
    .group_by(DisciplineStep.entry_id)
    .subquery()
)


def _with_last_step(query, drafts: bool = False):
    """`query` on Entry joined to each case's last step (left joins: drafts kept too)."""
    last = (DisciplineStep.entry_id == Entry.id) & (DisciplineStep.number == _LAST_NUMBERS.c.number)
    return query.join(_LAST_NUMBERS, _LAST_NUMBERS.c.entry_id == Entry.id, isouter=drafts).join(
        DisciplineStep, last, isouter=drafts
    )


def to_review_count(db: Session, user: User) -> int:
    if not user.has(Role.leader) or user.department_id is None:
        return 0
    condition = scope.discipline_condition(user) & (Entry.department_id == user.department_id)
    return sum(state in WITH_LEADER for _, state in _states(db, condition))


def to_approve_count(db: Session, user: User, department_id: int | None = None) -> int:
    counts = to_approve_counts(db, user)
    return sum(counts.values()) if department_id is None else counts.get(department_id, 0)


def to_approve_counts(db: Session, user: User) -> dict[int | None, int]:
    """The office's cases to approve per department id."""
    if not user.has(Role.office):
        return {}
    counts: dict[int | None, int] = {}
    for department_id, state in _states(db, scope.discipline_condition(user)):
        if state in WITH_OFFICE:
            counts[department_id] = counts.get(department_id, 0) + 1
    return counts


def my_open_count(db: Session, user: User) -> int:
    if not user.has(Role.counselor):
        return 0
    condition = scope.discipline_condition(user) & (Entry.author_id == user.id)
    return sum(state != "done" for _, state in _states(db, condition, drafts=True))


# --- the steps ------------------------------------------------------------------------------


def submit(db: Session, user: User, entry: Entry) -> DisciplineStep:
    """辅导员提出: the counselor sends the case (again, after a return) to the department."""
    case = _locked_case(db, entry)
    if case.state not in WITH_COUNSELOR:
        raise DisciplineError(f"这个违纪处理{case.state_label}，不能再次提交。")
    return _add(
        db, case, user, "submit", "submit", entry.payload.get("handling"), "",
        entry_revision=entry.revision,
    )  # fmt: skip


def review(
    db: Session, user: User, entry: Entry, decision: str, handling: str = "", reason: str = ""
) -> DisciplineStep:
    """系部学生工作领导小组审议: agree, change the handling (with a reason), or return the
    case to the counselor (with a reason)."""
    case = _locked_case(db, entry)
    if case.state not in WITH_LEADER:
        raise DisciplineError(f"这个违纪处理{case.state_label}，现在不需要系部审议。")
    handling, reason = _decision(case, decision, handling, reason, ("agree", "change", "return"))
    return _add(db, case, user, "review", decision, handling, reason)


def approve(
    db: Session,
    user: User,
    entry: Entry,
    decision: str,
    handling: str = "",
    reason: str = "",
    decided_on: date | None = None,
) -> DisciplineStep:
    """学院审批: approve the department's handling or change it (with a reason) — the final
    decision, dated — or return the case to the department (with a reason)."""
    case = _locked_case(db, entry)
    if case.state not in WITH_OFFICE:
        raise DisciplineError(f"这个违纪处理{case.state_label}，现在不需要学院审批。")
    handling, reason = _decision(case, decision, handling, reason, ("approve", "change", "return"))
    if decision != "return":
        today = clock.today()
        decided_on = decided_on or today
        if decided_on > today:
            raise DisciplineError("处理决定日期不能晚于今天。")
        if decided_on < today - timedelta(days=DECIDED_DAYS_BACK):
            raise DisciplineError("处理决定日期离今天太远，请检查。")
    else:
        decided_on = None
    return _add(db, case, user, "approve", decision, handling, reason, decided_on=decided_on)


def _decision(
    case: Case, decision: str, handling: str, reason: str, allowed: tuple[str, ...]
) -> tuple[str | None, str]:
    """The handling after a decision, and its reason, or the message of what is missing."""
    if decision not in allowed:
        raise DisciplineError("请选择" + "、".join(DECISIONS[d] for d in allowed) + "之一。")
    reason = reason.strip()
    if len(reason) > MAX_REASON_CHARS:
        raise DisciplineError(f"理由最多 {MAX_REASON_CHARS} 字。")
    if decision == "change":
        if handling not in HANDLINGS:
            raise DisciplineError("请选择变更后的处理意见。")
        if handling == case.handling:
            raise DisciplineError("变更后的处理意见与原意见相同；同意原意见请选择“同意”或“批准”。")
        if not reason:
            raise DisciplineError("变更处理意见须写明理由。")
        return handling, reason
    if decision == "return" and not reason:
        raise DisciplineError("退回须写明理由。")
    return case.handling, reason


def _locked_case(db: Session, entry: Entry) -> Case:
    """The case with its last step read under a lock on the entry's row (PostgreSQL): two
    people acting at once take turns, and the second sees the first one's step."""
    db.execute(select(Entry.id).where(Entry.id == entry.id).with_for_update())
    return case_of(db, entry)


def _add(
    db: Session,
    case: Case,
    user: User,
    step: str,
    decision: str,
    handling: str | None,
    reason: str,
    *,
    decided_on: date | None = None,
    entry_revision: int | None = None,
) -> DisciplineStep:
    row = DisciplineStep(
        entry_id=case.entry.id,
        number=(case.last.number if case.last else 0) + 1,
        step=step,
        decision=decision,
        actor_id=user.id,
        at=clock.now(),
        handling=handling,
        reason=reason,
        decided_on=decided_on,
        entry_revision=entry_revision,
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        raise DisciplineError("这个违纪处理刚刚已由他人办理，请刷新页面后查看。") from None
    return row


# --- the parent contact a decision prompts (§2.5.2 "违反校规校纪", server/due.py) ----------


@dataclass(frozen=True)
class Decided:
    entry_id: uuid.UUID
    handling: str | None
    at: datetime  # when the decision was recorded
    decided_on: date | None


def decided_for_students(db: Session, condition: ColumnElement[bool]) -> dict[int, Decided]:
    """Each student's latest final decision among the cases matching `condition` (SQL on
    Entry; no scope applied: the caller's condition is the scope). Columns only: this runs
    for every due list and home page (issue 16)."""
    condition = condition & (Entry.kind == DISCIPLINE.name) & Entry.deleted.is_(False)
    rows = db.execute(
        _with_last_step(
            select(Entry.id, Entry.payload["student_ids"], DisciplineStep.step,
                   DisciplineStep.decision, DisciplineStep.handling, DisciplineStep.at,
                   DisciplineStep.decided_on)
        ).where(condition)
    )  # fmt: skip
    decided: dict[int, Decided] = {}
    for entry_id, student_ids, step, decision, handling, at, decided_on in rows:
        if state_after(step, decision) != "done":
            continue
        for student_id in student_ids or []:
            known = decided.get(int(student_id))
            if known is None or known.at < at:
                decided[int(student_id)] = Decided(entry_id, handling, at, decided_on)
    return decided


# --- the Excel export: a semester's cases of a department ----------------------------------

EXPORT_COLUMNS = [
    "学号", "姓名", "班级", "违纪日期", "地点", "违纪事实", "违反的规定", "证据",
    "辅导员", "拟处理意见", "系部审议人", "系部审议时间", "系部意见", "学院审批人",
    "学院审批时间", "学院意见", "状态", "最终处理", "决定日期", "办理经过",
]  # fmt: skip


def semester_cases(db: Session, user: User, department: Department, term: Term) -> list[Case]:
    """The department's cases whose incident date lies in the semester, oldest first."""
    condition = scope.discipline_condition(user) & (Entry.department_id == department.id)
    first, last = term.first.isoformat(), term.last.isoformat()
    found = [
        c for c in cases_where(db, condition, limit=5000)
        if first <= c.entry.payload.get("date", "") <= last
    ]  # fmt: skip
    return sorted(found, key=lambda c: (c.entry.payload.get("date", ""), c.entry.recorded_at))


def export(db: Session, user: User, department: Department, term: Term) -> bytes:
    """One row per case per student, with the steps (who, when, what)."""
    cases = semester_cases(db, user, department, term)
    students = _students(db, {i for c in cases for i in c.student_ids})
    book = Workbook()
    sheet = book.active
    sheet.title = "违纪处理"
    xlsx.append(sheet, [f"{department.name} 违纪处理 {term.name}"])
    xlsx.append(sheet, EXPORT_COLUMNS)
    for case in cases:
        steps = steps_of(db, case.entry.id)
        first_submit = next((s for s in steps if s.step == "submit"), None)
        reviewed = _last(steps, "review")
        approved = _last(steps, "approve")
        p = case.entry.payload
        proposed = first_submit.handling if first_submit else p.get("handling")
        for student_id in case.student_ids:
            student, class_name = students.get(student_id, (None, ""))
            xlsx.append(
                sheet,
                [
                    student.student_number if student else "",
                    student.name if student else "",
                    class_name,
                    p.get("date", ""),
                    p.get("place", ""),
                    p.get("facts", ""),
                    p.get("rule", ""),
                    p.get("evidence", ""),
                    case.entry.author.name,
                    HANDLINGS.get(proposed or "", ""),
                    *_step_cells(reviewed),
                    *_step_cells(approved),
                    case.state_label,
                    case.handling_label if case.state == "done" else "",
                    case.decided_on.isoformat() if case.decided_on else "",
                    "\n".join(step_line(s) for s in steps),
                ],
            )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def step_line(step: DisciplineStep) -> str:
    """One step as a line of text: when, which step, who, what."""
    what = DECISIONS[step.decision]
    if step.handling:
        what += f"（{HANDLINGS.get(step.handling, step.handling)}）"
    if step.reason:
        what += f"：{step.reason}"
    if step.decided_on:
        what += f"，决定日期 {step.decided_on.isoformat()}"
    return (
        f"{clock.local_time(step.at, '%Y-%m-%d %H:%M')} {STEPS[step.step]} {step.actor.name} {what}"
    )


def _last(steps: list[DisciplineStep], kind: str) -> DisciplineStep | None:
    return next((s for s in reversed(steps) if s.step == kind), None)


def _step_cells(step: DisciplineStep | None) -> list[str]:
    if step is None:
        return ["", "", ""]
    opinion = DECISIONS[step.decision]
    if step.handling and step.decision != "return":
        opinion += f"：{HANDLINGS.get(step.handling, step.handling)}"
    if step.reason:
        opinion += f"（{step.reason}）"
    return [step.actor.name, clock.local_time(step.at, "%Y-%m-%d %H:%M"), opinion]


def _students(db: Session, ids: set[int]) -> dict[int, tuple[Student, str]]:
    if not ids:
        return {}
    rows = db.execute(
        select(Student, SchoolClass.name)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(Student.id.in_(ids))
    )
    return {student.id: (student, class_name) for student, class_name in rows}


def students_of(db: Session, cases: list[Case]) -> dict[int, tuple[Student, str]]:
    """The students the cases name, with their class names (lists and the case page)."""
    return _students(db, {i for c in cases for i in c.student_ids})
