"""The work log (工作记录, guideline §1.4): what a person recorded, day by day, and its review.

The log reads entries; it never writes them. Days and weeks are the college's (Asia/Shanghai):
an entry recorded at 23:30 on a Monday belongs to Monday although UTC says 15:30. A week runs
Monday to Sunday.

A department leader reviews (检查) a person's week with a comment; each review is a row in
`week_reviews`. An entry changed after the first review of its week — a revision whose
`changed_at` is later — is flagged 审阅后修改, and a reviewed entry deleted later stays in
the log, struck through, instead of silently disappearing. An entry that reached the server
(`received_at`) after the first review of its week is flagged 审阅后补录, and one that reached
it more than 12 hours after the phone's time (`Entry.late`) is 补录: the day it is listed
under is the phone's, so the reader sees it was not there on that day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from litestar.exceptions import ClientException, PermissionDeniedException
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import clock, params, scope, xlsx
from server.entries import MAX_TEXT_CHARS, Kind
from server.kinds import KINDS
from server.models import (
    Entry,
    EntryRevision,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
    WeekReview,
)

MAX_EXPORT_DAYS = 200  # a semester is at most 184 days; a longer period is a typing mistake
EDITED_AFTER_REVIEW = "审阅后修改"
CONTENT_HIDDEN = "谈话内容仅填写人、本系部负责人和学工部可见"
ADDED_AFTER_REVIEW = "审阅后补录"
LATE = "补录"


class PeriodError(ClientException):
    """A date or period the log cannot show; the detail is shown to the user (Chinese)."""

    status_code = 400


# ---------------------------------------------------------------- days, weeks, periods


def parse_day(text: str, *, label: str = "日期") -> date:
    return params.parse_date(text, label, error=PeriodError)


def export_period(start: str, end: str, today: date) -> tuple[date, date]:
    """The period asked for the Excel export: this week when neither date is given."""
    monday, sunday = clock.week_of(today)
    first = parse_day(start, label="开始日期") if start else monday
    last = parse_day(end, label="结束日期") if end else (sunday if not start else first)
    if last < first:
        raise PeriodError("结束日期早于开始日期。")
    if (last - first).days + 1 > MAX_EXPORT_DAYS:
        raise PeriodError(f"导出的时间段最长 {MAX_EXPORT_DAYS} 天（一个学期），请缩短后重试。")
    return first, last


# ---------------------------------------------------------------- whose log


def staff_choices(db: Session, viewer: User) -> list[User]:
    """The people whose log the viewer may open (the picker on the log page)."""
    if not (scope.sees_everything(viewer) or viewer.has(Role.leader)):
        return [viewer]
    query = (
        select(User)
        .where(
            User.active.is_(True),
            scope.department_condition(viewer, User.department_id),
            User.id.in_(
                select(UserRole.user_id).where(
                    UserRole.role.in_([Role.counselor, Role.class_teacher, Role.leader])
                )
            ),
        )
        .order_by(User.department_id, User.name, User.id)
    )
    people = list(db.scalars(query))
    return people if any(p.id == viewer.id for p in people) else [viewer, *people]


def may_review(viewer: User, staff: User) -> bool:
    """A leader of the person's own department reviews their week, and the student affairs
    office anyone's (its inspections, issue 12); nobody their own."""
    if viewer.id == staff.id:
        return False
    if viewer.has(Role.office):
        return True
    return (
        viewer.has(Role.leader)
        and viewer.department_id is not None
        and viewer.department_id == staff.department_id
    )


# ---------------------------------------------------------------- the log


@dataclass
class LogLine:
    entry: Entry
    at: datetime  # recorded_at in college time
    label: str
    summary: str
    students: list[Student]
    room: str
    class_name: str
    edited_after_review: bool = False
    content_hidden: bool = False  # the viewer may not read its sensitive notes (scope.py)
    added_after_review: bool = False  # reached the server after its week was reviewed
    deleted_reason: str = ""  # a deleted entry (kept on the log after a review): why

    @property
    def late(self) -> bool:
        return self.entry.late

    @property
    def day(self) -> date:
        return self.at.date()


@dataclass
class Day:
    day: date
    lines: list[LogLine] = field(default_factory=list)


