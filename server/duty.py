"""The duty roster's rules (值班, guideline §2.4): rotation, roster problems, round windows.

A round is the dorm visit walk of one shift. It is done when the staff member on that shift
recorded at least one dorm visit in a room of the shift's building inside the slot's window
on the shift's date, by the phone's clock (`recorded_at`) read in Asia/Shanghai time.

Windows are closed intervals on the shift's own date: the evening window 21:00–23:30 of
1 December takes visits from 21:00:00 through 23:30:00 on 1 December. A visit at 23:59 is
late (the round is missed) and a visit at 00:01 on 2 December belongs to 2 December: it never
counts for the evening before. Windows therefore never cross midnight (checked on input).

The phone's clock is not taken on trust alone: a visit the server received more than 12 hours
after its `recorded_at` (补录, `models.is_late`) does not make a round done. Such a round is
"late": still listed among the missed rounds, marked 补录, for the leader to judge.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, joinedload

from server import clock, params, xlsx
from server.dorm_visits import KIND as DORM_VISIT
from server.models import (
    DutyShift,
    DutyWindow,
    Entry,
    Role,
    Room,
    Slot,
    SwapRequest,
    User,
    UserRole,
    is_late,
)

# guideline §2.4: the morning round before the first lesson, the evening round before lights out
DEFAULT_WINDOWS = {
    Slot.morning: (time(6, 30), time(8, 30)),
    Slot.evening: (time(21, 0), time(23, 30)),
}
SLOTS = (Slot.morning, Slot.evening)  # the order of a day; sort by this, not by the text
MAX_PERIOD_DAYS = 92  # a roster covers a week or a month; a quarter is the most we accept


class RosterError(ValueError):
    """Input a roster cannot be built from; the message is shown to the user (Chinese)."""


@dataclass(frozen=True, order=True)
class Shift:
    """One person on duty for one round of one day in one building (a roster row to save)."""

    date: date
    slot: Slot
    building_id: int
    staff_id: int


@dataclass(frozen=True)
class Problem:
    """Something wrong with a roster, found before it is saved."""

    kind: str  # "double": same person twice at once; "empty": a round without anyone
    date: date
    slot: Slot
    staff_id: int | None = None
    building_id: int | None = None

    def text(self, names: dict[int, str], buildings: dict[int, str]) -> str:
        when = f"{day_label(self.date)} {self.slot.label}"
        if self.kind == "double":
            return f"{when}：{names.get(self.staff_id, '?')} 同时排了两个值班"
        if self.building_id is not None:
            return f"{when}：{buildings.get(self.building_id, '?')} 没有人值班"
        return f"{when}：没有人值班"


def day_label(day: date) -> str:
    return f"{day.month}月{day.day}日 {clock.weekday_name(day)}"


def period_dates(start: date, end: date) -> list[date]:
    """Every date from start to end inclusive; refuses backwards or overlong periods."""
    if end < start:
        raise RosterError("结束日期不能早于开始日期。")
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise RosterError(f"一次最多排 {MAX_PERIOD_DAYS} 天（约三个月），请缩短时间段。")
    return [start + timedelta(days=n) for n in range(days)]


def parse_date(text: str) -> date:
    return params.parse_date(text, error=RosterError)


# ---------------------------------------------------------------- rotation and problems


def rotation(
    staff_ids: Sequence[int],
    dates: Iterable[date],
    slots: Sequence[Slot],
    buildings: Sequence[int],
    holidays: Iterable[date] = (),
) -> list[Shift]:
    """Spread the rounds of a period evenly over the staff, in the order given.

    Each round of each non-holiday date gets one person per building. The people picked are
    those with the fewest shifts so far, then the ones whose last shift is longest ago, so
    nobody's count differs from another's by more than one and the order rotates. Nobody
    is put in two buildings in the same round.
    """
    staff = list(dict.fromkeys(staff_ids))
    if not staff:
        raise RosterError("请至少选择一位值班人员。")
    if not buildings:
        raise RosterError("请至少选择一栋宿舍楼。")
    if not slots:
        raise RosterError("请至少选择早间或晚间。")
    if len(buildings) > len(staff):
        raise RosterError("值班人员少于楼栋数：同一时段每栋楼需要不同的人。")
    skip = set(holidays)
    count = Counter({s: 0 for s in staff})
    last_turn = {s: -1 for s in staff}
    position = {s: n for n, s in enumerate(staff)}
    shifts: list[Shift] = []
    turn = 0
    for day in sorted(set(dates)):
        if day in skip:
            continue
        for slot in slots:
            ranked = sorted(staff, key=lambda s: (count[s], last_turn[s], position[s]))
            for building_id, staff_id in zip(buildings, ranked, strict=False):
                shifts.append(Shift(day, Slot(slot), building_id, staff_id))
                count[staff_id] += 1
                last_turn[staff_id] = turn
            turn += 1
    return shifts


def roster_problems(
    shifts: Iterable[Shift],
    dates: Iterable[date],
    slots: Sequence[Slot],
    buildings: Sequence[int] = (),
) -> list[Problem]:
    """Same person twice in one round; a round (or a building in it) without anyone.

    `dates` are the dates that need duty (holidays already left out).
    """
    shifts = list(shifts)
    people: dict[tuple[date, Slot], Counter] = defaultdict(Counter)
    covered: dict[tuple[date, Slot], set[int]] = defaultdict(set)
    for shift in shifts:
        people[shift.date, shift.slot][shift.staff_id] += 1
        covered[shift.date, shift.slot].add(shift.building_id)
    problems = []
    for day in sorted(set(dates)):
        for slot in slots:
            key = (day, Slot(slot))
            for staff_id, times in sorted(people[key].items()):
                if times > 1:
                    problems.append(Problem("double", day, key[1], staff_id=staff_id))
            if buildings:
                for building_id in buildings:
                    if building_id not in covered[key]:
                        problems.append(Problem("empty", day, key[1], building_id=building_id))
            elif not covered[key]:
                problems.append(Problem("empty", day, key[1]))
    return problems


# ---------------------------------------------------------------- round windows


def windows_for(db: Session, department_id: int | None) -> dict[Slot, tuple[time, time]]:
    """The department's round windows: its own rows where it has them, else the defaults."""
    windows = dict(DEFAULT_WINDOWS)
    if department_id is not None:
        for row in db.scalars(select(DutyWindow).where(DutyWindow.department_id == department_id)):
            windows[row.slot] = (row.starts_at, row.ends_at)
    return windows


