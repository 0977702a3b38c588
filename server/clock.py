"""The college's clock: today, weeks, semesters and day bounds in Asia/Shanghai.

Times are stored in UTC (`models.UTCDateTime` hands every one back aware); everything a
person reads — "today", a week, a duty window, a semester — is the college's wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.settings import TIMEZONE

COLLEGE_TZ = ZoneInfo(TIMEZONE)
WEEKDAYS = "一二三四五六日"  # 周一 … 周日, indexed by date.weekday()


def now() -> datetime:
    """The current moment, aware, in the college's time zone."""
    return datetime.now(COLLEGE_TZ)


def today() -> date:
    return now().date()


def college_time(moment: datetime) -> datetime:
    """An aware moment read on the college's clock (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(COLLEGE_TZ)


def day_of(moment: datetime) -> date:
    """The college's day a moment falls on."""
    return college_time(moment).date()


def local_time(value: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """A stored moment as the college reads it (the templates' `local_time` filter)."""
    return "" if value is None else college_time(value).strftime(fmt)


def weekday_name(day: date) -> str:
    return f"周{WEEKDAYS[day.weekday()]}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the day's week."""
    monday = monday_of(day)
    return monday, monday + timedelta(days=6)


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last`, college time, as UTC (end excluded)."""
    start = datetime.combine(first, time(), COLLEGE_TZ)
    end = datetime.combine(last + timedelta(days=1), time(), COLLEGE_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, Asia/Shanghai, as UTC."""
    return utc_bounds(monday, monday + timedelta(days=6))


def semester_start(day: date) -> date:
    """The autumn semester runs from August, the spring semester from February."""
    if day.month >= 8:
        return date(day.year, 8, 1)
    if day.month >= 2:
        return date(day.year, 2, 1)
    return date(day.year - 1, 8, 1)


def semester_of(day: date) -> tuple[date, date]:
    """First and last day of the day's semester."""
    first = semester_start(day)
    following = semester_start(first + timedelta(days=190))
    return first, following - timedelta(days=1)
