"""考核 (guideline §4): a department's assessment rules, their filing with the office, scores
per person per period computed from the records, and the group's confirmation that freezes
a period's results (docs/assessment.md).

- Rules are data (models.AssessmentRules): a list of items, each naming a measure of
  MEASURES, its weight (the points it is worth) and, for the weekly quotas, how it counts
  (met weeks / all weeks, or the total against the summed targets). The college's defaults
  (COLLEGE_DEFAULT) follow the guideline; a department edits a copy, files it (备案) with the
  office, which accepts or returns it with a comment. The newest accepted version is used;
  until one is accepted, the college's defaults are.
- A measure is one function `(Context, person, item) -> Tally` (done against expected) and
  one row of MEASURES. Points = weight × min(done / expected, 1); with nothing expected in
  the period (no shift, no class) the measure is met (full points). Manual items carry the
  points the assessment group gave, at most the item's weight.
- Periods are months, semesters (the calendar's, server/semesters.py) or academic years
  (1 August to 31 July). Only the part of a period up to today is counted.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock, duty, grades, homes, scope, semester_plans, semesters, week, worklog
from server.due import COURSE_TEACHER_DAYS, cadence
from server.models import (
    Activity,
    AssessmentConfirmation,
    AssessmentGroupMember,
    AssessmentManualScore,
    AssessmentRules,
    AssessmentSnapshot,
    ClassCourse,
    DutyShift,
    Entry,
    EntryRevision,
    Escalation,
    Role,
    SchoolClass,
    Student,
    User,
)
from server.records import MEETING, PARENT_CONTACT, PLAN, TEACHER_CONTACT
from server.second_classroom import LECTURES_PER_GRADE


class AssessmentError(Exception):
    """Something about the assessment that cannot be done; the message is shown (Chinese)."""


class NotMember(AssessmentError, PermissionError):
    """Only the assessment group's members score manual items and confirm results (403)."""


PERIOD_KINDS = {"month": "月度", "semester": "学期", "year": "学年"}
STATUS_LABELS = {
    "draft": "草稿",
    "filed": "已报学工部备案",
    "accepted": "学工部已备案",
    "returned": "学工部退回",
}
QUOTA_MODES = {"weeks": "达标周数 / 总周数", "count": "完成次数 / 要求次数"}
MAX_WEIGHT = 100
MAX_MANUAL_ITEMS = 6
MAX_LABEL = 30
MAX_COMMENT = 500


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    kind: str  # month, semester, year
    key: str  # m2026-11, s2026-09-01 (the semester's first day), y2026 (from 1 August 2026)
    first: date
    last: date
    label: str

    def counted_last(self, today: date) -> date:
        return min(self.last, today)

    def weeks(self, today: date) -> list[date]:
        """Mondays of the weeks counted: weeks whose Monday lies in the period, up to today."""
        monday = clock.monday_of(self.first)
        if monday < self.first:
            monday += timedelta(days=7)
        out = []
        while monday <= self.counted_last(today):
            out.append(monday)
            monday += timedelta(days=7)
        return out


def period_for_day(db: Session, kind: str, day: date) -> Period:
    if kind == "month":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return Period(kind, f"m{first:%Y-%m}", first, last, f"{first.year}年{first.month}月")
    if kind == "semester":
        term = semesters.term_of(db, day)
        return Period(kind, f"s{term.first.isoformat()}", term.first, term.last, term.name)
    if kind == "year":
        start_year = day.year if day.month >= 8 else day.year - 1
        first, last = date(start_year, 8, 1), date(start_year + 1, 7, 31)
        return Period(kind, f"y{start_year}", first, last, f"{start_year}-{start_year + 1}学年")
    raise AssessmentError("考核周期应为月度、学期或学年。")


KEY_FORMS = {
    "month": re.compile(r"m(\d{4})-(\d{2})"),
    "semester": re.compile(r"s(\d{4}-\d{2}-\d{2})"),
    "year": re.compile(r"y(\d{4})"),
}


def period_of(db: Session, kind: str, key: str | None, today: date) -> Period:
    """The period named by `key` (this period when blank); a bad key is an AssessmentError."""
    if not key:
        return period_for_day(db, kind, today)
    form = KEY_FORMS.get(kind)
    found = form.fullmatch(key) if form else None
    if found is None:
        raise AssessmentError("考核期无效。")
    try:
        if kind == "month":
            day = date(int(found.group(1)), int(found.group(2)), 1)
        elif kind == "semester":
            day = date.fromisoformat(found.group(1))
        else:
            day = date(int(found.group(1)), 8, 1)
    except ValueError:
        raise AssessmentError("考核期无效。") from None
    if not semesters.FIRST_YEAR <= day.year <= semesters.LAST_YEAR:
        raise AssessmentError("考核期无效。")
    period = period_for_day(db, kind, day)
    if period.key != key:
        raise AssessmentError("考核期无效。")
    return period