def log_lines(
    db: Session, viewer: User, staff: User, first: date, last: date, kind: str = ""
) -> list[LogLine]:
    """What `staff` recorded from `first` to `last` (college days) that `viewer` may read,
    newest first. Deleted entries are left out unless they were deleted after a review."""
    start, end = clock.utc_bounds(first, last)
    query = (
        select(Entry)
        .options(joinedload(Entry.room).joinedload(Room.building))
        .where(
            Entry.author_id == staff.id,
            scope.entry_condition(viewer),
            Entry.recorded_at >= start,
            Entry.recorded_at < end,
        )
        .order_by(Entry.recorded_at.desc(), Entry.id)
    )
    if kind:
        query = query.where(Entry.kind == kind)
    entries = list(db.scalars(query))
    flagged = _edited_after_review(db, staff, entries)
    entries = [e for e in entries if not e.deleted or e.id in flagged]
    added = _added_after_review(db, staff, entries)
    reasons = deletion_reasons(db, [e for e in entries if e.deleted])

    about = {e.id: _kind_students(e) for e in entries}
    students = _by_id(db, Student, set().union(*about.values()))
    classes = _by_id(db, SchoolClass, {e.class_id for e in entries if e.class_id})
    lines = []
    for e in entries:
        kind_ = KINDS.get(e.kind)
        shown, hidden = scope.shown_payload(viewer, e)
        lines.append(
            LogLine(
                entry=e,
                at=clock.college_time(e.recorded_at),
                label=kind_.label if kind_ else e.kind,
                summary=_tidy(kind_.summary(shown)) if kind_ else "",
                students=sorted(
                    (students[i] for i in about[e.id] if i in students),
                    key=lambda s: s.student_number,
                ),
                room=e.room.title if e.room else "",
                class_name=classes[e.class_id].name if e.class_id in classes else "",
                edited_after_review=e.id in flagged,
                content_hidden=hidden,
                added_after_review=e.id in added,
                deleted_reason=reasons.get(e.id, ""),
            )
        )
    return lines


def deletion_reasons(db: Session, entries: list[Entry]) -> dict:
    """The reason kept with each deleted entry's deleting (current) revision."""
    if not entries:
        return {}
    rows = db.execute(
        select(EntryRevision.entry_id, EntryRevision.revision, EntryRevision.reason).where(
            EntryRevision.entry_id.in_([e.id for e in entries])
        )
    )
    current = {e.id: e.revision for e in entries}
    return {entry_id: reason for entry_id, revision, reason in rows if current[entry_id] == revision}


def _tidy(summary: str) -> str:
    """A kind's summary of a redacted payload can be left with its separators only."""
    return summary.strip(" ：:;；，,")


def about_student(lines: list[LogLine], student_id: int | None) -> list[LogLine]:
    if student_id is None:
        return lines
    return [line for line in lines if any(s.id == student_id for s in line.students)]


def by_day(lines: list[LogLine]) -> list[Day]:
    """Lines (newest first) grouped into college days, newest day first."""
    days: list[Day] = []
    for line in lines:
        if not days or days[-1].day != line.day:
            days.append(Day(line.day))
        days[-1].lines.append(line)
    return days


def students_in(lines: list[LogLine]) -> list[Student]:
    """Every student the lines are about, once, for the student filter."""
    seen = {s.id: s for line in lines for s in line.students}
    return sorted(seen.values(), key=lambda s: s.student_number)


def _kind_students(entry: Entry) -> set[int]:
    kind = KINDS.get(entry.kind)
    return set(kind.students(entry.payload)) if kind else set()


def _by_id(db: Session, model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.scalars(select(model).where(model.id.in_(ids)))}


# ---------------------------------------------------------------- reviews


def reviews_of(db: Session, staff: User, monday: date) -> list[WeekReview]:
    """The reviews of a person's week, oldest first."""
    return list(
        db.scalars(
            select(WeekReview)
            .options(joinedload(WeekReview.reviewer))
            .where(WeekReview.staff_id == staff.id, WeekReview.week_start == monday)
            .order_by(WeekReview.reviewed_at, WeekReview.id)
        )
    )