def check_window(starts_at: time, ends_at: time) -> None:
    if not starts_at < ends_at:
        raise RosterError("巡查时间段的结束时间须晚于开始时间，且不能跨过午夜。")


def set_windows(db: Session, department_id: int, windows: dict[Slot, tuple[time, time]]) -> None:
    """Save a department's own round windows; the caller commits."""
    for slot, (starts_at, ends_at) in windows.items():
        check_window(starts_at, ends_at)
        row = db.get(DutyWindow, (department_id, slot))
        if row is None:
            row = DutyWindow(department_id=department_id, slot=slot)
            db.add(row)
        row.starts_at, row.ends_at = starts_at, ends_at


def window_bounds(day: date, slot: Slot, windows=DEFAULT_WINDOWS) -> tuple[datetime, datetime]:
    starts_at, ends_at = windows[Slot(slot)]
    return (
        datetime.combine(day, starts_at, clock.COLLEGE_TZ),
        datetime.combine(day, ends_at, clock.COLLEGE_TZ),
    )


def in_window(moment: datetime, day: date, slot: Slot, windows=DEFAULT_WINDOWS) -> bool:
    starts, ends = window_bounds(day, slot, windows)
    return starts <= clock.college_time(moment) <= ends


@dataclass
class Round:
    """A shift's round and how it went: done, missed, or not over yet (open / upcoming)."""

    shift: DutyShift
    starts: datetime
    ends: datetime
    status: str  # done, missed, late (only 补录 visits), open (window now), upcoming

    @property
    def label(self) -> str:
        return ROUND_LABELS[self.status]


ROUND_LABELS = {
    "done": "已完成",
    "missed": "未巡查",
    "late": "补录",
    "open": "进行中",
    "upcoming": "未开始",
}
NOT_DONE = ("missed", "late")  # closed rounds without a visit recorded in time