def recent_periods(db: Session, kind: str, today: date, count: int = 6) -> list[Period]:
    """This period and the ones before it, newest first (the period picker)."""
    out = [period_for_day(db, kind, today)]
    while len(out) < count:
        out.append(period_for_day(db, kind, out[-1].first - timedelta(days=1)))
    return out


# ---------------------------------------------------------------- measures


@dataclass
class Tally:
    done: float
    expected: float | None  # None: a manual item (points given by the group)
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.expected is None or self.expected <= 0:
            return 1.0
        return min(self.done / self.expected, 1.0)

    def shown(self) -> str:
        if self.expected is None:
            return f"{self.done:g}"
        return f"{self.done:g}/{self.expected:g}"


@dataclass
class Context:
    """What the measures of one department and period share (caches per person)."""

    db: Session
    department_id: int
    period: Period
    today: date
    _weeks: dict[int, list[tuple[date, list[week.Progress]]]] = field(default_factory=dict)
    _manual: dict[tuple[int, str], float] | None = None
    # the counted period's entries of the people read at once (`prefetch`): author → rows
    _entries: dict[int, list[tuple[str, dict, datetime]]] | None = None
    _terms: dict[date, semesters.Term] = field(default_factory=dict)
    _lectures: list[Activity] | None = None

    def prefetch(self, people: list[User]) -> None:
        """Read the counted period's records of these people in one query (a department)."""
        start, end = self.bounds()
        mondays = self.period.weeks(self.today)
        if mondays:  # the weeks counted run to their Sunday, maybe past the counted days
            start = min(start, clock.utc_bounds(mondays[0], mondays[0])[0])
            end = max(end, clock.utc_bounds(mondays[-1], mondays[-1] + timedelta(days=6))[1])
        self._entries = {p.id: [] for p in people}
        ids = list(self._entries)
        for n in range(0, len(ids), 500):
            for author, kind, payload, at in self.db.execute(
                select(Entry.author_id, Entry.kind, Entry.payload, Entry.recorded_at).where(
                    Entry.author_id.in_(ids[n : n + 500]),
                    Entry.deleted.is_(False),
                    Entry.recorded_at >= start,
                    Entry.recorded_at < end,
                )
            ):
                self._entries[author].append((kind, payload, at))

    def term_of(self, day: date) -> semesters.Term:
        for first, term in self._terms.items():
            if first <= day <= term.last:
                return term
        term = semesters.term_of(self.db, day)
        self._terms[term.first] = term
        return term

    def held_lectures(self) -> list[Activity]:
        if self._lectures is None:
            self._lectures = list(
                self.db.scalars(
                    select(Activity).where(
                        Activity.category == "lecture",
                        Activity.high_level.is_(True),
                        Activity.status == "held",
                        Activity.day >= self.period.first,
                        Activity.day <= self.last,
                    )
                )
            )
        return self._lectures

    @property
    def last(self) -> date:
        return self.period.counted_last(self.today)

    def bounds(self) -> tuple[datetime, datetime]:
        return clock.utc_bounds(self.period.first, self.last)

    def weeks_of(self, person: User) -> list[tuple[date, list[week.Progress]]]:
        if person.id not in self._weeks:
            mondays = self.period.weeks(self.today)
            # prefetched rows cover every counted week (my_weeks skips rows outside them)
            rows = self._entries.get(person.id) if self._entries is not None else None
            self._weeks[person.id] = list(
                zip(mondays, week.my_weeks(self.db, person, mondays, rows), strict=True)
            )
        return self._weeks[person.id]

    def manual(self, person: User, item: str) -> float:
        if self._manual is None:
            self._manual = {
                (row.staff_id, row.item): row.points
                for row in self.db.scalars(
                    select(AssessmentManualScore).where(
                        AssessmentManualScore.department_id == self.department_id,
                        AssessmentManualScore.period == self.period.key,
                    )
                )
            }
        return self._manual.get((person.id, item), 0.0)

    def entries(self, person: User, kind: str) -> list[tuple[dict, datetime]]:
        start, end = self.bounds()
        if self._entries is not None and person.id in self._entries:
            return [
                (p, at) for k, p, at in self._entries[person.id] if k == kind and start <= at < end
            ]
        return list(
            self.db.execute(
                select(Entry.payload, Entry.recorded_at).where(
                    Entry.author_id == person.id,
                    Entry.kind == kind,
                    Entry.deleted.is_(False),
                    Entry.recorded_at >= start,
                    Entry.recorded_at < end,
                )
            )
        )


Counter = Callable[[Context, User, dict], Tally]
Link = Callable[[Callable[..., str], User, Period], str]


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    counts: str  # what it counts, in the rules' words
    count: Counter
    link: Link | None = None  # the list page with the records behind the number
    manual: bool = False
    quota: bool = False  # a weekly quota: the item picks a mode (QUOTA_MODES)