def reviews_between(db: Session, staff: User, first: date, last: date) -> list[WeekReview]:
    """The reviews of the weeks from `first` to `last`, by week, oldest first."""
    return list(
        db.scalars(
            select(WeekReview)
            .options(joinedload(WeekReview.reviewer))
            .where(
                WeekReview.staff_id == staff.id,
                WeekReview.week_start >= clock.week_of(first)[0],
                WeekReview.week_start <= last,
            )
            .order_by(WeekReview.week_start, WeekReview.reviewed_at, WeekReview.id)
        )
    )


def first_reviews(db: Session, staff: User, first: date, last: date) -> dict[date, datetime]:
    """Monday → the time of the week's first review, for the weeks from `first` to `last`."""
    rows = db.execute(
        select(WeekReview.week_start, WeekReview.reviewed_at).where(
            WeekReview.staff_id == staff.id,
            WeekReview.week_start >= clock.week_of(first)[0],
            WeekReview.week_start <= last,
        )
    )
    reviewed: dict[date, datetime] = {}
    for monday, at in rows:
        at = clock.college_time(at)
        if monday not in reviewed or at < reviewed[monday]:
            reviewed[monday] = at
    return reviewed


def review_week(
    db: Session,
    reviewer: User,
    staff: User,
    monday: date,
    comment: str,
    now: datetime | None = None,
) -> WeekReview:
    """Record that `reviewer` has reviewed `staff`'s week (the caller commits)."""
    if not may_review(reviewer, staff):
        raise PermissionDeniedException(
            "只有本系部的学生工作负责人和学工部可以检查这位老师的工作记录。"
        )
    now = now or datetime.now(UTC)
    if monday.weekday() != 0:
        raise PeriodError("检查的一周应从星期一开始。")
    if monday > clock.college_time(now).date():
        raise PeriodError("这一周还没有开始，不能检查。")
    comment = (comment or "").strip()
    if len(comment) > MAX_TEXT_CHARS:
        raise PeriodError(f"检查意见太长（最多 {MAX_TEXT_CHARS} 字）。")
    review = WeekReview(
        staff_id=staff.id, week_start=monday, reviewer_id=reviewer.id, comment=comment,
        reviewed_at=now,
    )  # fmt: skip
    db.add(review)
    return review


def _edited_after_review(db: Session, staff: User, entries: list[Entry]) -> set[uuid.UUID]:
    """Ids of the entries with a revision made after the first review of the entry's week."""
    edited = [e for e in entries if e.revision > 1]
    if not edited:
        return set()
    days = [clock.college_time(e.recorded_at).date() for e in edited]
    reviewed = first_reviews(db, staff, min(days), max(days))
    if not reviewed:
        return set()
    reviewed_at = {
        e.id: reviewed.get(clock.week_of(day)[0]) for e, day in zip(edited, days, strict=True)
    }
    flagged = set()
    for i in range(0, len(edited), 500):  # keep IN lists short on a semester's export
        chunk = [e.id for e in edited[i : i + 500] if reviewed_at[e.id] is not None]
        if not chunk:
            continue
        changes = db.execute(
            select(EntryRevision.entry_id, EntryRevision.changed_at).where(
                EntryRevision.entry_id.in_(chunk), EntryRevision.revision > 1
            )
        )
        for entry_id, changed_at in changes:
            if clock.college_time(changed_at) > reviewed_at[entry_id]:
                flagged.add(entry_id)
    return flagged


def _added_after_review(db: Session, staff: User, entries: list[Entry]) -> set[uuid.UUID]:
    """Ids of the entries that reached the server after the first review of their week."""
    known = [e for e in entries if e.received_at is not None]
    if not known:
        return set()
    days = [clock.college_time(e.recorded_at).date() for e in known]
    reviewed = first_reviews(db, staff, min(days), max(days))
    return {
        e.id
        for e, day in zip(known, days, strict=True)
        if (at := reviewed.get(clock.week_of(day)[0])) is not None
        and clock.college_time(e.received_at) > at
    }


# ---------------------------------------------------------------- an entry's history


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class RevisionView:
    revision: EntryRevision
    author: str
    summary: str
    changes: list[Change]
    after_review: bool
    content_hidden: bool = False
    added_after_review: bool = False  # the first revision, received after the review