def rounds(db: Session, shifts: Sequence[DutyShift], now: datetime | None = None) -> list[Round]:
    """The round of each shift, judged against the dorm visits its staff member recorded."""
    now = clock.college_time(now or datetime.now(UTC))
    if not shifts:
        return []
    windows = {d: windows_for(db, d) for d in {s.department_id for s in shifts}}
    first = min(s.date for s in shifts)
    last = max(s.date for s in shifts)
    # a day either side: SQLite compares stored timestamps as text, so filter exactly below
    visits = db.execute(
        select(Entry.author_id, Room.building_id, Entry.recorded_at, Entry.received_at)
        .join(Room, Entry.room_id == Room.id)
        .where(
            Entry.kind == DORM_VISIT,
            Entry.deleted.is_(False),
            Entry.author_id.in_({s.staff_id for s in shifts}),
            Entry.recorded_at >= datetime.combine(first - timedelta(days=1), time(), UTC),
            Entry.recorded_at < datetime.combine(last + timedelta(days=2), time(), UTC),
        )
    ).all()
    visited: dict[tuple[int, int], list[tuple[datetime, bool]]] = defaultdict(list)
    for author_id, building_id, recorded_at, received_at in visits:
        visited[author_id, building_id].append(
            (clock.college_time(recorded_at), is_late(recorded_at, received_at))
        )
    out = []
    for shift in shifts:
        starts, ends = window_bounds(shift.date, shift.slot, windows[shift.department_id])
        in_window = [  # for each visit inside the window: was it 补录?
            late for t, late in visited[shift.staff_id, shift.building_id] if starts <= t <= ends
        ]
        if in_window and not all(in_window):  # one visit received in time is enough
            status = "done"
        elif in_window:
            status = "late"
        elif now > ends:
            status = "missed"
        elif now >= starts:
            status = "open"
        else:
            status = "upcoming"
        out.append(Round(shift, starts, ends, status))
    return out


def missed_rounds(
    db: Session,
    department_id: int | None,
    start: date,
    end: date,
    now: datetime | None = None,
) -> list[Round]:
    """Rounds between start and end (inclusive) whose window has closed without a visit
    received in time (status "missed", or "late" when only a 补录 visit came).

    `department_id=None` looks at every department (the student affairs office).
    """
    query = (
        select(DutyShift)
        .options(joinedload(DutyShift.building), joinedload(DutyShift.staff))
        .where(DutyShift.date >= start, DutyShift.date <= end)
    )
    if department_id is not None:
        query = query.where(DutyShift.department_id == department_id)
    shifts = sorted(db.scalars(query), key=lambda s: (s.date, SLOTS.index(s.slot), s.building_id))
    return [r for r in reversed(rounds(db, shifts, now)) if r.status in NOT_DONE]


# ---------------------------------------------------------------- the department's roster


def department_staff(db: Session, department_id: int) -> list[User]:
    """Who can be put on duty: the department's active counselors and class teachers."""
    return list(
        db.scalars(
            select(User)
            .join(UserRole)
            .where(
                User.department_id == department_id,
                User.active.is_(True),
                UserRole.role.in_([Role.counselor, Role.class_teacher]),
            )
            .distinct()
            .order_by(User.id)
        )
    )


def shifts_between(db: Session, department_id: int | None, start: date, end: date):
    """Saved shifts of a period, in the order of the day (all departments for None)."""
    query = (
        select(DutyShift)
        .options(joinedload(DutyShift.building), joinedload(DutyShift.staff))
        .where(DutyShift.date >= start, DutyShift.date <= end)
    )
    if department_id is not None:
        query = query.where(DutyShift.department_id == department_id)
    return sorted(
        db.scalars(query), key=lambda s: (s.date, SLOTS.index(s.slot), s.building_id, s.staff_id)
    )


def replace_roster(
    db: Session, department_id: int, start: date, end: date, shifts: Iterable[Shift]
) -> int:
    """Save a roster: the department's shifts of the period become exactly these.

    Swap requests about the replaced shifts go with them (the shifts they name are gone).
    The caller commits.
    """
    old = select(DutyShift.id).where(
        DutyShift.department_id == department_id, DutyShift.date >= start, DutyShift.date <= end
    )
    db.execute(
        delete(SwapRequest).where(
            or_(SwapRequest.shift_id.in_(old), SwapRequest.colleague_shift_id.in_(old))
        )
    )
    db.execute(delete(DutyShift).where(DutyShift.id.in_(old)))
    rows = [
        DutyShift(
            date=s.date,
            slot=s.slot,
            department_id=department_id,
            building_id=s.building_id,
            staff_id=s.staff_id,
        )
        for s in shifts
        if start <= s.date <= end
    ]
    db.add_all(rows)
    return len(rows)


# ---------------------------------------------------------------- Excel