def _quota(facet: str) -> Counter:
    def count(ctx: Context, person: User, item: dict) -> Tally:
        done = expected = 0
        for _, progress in ctx.weeks_of(person):
            row = next((p for p in progress if p.counts == facet), None)
            if row is None or row.target <= 0:
                continue
            if item.get("mode") == "count":
                done, expected = done + row.done, expected + row.target
            else:
                done, expected = done + (1 if row.met else 0), expected + 1
        return Tally(done, expected)

    return count


def _log_link(kind: str = "") -> Link:
    def link(reverse, person: User, period: Period) -> str:
        url = f"{reverse('work_log')}?staff={person.id}&week={period.first.isoformat()}"
        return f"{url}&kind={kind}" if kind else url

    return link


def duty_rounds(ctx: Context, person: User, item: dict) -> Tally:
    """§2.4: rounds of the person's shifts whose window has closed: done in time / all."""
    shifts = ctx.db.scalars(
        select(DutyShift).where(
            DutyShift.staff_id == person.id,
            DutyShift.date >= ctx.period.first,
            DutyShift.date <= ctx.last,
        )
    ).all()
    closed = [r for r in duty.rounds(ctx.db, shifts) if r.status in ("done", *duty.NOT_DONE)]
    return Tally(sum(1 for r in closed if r.status == "done"), len(closed))


def parent_contacts(ctx: Context, person: User, item: dict) -> Tally:
    """§2.5.4: for each student of the person's classes, the contacts their contact grade asks
    for in the period (one per cadence, at least one), against the person's own contacts."""
    students = ctx.db.execute(
        select(Student.id, Student.contact_grade).where(
            Student.id.in_(scope.student_ids_in_scope(person))
        )
    ).all()
    if not students:
        return Tally(0, 0)
    every = cadence(ctx.db, ctx.department_id)
    days = (ctx.last - ctx.period.first).days + 1
    made: dict[int, int] = defaultdict(int)
    for payload, _ in ctx.entries(person, PARENT_CONTACT.name):
        if payload.get("student_id") is not None:
            made[payload["student_id"]] += 1
    done = expected = 0
    by_grade: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for student_id, grade in students:
        want = max(1, math.ceil(days / every[grade.value]))
        got = min(made.get(student_id, 0), want)
        done, expected = done + got, expected + want
        by_grade[grade.value][0] += got
        by_grade[grade.value][1] += want
    names = {"special": "特殊", "key": "重点", "general": "一般"}
    note = "；".join(f"{names[g]} {d}/{e}" for g, (d, e) in sorted(by_grade.items()))
    return Tally(done, expected, note)


def teacher_contacts(ctx: Context, person: User, item: dict) -> Tally:
    """§2.6.2: each course teacher of the classes the person leads as class teacher (or
    covers as counselor, §1.10) once a month: contacts made / months × course teachers."""
    led = select(SchoolClass.id).where(
        scope.current_class(),
        (SchoolClass.class_teacher_id == person.id)
        | ((SchoolClass.counselor_id == person.id) & SchoolClass.class_teacher_id.is_(None)),
    )
    taught = ctx.db.scalars(select(ClassCourse.id).where(ClassCourse.class_id.in_(led))).all()
    if not taught:
        return Tally(0, 0)
    months = max(1, math.ceil(((ctx.last - ctx.period.first).days + 1) / COURSE_TEACHER_DAYS))
    made: dict[int, int] = defaultdict(int)
    for payload, _ in ctx.entries(person, TEACHER_CONTACT.name):
        made[payload.get("class_course_id")] += 1
    done = sum(min(made.get(t, 0), months) for t in taught)
    return Tally(done, months * len(taught))


def meetings(ctx: Context, person: User, item: dict) -> Tally:
    """§2.1–§2.3: a meeting every week (班委会例会, 学生干部例会 …): weeks with one / weeks."""
    mondays = ctx.period.weeks(ctx.today)
    held = {clock.monday_of(clock.day_of(at)) for _, at in ctx.entries(person, MEETING.name)}
    return Tally(sum(1 for m in mondays if m in held), len(mondays))


def plans_on_time(ctx: Context, person: User, item: dict) -> Tally:
    """§1.3: each semester's plan (due by the end of its second week) and summary (due by its
    last day) whose due date falls in the counted period: written on time / due."""
    due: list[tuple[str, date, date]] = []  # what, window start, due by
    day = ctx.period.first
    seen = set()
    while day <= ctx.last:
        term = ctx.term_of(day)
        if term.first not in seen:
            seen.add(term.first)
            plan_by = term.first + timedelta(days=semester_plans.PLAN_DAYS - 1)
            early = timedelta(days=semester_plans.PLAN_EARLY_DAYS)
            due.append(("semester_plan", term.first - early, plan_by))
            early = timedelta(days=semester_plans.SUMMARY_EARLY_DAYS)
            due.append(("semester_summary", term.last - early, term.last))
        day = term.last + timedelta(days=1)
    due = [d for d in due if ctx.period.first <= d[2] <= ctx.last]
    if not due:
        return Tally(0, 0)
    written = [
        (payload.get("plan_type"), clock.day_of(at))
        for payload, at in ctx.db.execute(
            select(Entry.payload, Entry.recorded_at).where(
                Entry.author_id == person.id, Entry.kind == PLAN.name, Entry.deleted.is_(False)
            )
        )
    ]
    done = sum(
        1 for what, start, by in due if any(w == what and start <= d <= by for w, d in written)
    )
    return Tally(done, len(due))