def history(db: Session, viewer: User, entry: Entry) -> list[RevisionView]:
    """Every revision of the entry, oldest first, with what changed from the one before, as
    the viewer may read it (sensitive fields left out, scope.py)."""
    revisions = list(
        db.scalars(
            select(EntryRevision)
            .where(EntryRevision.entry_id == entry.id)
            .order_by(EntryRevision.revision)
        )
    )
    authors = _by_id(db, User, {r.author_id for r in revisions})
    monday = clock.week_of(clock.college_time(entry.recorded_at).date())[0]
    reviewed = first_reviews(db, entry.author, monday, monday).get(monday)
    kind = KINDS.get(entry.kind)
    views, before = [], None
    for r in revisions:
        shown, hidden = scope.shown_payload(viewer, entry, r.payload)
        views.append(
            RevisionView(
                revision=r,
                author=authors[r.author_id].name if r.author_id in authors else "",
                summary="已删除" if r.deleted else (_tidy(kind.summary(shown)) if kind else ""),
                changes=_changes(kind, before, shown) if before is not None else [],
                after_review=r.revision > 1
                and reviewed is not None
                and clock.college_time(r.changed_at) > reviewed,
                content_hidden=hidden,
                added_after_review=r.revision == 1
                and reviewed is not None
                and entry.received_at is not None
                and clock.college_time(entry.received_at) > reviewed,
            )
        )
        before = shown
    return views


def _changes(kind: Kind | None, before: dict, after: dict) -> list[Change]:
    """The fields that differ, by the Chinese names the kind gives them."""
    return [
        Change(kind.label_of(key) if kind else key, _shown(before.get(key)), _shown(after.get(key)))
        for key in dict.fromkeys([*before, *after])
        if before.get(key) != after.get(key)
    ]


def _shown(value) -> str:
    if value in (None, "", [], {}):
        return "（空）"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{_shown(v)}" for k, v in value.items())
    return str(value)


# ---------------------------------------------------------------- Excel


COLUMNS = [  # header, width in characters
    ("日期", 12),
    ("时间", 7),
    ("类型", 12),
    ("摘要", 48),
    ("学生", 24),
    ("宿舍", 14),
    ("班级", 18),
    ("版本", 6),
    (EDITED_AFTER_REVIEW, 11),
    (ADDED_AFTER_REVIEW, 11),
    (LATE, 6),  # received more than 12 hours after the phone's time
]


def workbook(
    staff: User, first: date, last: date, lines: list[LogLine], reviews: list[WeekReview]
) -> Workbook:
    """The log as a sheet to file or print: a title row, a header row, one row per entry,
    oldest first (the order of a paper log); the period's reviews on a second sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "工作记录"
    roles = "、".join(r.label for r in sorted(staff.roles))
    who = f"{staff.name}（{roles}）" if roles else staff.name
    xlsx.append(sheet, [f"工作记录：{who}　{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    xlsx.append(sheet, [header for header, _ in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for line in reversed(lines):
        xlsx.append(
            sheet,
            [
                line.day,
                line.at.strftime("%H:%M"),
                line.label + ("（已删除）" if line.entry.deleted else ""),
                line.summary
                + (f"（{CONTENT_HIDDEN}）" if line.content_hidden else "")
                + (f"（删除原因：{line.deleted_reason}）" if line.deleted_reason else ""),
                "、".join(s.name for s in line.students),
                line.room,
                line.class_name,
                line.entry.revision,
                "是" if line.edited_after_review else "",
                "是" if line.added_after_review else "",
                "是" if line.late else "",
            ],
        )
        sheet.cell(sheet.max_row, 1).number_format = "yyyy-mm-dd"
        sheet.cell(sheet.max_row, 4).alignment = Alignment(wrap_text=True, vertical="top")
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(2, index).column_letter].width = width
    sheet.freeze_panes = "A3"

    checks = book.create_sheet("检查")
    xlsx.append(checks, ["周（星期一）", "检查人", "检查时间", "检查意见"])
    for cell in checks[1]:
        cell.font = Font(bold=True)
    for review in reviews:
        xlsx.append(
            checks,
            [
                review.week_start,
                review.reviewer.name,
                clock.college_time(review.reviewed_at).strftime("%Y-%m-%d %H:%M"),
                review.comment,
            ],
        )
        checks.cell(checks.max_row, 1).number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCD", (14, 12, 18, 60), strict=True):
        checks.column_dimensions[letter].width = width
    return book


# the assessment (server/assessment.py) counts reviewed weeks kept as reviewed
edited_after_review = _edited_after_review
added_after_review = _added_after_review