def roster_workbook(title: str, start: date, end: date, shifts: Sequence[DutyShift]) -> Workbook:
    """The roster as people print and pin it up: a title row, then one row per date with
    the weekday, and the morning and evening rounds as columns (name · building per line)."""
    cells: dict[tuple[date, Slot], list[str]] = defaultdict(list)
    for shift in shifts:
        cells[shift.date, shift.slot].append(f"{shift.staff.name} · {shift.building.name}")
    book = Workbook()
    sheet = book.active
    sheet.title = "值班表"
    xlsx.append(sheet, [f"{title} 值班表（{start:%Y年%m月%d日}—{end:%Y年%m月%d日}）"])
    sheet.merge_cells("A1:D1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    xlsx.append(sheet, ["日期", "星期", *(f"{slot.label[0]}（{slot.label}）" for slot in SLOTS)])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    thin = Side(style="thin")
    for day in period_dates(start, end):
        xlsx.append(
            sheet, [day, clock.weekday_name(day), *("\n".join(cells[day, s]) for s in SLOTS)]
        )
        row = sheet.max_row
        sheet.cell(row, 1).number_format = "yyyy-mm-dd"
        lines = max(1, *(len(cells[day, s]) for s in SLOTS))
        sheet.row_dimensions[row].height = 18 * lines
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
    for column, width in zip("ABCD", (12, 6, 32, 32), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return book


# ---------------------------------------------------------------- approved leave meets the roster


@dataclass(frozen=True)
class LeaveClash:
    """A shift on a day its staff member has approved leave (§1.9 meets §2.4), with the
    colleague suggested to take it: a department staff member not on leave that day, not on
    duty in the same round, with the fewest shifts of the shifts looked at (then the
    longest-serving id, so the suggestion is stable)."""

    date: date
    slot: Slot
    building_id: int
    staff_id: int
    substitute_id: int | None

    def text(self, names: dict[int, str], buildings: dict[int, str]) -> str:
        who = names.get(self.staff_id, "?")
        instead = (
            f"，建议由 {names.get(self.substitute_id, '?')} 代班"
            if self.substitute_id is not None
            else "，本系部没有可代班的人"
        )
        return (
            f"{day_label(self.date)} {self.slot.label} {buildings.get(self.building_id, '?')}："
            f"{who} 当天已批准请假{instead}"
        )


def leave_clashes(db: Session, department_id: int, shifts: Sequence) -> list[LeaveClash]:
    """Shifts (saved `DutyShift`s or a draft's `Shift`s) whose staff is on approved leave."""
    from server.leave import approved_days

    shifts = list(shifts)
    if not shifts:
        return []
    first, last = min(s.date for s in shifts), max(s.date for s in shifts)
    away = approved_days(db, {s.staff_id for s in shifts}, first, last)
    if not any(s.date in away.get(s.staff_id, ()) for s in shifts):
        return []  # the common case: no one on the roster is away (issue 16)
    staff = [u.id for u in department_staff(db, department_id)]
    away = approved_days(db, {*staff, *(s.staff_id for s in shifts)}, first, last)
    count = Counter({s: 0 for s in staff})
    busy: dict[tuple[date, Slot], set[int]] = defaultdict(set)
    for s in shifts:
        count[s.staff_id] += 1
        busy[s.date, Slot(s.slot)].add(s.staff_id)
    clashes = []
    for s in sorted(shifts, key=lambda s: (s.date, SLOTS.index(Slot(s.slot)), s.building_id)):
        if s.date not in away.get(s.staff_id, set()):
            continue
        free = [
            p for p in staff
            if p != s.staff_id and s.date not in away.get(p, set())
            and p not in busy[s.date, Slot(s.slot)]
        ]  # fmt: skip
        substitute = min(free, key=lambda p: (count[p], p)) if free else None
        if substitute is not None:
            count[substitute] += 1  # two clashes do not both go to the same colleague
            busy[s.date, Slot(s.slot)].add(substitute)
        clashes.append(LeaveClash(s.date, Slot(s.slot), s.building_id, s.staff_id, substitute))
    return clashes


LEAVE_LOOKAHEAD_DAYS = 31  # the leader's list: saved shifts from today on


def upcoming_leave_clashes(db: Session, department_id: int, today: date) -> list[LeaveClash]:
    shifts = shifts_between(db, department_id, today, today + timedelta(days=LEAVE_LOOKAHEAD_DAYS))
    return leave_clashes(db, department_id, shifts)