def lectures(ctx: Context, person: User, item: dict) -> Tally:
    """§2.10.2: two high-level lectures a semester for each class the person leads (class
    teacher, or counselor without one): held ones in the period / two per class for each
    semester ending in the counted period."""
    classes = ctx.db.scalars(
        select(SchoolClass.id).where(
            scope.current_class(),
            (SchoolClass.class_teacher_id == person.id)
            | ((SchoolClass.counselor_id == person.id) & SchoolClass.class_teacher_id.is_(None)),
        )
    ).all()
    if not classes:
        return Tally(0, 0)
    ends = 0
    day = ctx.period.first
    while day <= ctx.period.last:
        term = ctx.term_of(day)
        if ctx.period.first <= term.last <= ctx.last:
            ends += 1
        day = term.last + timedelta(days=1)
    held = ctx.held_lectures()
    per_class = {c: sum(1 for a in held if c in (a.class_ids or [])) for c in classes}
    want = LECTURES_PER_GRADE * ends
    return Tally(sum(min(n, want) for n in per_class.values()), want * len(classes))


def retake_analyses(ctx: Context, person: User, item: dict) -> Tally:
    """§1.7: for each semester whose report is due in the counted period (a month after it
    starts), the counselor's retake students with an analysis / all retake students."""
    if not person.has(Role.counselor):
        return Tally(0, 0)
    done = expected = 0
    day, seen = ctx.period.first - timedelta(days=grades.REPORT_DAYS), set()
    while day <= ctx.last:
        term = ctx.term_of(day)
        due_by = term.first + timedelta(days=grades.REPORT_DAYS - 1)
        if term.first not in seen and ctx.period.first <= due_by <= ctx.last:
            seen.add(term.first)
            report = grades.report(ctx.db, person, term.first)
            expected += len(report.retakes)
            done += len(report.retakes) - len(report.missing)
        day = term.last + timedelta(days=1)
    return Tally(done, expected)


def worklog_reviews(ctx: Context, person: User, item: dict) -> Tally:
    """§1.4: the weeks of the period the leader reviewed, kept as reviewed: weeks without a
    record changed or added after the review (审阅后修改) / reviewed weeks."""
    reviewed = worklog.first_reviews(ctx.db, person, ctx.period.first, ctx.last)
    if not reviewed:
        return Tally(0, 0)
    start, end = ctx.bounds()
    entries = ctx.db.scalars(
        select(Entry).where(
            Entry.author_id == person.id, Entry.recorded_at >= start, Entry.recorded_at < end
        )
    ).all()
    flagged = worklog.edited_after_review(ctx.db, person, entries) | worklog.added_after_review(
        ctx.db, person, entries
    )
    changed = {clock.monday_of(clock.day_of(e.recorded_at)) for e in entries if e.id in flagged}
    return Tally(sum(1 for monday in reviewed if monday not in changed), len(reviewed))


def escalations_in_time(ctx: Context, person: User, item: dict) -> Tally:
    """§2.7.2 (a concern goes to the office at once): of the escalations the person raised in
    the period, those acknowledged within XUEGONG_ESCALATION_ACK_HOURS / those acknowledged
    or already past the limit (one still inside it counts neither way; withdrawn ones not)."""
    start, end = ctx.bounds()
    limit = timedelta(hours=homes.ACK_HOURS[0])
    rows = ctx.db.execute(
        select(Escalation.created_at, Escalation.acknowledged_at)
        .join(Entry, Entry.id == Escalation.entry_id)
        .where(
            Entry.author_id == person.id,
            Escalation.status != "withdrawn",
            Escalation.created_at >= start,
            Escalation.created_at < end,
        )
    ).all()
    at = datetime.now(UTC)
    in_time = sum(1 for made, acked in rows if acked is not None and acked - made <= limit)
    counted = sum(1 for made, acked in rows if acked is not None or at - made > limit)
    return Tally(in_time, counted)


def manual_points(ctx: Context, person: User, item: dict) -> Tally:
    return Tally(min(ctx.manual(person, item["id"]), float(item["weight"])), None)


