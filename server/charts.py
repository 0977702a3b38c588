"""Charts for leaders (考核, §4), drawn on the server as inline SVG: no script, no CDN, a few
kilobytes a chart. Every chart comes with its numbers (the page prints them in a table
beside it, for screen readers and printing).

The data functions count week by week over a semester, up to today:
- `person_weeks`: a person's five weekly quotas (本周 history), done against target (%);
- `department_completion`: the department's share of people meeting each weekly measure;
- `hygiene`: hygiene stars of dorm visits per building (average, five-star rate);
- `escalations`: escalations opened per week, and how many of them are closed now.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import assessment, clock
from server.models import Building, Entry, Escalation, Room, User

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 30, 8, 10, 22
COLOURS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#0a7b83", "#bc4c00"]


@dataclass
class ChartData:
    x_labels: list[str]
    series: list[tuple[str, list[float | None]]] = field(default_factory=list)
    table: list[tuple[str, list[str]]] = field(default_factory=list)  # row label, cells
    headers: list[str] = field(default_factory=list)


def _weeks(period: assessment.Period, today: date) -> list[date]:
    return period.weeks(today)


def _label(monday: date) -> str:
    return f"{monday.month}/{monday.day}"


# ---------------------------------------------------------------- drawing


def _frame(max_value: float, unit: str, x_labels: list[str]) -> list[str]:
    inner_h = HEIGHT - TOP - BOTTOM
    parts = [f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - RIGHT}" y2="{TOP + inner_h}" '
             'stroke="#888" stroke-width="1"/>']  # fmt: skip
    for n in range(5):
        value = max_value * n / 4
        y = TOP + inner_h - inner_h * n / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     'stroke="#ddd" stroke-width="0.5"/>')  # fmt: skip
        parts.append(f'<text x="{LEFT - 3}" y="{y + 3:.1f}" font-size="8" text-anchor="end" '
                     f'fill="#555">{value:g}{escape(unit) if n == 4 else ""}</text>')  # fmt: skip
    step = max(1, len(x_labels) // 6)
    for i, label in enumerate(x_labels):
        if i % step == 0:
            parts.append(f'<text x="{_x(i, len(x_labels)):.1f}" y="{HEIGHT - 8}" font-size="8" '
                         f'text-anchor="middle" fill="#555">{escape(label)}</text>')  # fmt: skip
    return parts


def _x(i: int, count: int) -> float:
    inner_w = WIDTH - LEFT - RIGHT
    return LEFT + (inner_w * (i + 0.5) / count if count else 0)


def _y(value: float, max_value: float) -> float:
    inner_h = HEIGHT - TOP - BOTTOM
    return TOP + inner_h - inner_h * min(value, max_value) / (max_value or 1)


def _svg(parts: list[str], series: list[tuple[str, list]], title: str) -> Markup:
    legend = "".join(
        f'<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" '
        f'fill="{COLOURS[n % len(COLOURS)]}"/></svg> {escape(name)}</li>'
        for n, (name, _) in enumerate(series)
    )
    return Markup(
        f'<figure class="chart"><svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(parts)}</svg>'
        f'<ul class="legend plain">{legend}</ul></figure>'
    )


def line_chart(
    series: list[tuple[str, list[float | None]]], x_labels: list[str], max_value: float,
    unit: str, title: str = "折线图",
) -> Markup:  # fmt: skip
    """Lines over weeks; a missing value (None) breaks the line."""
    parts = _frame(max_value, unit, x_labels)
    for n, (_, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        run: list[str] = []
        for i, value in enumerate([*values, None]):
            if value is None:
                if len(run) > 1:
                    parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                                 f'points="{" ".join(run)}"/>')  # fmt: skip
                elif run:
                    x, y = run[0].split(",")
                    parts.append(f'<circle cx="{x}" cy="{y}" r="2" fill="{colour}"/>')
                run = []
                continue
            run.append(f"{_x(i, len(x_labels)):.1f},{_y(value, max_value):.1f}")
    return _svg(parts, series, title)


def bar_chart(
    series: list[tuple[str, list[float]]], x_labels: list[str], title: str = "柱状图"
) -> Markup:
    """Grouped bars over weeks (counts)."""
    top = max([v for _, values in series for v in values] + [1])
    max_value = max(4, int(top + 3) // 4 * 4)
    parts = _frame(max_value, "", x_labels)
    slot = (WIDTH - LEFT - RIGHT) / max(len(x_labels), 1)
    width = slot * 0.8 / max(len(series), 1)
    for n, (_, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        for i, value in enumerate(values):
            if not value:
                continue
            x = LEFT + slot * i + slot * 0.1 + width * n
            y = _y(value, max_value)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                         f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{colour}"/>')  # fmt: skip
    return _svg(parts, series, title)


# ---------------------------------------------------------------- data


def person_weeks(db: Session, person: User, semester: assessment.Period, today: date) -> ChartData:
    """The person's weekly quotas for the semester: done / target per week, as % (capped)."""
    ctx = assessment.Context(db, person.department_id or 0, semester, today)
    weeks = ctx.weeks_of(person)
    data = ChartData([_label(m) for m, _ in weeks])
    labels: dict[str, str] = {}
    values: dict[str, list[float | None]] = defaultdict(list)
    for _, progress in weeks:
        by = {p.counts: p for p in progress}
        for facet, _ in assessment.QUOTA_FACETS:
            row = by.get(facet)
            if row is None:
                continue
            labels[facet] = row.label
    for monday, progress in weeks:
        by = {p.counts: p for p in progress}
        cells = []
        for facet in labels:
            row = by.get(facet)
            if row is None or row.target <= 0:
                values[facet].append(None)
                cells.append("—")
            else:
                values[facet].append(min(100.0, row.done * 100 / row.target))
                cells.append(f"{row.done}/{row.target}")
        data.table.append((monday.isoformat(), cells))
    data.headers = list(labels.values())
    data.series = [(labels[f], values[f]) for f in labels]
    return data


