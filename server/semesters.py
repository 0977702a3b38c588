"""The semester calendar (学期): each semester's name, first and last day, and holidays.

The college sets its semesters on `/admin/semesters`; attendance history, the work log's
semester export, the roster builder's holidays and the "at semester start" rules read them
from here. A day no recorded semester covers falls back to the usual calendar (autumn from
1 August, spring from 1 February, `clock.semester_of`), so a new install works before the
office has typed anything in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.models import Semester

MAX_SEMESTER_DAYS = 200  # a semester is about 20 weeks; a longer one is a typing mistake
FIRST_YEAR, LAST_YEAR = 2000, 2100  # dates outside are typing mistakes, not semesters
MAX_NAME_CHARS = 50


class SemesterError(Exception):
    """A semester that cannot be saved; the message is shown (Chinese)."""


@dataclass(frozen=True)
class Term:
    name: str
    first: date
    last: date
    holidays: frozenset[date]
    recorded: bool  # from the calendar (True) or the usual 1 Feb / 1 Aug fallback


def term_of(db: Session, day: date) -> Term:
    """The semester `day` falls in."""
    row = db.scalar(
        select(Semester).where(Semester.first_day <= day, Semester.last_day >= day).limit(1)
    )
    if row is not None:
        return Term(row.name, row.first_day, row.last_day, frozenset(holidays_of(row)), True)
    first, last = clock.semester_of(day)
    return Term(usual_name(first), first, last, frozenset(), False)


def usual_name(first: date) -> str:
    if first.month >= 8:
        return f"{first.year}-{first.year + 1}学年第一学期"
    return f"{first.year - 1}-{first.year}学年第二学期"


def holidays_of(row: Semester) -> dict[date, str]:
    return {date.fromisoformat(h["day"]): h.get("name", "") for h in row.holidays or []}


def holidays_between(db: Session, first: date, last: date) -> set[date]:
    """Holidays of the recorded semesters between two days (both included)."""
    rows = db.scalars(
        select(Semester).where(Semester.first_day <= last, Semester.last_day >= first)
    )
    return {d for row in rows for d in holidays_of(row) if first <= d <= last}


def all_semesters(db: Session) -> list[Semester]:
    return list(db.scalars(select(Semester).order_by(Semester.first_day.desc())))


def save(
    db: Session, semester: Semester | None, *, name: str, first: str, last: str, holidays: str
) -> Semester:
    """Create or change a semester after checking it; raises SemesterError."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise SemesterError(f"请填写学期名称（{MAX_NAME_CHARS} 字以内），例如“2026-2027学年第一学期”。")
    first_day, last_day = _day(first, "第一天"), _day(last, "最后一天")
    if last_day < first_day:
        raise SemesterError("最后一天不能早于第一天。")
    if (last_day - first_day).days + 1 > MAX_SEMESTER_DAYS:
        raise SemesterError(f"一个学期最长 {MAX_SEMESTER_DAYS} 天，请检查日期。")
    days_off = parse_holidays(holidays)
    outside = [d for d in days_off if not first_day <= d <= last_day]
    if outside:
        raise SemesterError(f"假日 {outside[0].isoformat()} 不在这个学期之内。")
    overlapping = db.scalar(
        select(Semester).where(
            Semester.first_day <= last_day,
            Semester.last_day >= first_day,
            Semester.id != (semester.id if semester else -1),
        )
    )
    if overlapping is not None:
        raise SemesterError(f"与“{overlapping.name}”的日期重叠。")
    same_name = db.scalar(
        select(Semester).where(
            Semester.name == name, Semester.id != (semester.id if semester else -1)
        )
    )
    if same_name is not None:
        raise SemesterError(f"已有名为“{name}”的学期。")
    if semester is None:
        semester = Semester()
        db.add(semester)
    semester.name, semester.first_day, semester.last_day = name, first_day, last_day
    semester.holidays = [{"day": d.isoformat(), "name": n} for d, n in sorted(days_off.items())]
    return semester


def parse_holidays(text: str) -> dict[date, str]:
    """One holiday per line: `2026-10-01 国庆节`, or a range `2026-10-01~2026-10-07 国庆节`."""
    days: dict[date, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = re.fullmatch(r"(\S+?)(?:\s*[~～至]\s*(\S+?))?(?:\s+(.*))?", line)
        if match is None:
            raise SemesterError(f"无法识别的假日：{line}")
        start = _day(match.group(1), "假日")
        end = _day(match.group(2), "假日") if match.group(2) else start
        if end < start or (end - start).days > 60:
            raise SemesterError(f"假日时间段不正确：{line}")
        for n in range((end - start).days + 1):
            days[date.fromordinal(start.toordinal() + n)] = (match.group(3) or "").strip()[:20]
    return days


def holidays_text(row: Semester | None) -> str:
    """The holidays as the form shows them, one line per day."""
    if row is None:
        return ""
    return "\n".join(f"{d.isoformat()} {n}".strip() for d, n in sorted(holidays_of(row).items()))


def _day(text: str | None, label: str) -> date:
    try:
        day = date.fromisoformat(str(text or "").strip())
    except ValueError:
        raise SemesterError(f"{label}的日期格式不正确（应为 2026-09-01 这样的格式）。") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise SemesterError(f"{label}的年份不正确：{day.year}。")
    return day