QUOTA_FACETS = [  # the five weekly quotas of §1.5 (server/week.py, QuotaRule.counts)
    ("talk", "谈心谈话"),
    ("attendance_check", "检查上课"),
    ("hygiene_check", "宿舍卫生检查"),
    ("dorm_talk", "深入宿舍谈心"),
    ("lecture_observation", "听课"),
]
QUOTA_KINDS = {  # the work log's filter for each facet's records
    "talk": "talk",
    "attendance_check": "attendance_check",
    "hygiene_check": "dorm_visit",
    "dorm_talk": "dorm_visit",
    "lecture_observation": "lecture_observation",
}

# one row per measure; a new measure is one counting function and one row here
MEASURES: list[Measure] = [
    *(
        Measure(
            f"quota_{facet}",
            f"每周{label}",
            f"每周“{label}”要求（§1.5）",
            _quota(facet),
            _log_link(QUOTA_KINDS[facet]),
            quota=True,
        )
        for facet, label in QUOTA_FACETS
    ),  # fmt: skip
    Measure(
        "duty_rounds",
        "值班巡查",
        "值班巡查按时完成 / 应巡查次数（§2.4）",
        duty_rounds,
        lambda reverse, person, period: f"{reverse('duty_missed')}",
    ),  # fmt: skip
    Measure(
        "parent_contacts",
        "家长联系",
        "按联系等级应联系的家长 / 已联系（§2.5.4）",
        parent_contacts,
        _log_link(PARENT_CONTACT.name),
    ),  # fmt: skip
    Measure(
        "teacher_contacts",
        "联系任课教师",
        "每位任课教师每月一次（§2.6.2）",
        teacher_contacts,
        _log_link(TEACHER_CONTACT.name),
    ),  # fmt: skip
    Measure(
        "meetings",
        "每周例会",
        "召开例会的周数 / 周数（§2.1–§2.3）",
        meetings,
        _log_link(MEETING.name),
    ),  # fmt: skip
    Measure(
        "plans",
        "计划与总结按时",
        "学期计划、总结按时提交（§1.3）",
        plans_on_time,
        lambda reverse, person, period: reverse("department_plans"),
    ),  # fmt: skip
    Measure(
        "lectures",
        "第二课堂讲座",
        "每班每学期两次高水平讲座（§2.10.2）",
        lectures,
        lambda reverse, person, period: reverse("activities"),
    ),  # fmt: skip
    Measure(
        "retake_analyses",
        "重修分析",
        "重修学生已有分析 / 重修学生（§1.7）",
        retake_analyses,
        lambda reverse, person, period: f"{reverse('grades')}?counselor={person.id}",
    ),  # fmt: skip
    Measure(
        "worklog_reviews",
        "工作记录检查",
        "已检查且无审阅后修改的周 / 已检查的周（§1.4）",
        worklog_reviews,
        _log_link(),
    ),  # fmt: skip
    Measure(
        "escalations_in_time",
        "关注上报及时确认",
        "所报关注在时限内确认 / 已确认或已超时（§2.7.2）",
        escalations_in_time,
        lambda reverse, person, period: reverse("escalations"),
    ),  # fmt: skip
    Measure(
        "manual", "考核小组评分", "考核小组评定，不超过分值（§3）", manual_points, manual=True
    ),  # fmt: skip
]
MEASURE_BY_KEY = {m.key: m for m in MEASURES}

COLLEGE_DEFAULT = {
    "period": "semester",
    "measures": [
        {"id": "quota_talk", "measure": "quota_talk", "weight": 15, "mode": "weeks"},
        {"id": "quota_attendance_check", "measure": "quota_attendance_check", "weight": 10, "mode": "weeks"},
        {"id": "quota_hygiene_check", "measure": "quota_hygiene_check", "weight": 10, "mode": "weeks"},
        {"id": "quota_dorm_talk", "measure": "quota_dorm_talk", "weight": 10, "mode": "weeks"},
        {"id": "quota_lecture_observation", "measure": "quota_lecture_observation", "weight": 5, "mode": "weeks"},
        {"id": "duty_rounds", "measure": "duty_rounds", "weight": 10},
        {"id": "parent_contacts", "measure": "parent_contacts", "weight": 5},
        {"id": "teacher_contacts", "measure": "teacher_contacts", "weight": 5},
        {"id": "meetings", "measure": "meetings", "weight": 5},
        {"id": "plans", "measure": "plans", "weight": 5},
        {"id": "lectures", "measure": "lectures", "weight": 4},
        {"id": "retake_analyses", "measure": "retake_analyses", "weight": 3},
        {"id": "worklog_reviews", "measure": "worklog_reviews", "weight": 5},
        {"id": "escalations_in_time", "measure": "escalations_in_time", "weight": 3},
        {"id": "manual_paper", "measure": "manual", "label": "德育论文 / 课题", "weight": 3},
        {"id": "manual_exchange", "measure": "manual", "label": "经验交流会", "weight": 2},
    ],
}  # fmt: skip


# ---------------------------------------------------------------- rules and their filing