WEEKLY_MEASURES = [
    *(f"quota_{facet}" for facet, _ in assessment.QUOTA_FACETS), "duty_rounds", "meetings",
]  # fmt: skip


def department_completion(
    db: Session, department_id: int, semester: assessment.Period, today: date
) -> ChartData:
    """Per week: for each weekly measure, the share (%) of the people with something due who
    met it (a quota's target, every round of their shifts, a meeting held)."""
    staff = assessment.assessed_staff(db, department_id)
    mondays = _weeks(semester, today)
    data = ChartData([_label(m) for m in mondays])
    data.headers = [assessment.MEASURE_BY_KEY[k].label for k in WEEKLY_MEASURES]
    values: dict[str, list[float | None]] = {k: [] for k in WEEKLY_MEASURES}
    whole = assessment.Context(db, department_id, semester, today)
    quotas = {p.id: dict(whole.weeks_of(p)) for p in staff}  # every week's quotas in one go
    for monday in mondays:
        sunday = monday + timedelta(days=6)
        period = assessment.Period("week", f"w{monday}", monday, sunday, _label(monday))
        ctx = assessment.Context(db, department_id, period, today)
        ctx._weeks = {p.id: [(monday, quotas[p.id][monday])] for p in staff}
        cells = []
        for key in WEEKLY_MEASURES:
            measure = assessment.MEASURE_BY_KEY[key]
            met = due = 0
            for person in staff:
                tally = measure.count(ctx, person, {"mode": "weeks"})
                if tally.expected:
                    due += 1
                    met += 1 if tally.done >= tally.expected else 0
            values[key].append(round(met * 100 / due) if due else None)
            cells.append(f"{met}/{due}" if due else "—")
        data.table.append((monday.isoformat(), cells))
    data.series = [(assessment.MEASURE_BY_KEY[k].label, values[k]) for k in WEEKLY_MEASURES]
    return data


@dataclass
class Hygiene:
    x_labels: list[str]
    stars: list[tuple[str, list[float | None]]]
    rate: list[tuple[str, list[float | None]]]
    table: list[tuple[str, str, list[str]]]  # week, building, cells
    buildings: list[str]


def hygiene(db: Session, department_id: int, semester: assessment.Period, today: date) -> Hygiene:
    """Hygiene stars of the department's dorm visits per building and week: the average and
    the five-star rate (visits with 5 stars / visits with stars)."""
    mondays = _weeks(semester, today)
    start, end = clock.utc_bounds(semester.first, semester.counted_last(today))
    rows = db.execute(
        select(Building.name, Entry.payload, Entry.recorded_at)
        .join(Room, Entry.room_id == Room.id)
        .join(Building, Room.building_id == Building.id)
        .where(
            Entry.kind == "dorm_visit",
            Entry.deleted.is_(False),
            Entry.department_id == department_id,
            Entry.recorded_at >= start,
            Entry.recorded_at < end,
        )
    ).all()
    stars: dict[tuple[str, date], list[int]] = defaultdict(list)
    for building, payload, at in rows:
        value = payload.get("stars")
        if isinstance(value, int) and 1 <= value <= 5:
            stars[building, clock.monday_of(clock.day_of(at))].append(value)
    buildings = sorted({b for b, _ in stars})
    out = Hygiene([_label(m) for m in mondays], [], [], [], buildings)
    for building in buildings:
        averages, rates = [], []
        for monday in mondays:
            got = stars.get((building, monday), [])
            averages.append(round(sum(got) / len(got), 2) if got else None)
            rates.append(round(sum(1 for s in got if s == 5) * 100 / len(got)) if got else None)
            if got:
                out.table.append((monday.isoformat(), building, [
                    str(len(got)), f"{averages[-1]:g}", f"{rates[-1]}%",
                ]))  # fmt: skip
        out.stars.append((building, averages))
        out.rate.append((building, rates))
    return out


def escalations(
    db: Session, department_id: int, semester: assessment.Period, today: date
) -> ChartData:
    """Escalations of the department opened per week, and how many of them are closed now
    (any status but open: withdrawn, handled)."""
    mondays = _weeks(semester, today)
    start, end = clock.utc_bounds(semester.first, semester.counted_last(today))
    opened: dict[date, int] = defaultdict(int)
    closed: dict[date, int] = defaultdict(int)
    for created_at, status in db.execute(
        select(Escalation.created_at, Escalation.status).where(
            Escalation.department_id == department_id,
            Escalation.created_at >= start,
            Escalation.created_at < end,
        )
    ):
        monday = clock.monday_of(clock.day_of(created_at))
        opened[monday] += 1
        if status != "open":
            closed[monday] += 1
    data = ChartData([_label(m) for m in mondays], headers=["提出", "已关闭"])
    data.series = [
        ("提出", [float(opened.get(m, 0)) for m in mondays]),
        ("已关闭", [float(closed.get(m, 0)) for m in mondays]),
    ]
    data.table = [(m.isoformat(), [str(opened.get(m, 0)), str(closed.get(m, 0))]) for m in mondays]
    return data