@dataclass
class Rules:
    """The rules in force (or one version of them): `row` is None for the college's defaults."""

    period: str
    items: list[dict]
    row: AssessmentRules | None = None

    @property
    def version_label(self) -> str:
        if self.row is None:
            return "学院默认细则"
        return f"第 {self.row.version} 版（{STATUS_LABELS[self.row.status]}）"

    @property
    def total_weight(self) -> float:
        return sum(float(i["weight"]) for i in self.items)


def item_label(item: dict) -> str:
    return item.get("label") or MEASURE_BY_KEY[item["measure"]].label


def college_rules() -> Rules:
    return Rules(COLLEGE_DEFAULT["period"], [dict(i) for i in COLLEGE_DEFAULT["measures"]])


def versions(db: Session, department_id: int) -> list[AssessmentRules]:
    return list(
        db.scalars(
            select(AssessmentRules)
            .where(AssessmentRules.department_id == department_id)
            .order_by(AssessmentRules.version.desc())
        )
    )


def rules_in_force(db: Session, department_id: int) -> Rules:
    """The newest version the office accepted, else the college's defaults."""
    row = db.scalar(
        select(AssessmentRules)
        .where(AssessmentRules.department_id == department_id, AssessmentRules.status == "accepted")
        .order_by(AssessmentRules.version.desc())
        .limit(1)
    )
    return college_rules() if row is None else Rules(row.period, row.measures, row)


def working_copy(db: Session, department_id: int) -> Rules:
    """What the leader edits: the newest version while a draft or returned, else a copy of
    the newest version (or the college's defaults)."""
    newest = next(iter(versions(db, department_id)), None)
    if newest is None:
        return college_rules()
    return Rules(newest.period, [dict(i) for i in newest.measures], newest)


def parse_items(data: dict[str, str], base: list[dict]) -> tuple[str, list[dict]]:
    """The rules form → (period, items). Every measure has a weight field (0 leaves it out);
    manual items a label and a maximum; blank manual rows are dropped. ValueError with a
    Chinese reason for a bad field."""
    period = data.get("period", "")
    if period not in PERIOD_KINDS:
        raise ValueError("请选择考核周期（月度、学期或学年）。")
    items = []
    for measure in MEASURES:
        if measure.manual:
            continue
        weight = _weight(data.get(f"weight_{measure.key}", ""), measure.label)
        if weight == 0:
            continue
        item = {"id": measure.key, "measure": measure.key, "weight": weight}
        if measure.quota:
            mode = data.get(f"mode_{measure.key}", "weeks")
            if mode not in QUOTA_MODES:
                raise ValueError(f"“{measure.label}”的计分方式无效。")
            item["mode"] = mode
        items.append(item)
    used = set()
    for n in range(MAX_MANUAL_ITEMS):
        label = data.get(f"manual_label_{n}", "").strip()
        raw = data.get(f"manual_weight_{n}", "").strip()
        if not label and not raw:
            continue
        if not label:
            raise ValueError(f"第 {n + 1} 个评分项目请填写名称。")
        if len(label) > MAX_LABEL:
            raise ValueError(f"评分项目名称太长（最多 {MAX_LABEL} 字）。")
        weight = _weight(raw, label)
        if weight == 0:
            raise ValueError(f"“{label}”的分值应大于 0。")
        item_id = data.get(f"manual_id_{n}", "") or f"manual_{n}"
        if not re.fullmatch(r"manual_[a-z0-9_]{1,20}", item_id) or item_id in used:
            item_id = f"manual_{n}"
            while item_id in used:
                item_id += "x"
        used.add(item_id)
        items.append({"id": item_id, "measure": "manual", "label": label, "weight": weight})
    if not items:
        raise ValueError("考核细则至少要有一项。")
    return period, items


def _weight(raw: str, label: str) -> float:
    raw = raw.strip()
    if not raw:
        return 0
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not raw.replace(".", "", 1).isascii() or not 0 <= value <= MAX_WEIGHT or math.isnan(value):
        raise ValueError(f"“{label}”的分值应为 0 到 {MAX_WEIGHT} 之间的数。")
    return round(value, 1)


def save_draft(
    db: Session, department_id: int, user: User, period: str, items: list[dict]
) -> AssessmentRules:
    """Save the leader's edit: into the newest version while it is a draft or returned
    (a returned version becomes a draft again), else as a new version."""
    newest = next(iter(versions(db, department_id)), None)
    if newest is not None and newest.status == "filed":
        raise AssessmentError("细则已报学工部备案，审核之前不能修改。")
    if newest is None or newest.status == "accepted":
        row = AssessmentRules(
            department_id=department_id,
            version=(newest.version + 1) if newest else 1,
            created_by_id=user.id,
            comment="",
            status="draft",
        )
        db.add(row)
    else:
        row = newest
        row.status, row.filed_at = "draft", None
    row.period, row.measures = period, items
    db.flush()
    return row


def file_rules(db: Session, department_id: int, user: User, version: str) -> AssessmentRules:
    """备案: the department sends its newest draft to the office; `version` is the one the
    leader saw (a stale page files nothing)."""
    newest = next(iter(versions(db, department_id)), None)
    if not version.strip().isdecimal():
        raise AssessmentError("请选择要报备案的版本。")
    if newest is None or newest.status not in ("draft", "returned"):
        raise AssessmentError("没有可以报备案的草稿：请先修改并保存细则。")
    if newest.version != int(version):
        raise AssessmentError(f"第 {version} 版不是最新的草稿（最新为第 {newest.version} 版）。")
    newest.status, newest.filed_at = "filed", datetime.now(UTC)
    return newest


def decide(db: Session, rules_id: int, user: User, accept: bool, comment: str) -> AssessmentRules:
    """The office accepts (备案) or returns a filed version; a return needs a comment."""
    row = db.get(AssessmentRules, rules_id)
    if row is None:
        raise AssessmentError("找不到这版细则。")
    if row.status != "filed":
        raise AssessmentError("这版细则不在待备案状态。")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise AssessmentError(f"意见太长（最多 {MAX_COMMENT} 字）。")
    if not accept and not comment:
        raise AssessmentError("退回时请写明意见。")
    row.status = "accepted" if accept else "returned"
    row.decided_by_id, row.decided_at, row.comment = user.id, datetime.now(UTC), comment
    return row


def waiting_filings(db: Session) -> list[AssessmentRules]:
    return list(
        db.scalars(
            select(AssessmentRules)
            .where(AssessmentRules.status == "filed")
            .order_by(AssessmentRules.filed_at)
        )
    )


# ---------------------------------------------------------------- scores


@dataclass
class Line:
    item: dict
    tally: Tally
    points: float

    @property
    def label(self) -> str:
        return item_label(self.item)


@dataclass
class PersonScore:
    person: User
    lines: list[Line]
    rank: int = 0

    @property
    def total(self) -> float:
        return round(sum(line.points for line in self.lines), 1)


def assessed_staff(db: Session, department_id: int) -> list[User]:
    """Who is assessed: the department's active counselors and class teachers."""
    return semester_plans.department_staff(db, department_id)


def score(ctx: Context, person: User, rules: Rules) -> PersonScore:
    lines = []
    for item in rules.items:
        measure = MEASURE_BY_KEY.get(item["measure"])
        if measure is None:
            continue
        tally = measure.count(ctx, person, item)
        weight = float(item["weight"])
        points = tally.done if measure.manual else weight * tally.ratio
        lines.append(Line(item, tally, round(points, 1)))
    return PersonScore(person, lines)


def rank(scores: list[PersonScore]) -> list[PersonScore]:
    """Highest total first; equal totals share a rank (1, 2, 2, 4)."""
    ordered = sorted(scores, key=lambda s: (-s.total, s.person.name))
    for n, row in enumerate(ordered):
        same = n and ordered[n - 1].total == row.total
        row.rank = ordered[n - 1].rank if same else n + 1
    return ordered


def department_scores(
    db: Session, department_id: int, period: Period, rules: Rules, today: date
) -> list[PersonScore]:
    ctx = Context(db, department_id, period, today)
    staff = assessed_staff(db, department_id)
    ctx.prefetch(staff)
    return rank([score(ctx, p, rules) for p in staff])


def set_manual(
    db: Session, department_id: int, period: Period, rules: Rules, scorer: User,
    staff_id: int, item_id: str, points_text: str, note: str = "",
) -> AssessmentManualScore:  # fmt: skip
    """The assessment group's points for a manual item; refused once the period is frozen."""
    if not is_member(db, department_id, scorer):
        raise NotMember("只有考核小组成员可以评分。")
    if snapshot_of(db, department_id, period) is not None:
        raise AssessmentError("本期考核结果已确认冻结，不能再评分。")
    item = next((i for i in rules.items if i["id"] == item_id and i["measure"] == "manual"), None)
    if item is None:
        raise AssessmentError("细则里没有这个评分项目。")
    if staff_id not in {p.id for p in assessed_staff(db, department_id)}:
        raise AssessmentError("只能给本系部的辅导员、班主任评分。")
    try:
        points = float(points_text.strip())
    except ValueError:
        points = -1.0
    if math.isnan(points) or not 0 <= points <= float(item["weight"]):
        raise AssessmentError(f"“{item_label(item)}”的得分应在 0 到 {item['weight']:g} 之间。")
    if len(note) > MAX_COMMENT:
        raise AssessmentError(f"说明太长（最多 {MAX_COMMENT} 字）。")
    row = db.scalar(
        select(AssessmentManualScore).where(
            AssessmentManualScore.department_id == department_id,
            AssessmentManualScore.period == period.key,
            AssessmentManualScore.staff_id == staff_id,
            AssessmentManualScore.item == item_id,
        )
    )
    if row is None:
        row = AssessmentManualScore(
            department_id=department_id, period=period.key, staff_id=staff_id, item=item_id
        )
        db.add(row)
    row.points, row.note = round(points, 1), note.strip()
    row.scored_by_id, row.scored_at = scorer.id, datetime.now(UTC)
    return row


# ---------------------------------------------------------------- the group, confirming, freezing


def group(db: Session, department_id: int) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(AssessmentGroupMember, AssessmentGroupMember.user_id == User.id)
            .where(AssessmentGroupMember.department_id == department_id)
            .order_by(User.name)
        )
    )


def is_member(db: Session, department_id: int, user: User) -> bool:
    return (
        db.get(AssessmentGroupMember, {"department_id": department_id, "user_id": user.id})
        is not None
    )


def set_group(db: Session, department_id: int, user_ids: set[int]) -> None:
    """The leader names the group: active people of the department."""
    if not user_ids:
        raise AssessmentError("考核小组至少要有一名成员。")
    valid = set(
        db.scalars(
            select(User.id).where(
                User.id.in_(user_ids), User.department_id == department_id, User.active.is_(True)
            )
        )
    )
    if valid != user_ids:
        raise AssessmentError("考核小组成员只能是本系部的在职人员。")
    for row in db.scalars(
        select(AssessmentGroupMember).where(AssessmentGroupMember.department_id == department_id)
    ):
        if row.user_id not in user_ids:
            db.delete(row)
    have = set(
        db.scalars(
            select(AssessmentGroupMember.user_id).where(
                AssessmentGroupMember.department_id == department_id
            )
        )
    )
    for user_id in user_ids - have:
        db.add(AssessmentGroupMember(department_id=department_id, user_id=user_id))


def confirmations(db: Session, department_id: int, period: Period) -> list[AssessmentConfirmation]:
    return list(
        db.scalars(
            select(AssessmentConfirmation).where(
                AssessmentConfirmation.department_id == department_id,
                AssessmentConfirmation.period == period.key,
            )
        )
    )


def snapshot_of(db: Session, department_id: int, period: Period) -> AssessmentSnapshot | None:
    return db.scalar(
        select(AssessmentSnapshot).where(
            AssessmentSnapshot.department_id == department_id,
            AssessmentSnapshot.period == period.key,
        )
    )


def confirm(
    db: Session, department_id: int, period: Period, rules: Rules, user: User, today: date
) -> AssessmentSnapshot | None:
    """A group member confirms the period's results (once the period is over); the last
    member's confirmation freezes them (returns the snapshot)."""
    if not is_member(db, department_id, user):
        raise NotMember("只有考核小组成员可以确认考核结果。")
    if period.last >= today:
        raise AssessmentError("考核期结束后才能确认结果。")
    if snapshot_of(db, department_id, period) is not None:
        raise AssessmentError("本期考核结果已经冻结。")
    done = {c.user_id for c in confirmations(db, department_id, period)}
    if user.id in done:
        raise AssessmentError("您已经确认过本期考核结果。")
    now = datetime.now(UTC)
    db.add(AssessmentConfirmation(
        department_id=department_id, period=period.key, user_id=user.id, confirmed_at=now
    ))  # fmt: skip
    members = {m.id for m in group(db, department_id)}
    if not members <= done | {user.id}:
        return None
    rows = [snapshot_row(s) for s in department_scores(db, department_id, period, rules, today)]
    snap = AssessmentSnapshot(
        department_id=department_id, period=period.key, rules_id=rules.row.id if rules.row else None,
        rows=rows, frozen_at=now,
    )  # fmt: skip
    db.add(snap)
    return snap


def snapshot_row(s: PersonScore) -> dict:
    return {
        "staff_id": s.person.id,
        "name": s.person.name,
        "total": s.total,
        "rank": s.rank,
        "lines": {
            line.item["id"]: {"points": line.points, "done": line.tally.done,
                              "expected": line.tally.expected}
            for line in s.lines
        },
    }  # fmt: skip


def changed_after_freeze(
    db: Session, department_id: int, period: Period, snap: AssessmentSnapshot
) -> list[Entry]:
    """Records of the period's assessed people changed, added or deleted after the freeze
    (as the work log flags 审阅后修改): the frozen results stay, these are shown beside them."""
    staff = [p.id for p in assessed_staff(db, department_id)]
    if not staff:
        return []
    start, end = clock.utc_bounds(period.first, period.last)
    revised = select(EntryRevision.entry_id).where(
        EntryRevision.changed_at > snap.frozen_at, EntryRevision.revision > 1
    )
    return list(
        db.scalars(
            select(Entry)
            .where(
                Entry.author_id.in_(staff),
                Entry.recorded_at >= start,
                Entry.recorded_at < end,
                Entry.id.in_(revised) | (Entry.received_at > snap.frozen_at),
            )
            .order_by(Entry.recorded_at)
        )
    )


def frozen_scores(snap: AssessmentSnapshot) -> dict[int, dict]:
    return {row["staff_id"]: row for row in snap.rows}
