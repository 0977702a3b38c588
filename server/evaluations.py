"""Dorm evaluation (宿舍评比) and its publication (公示), guideline §2.9.

Hygiene stars are given on every dorm visit (server/dorm_visits.py). A round (评比) takes the
visits of a period and a scope and gives each room a score:

- which visits: dorm visits with stars, recorded (phone time, Asia/Shanghai day) within the
  round's period; with the rule `inspection` only those on the round's inspection days;
- stars: the mean of those visits' stars (`mean`, the default; also for `inspection`), or the
  stars of the latest one (`last`);
- deductions: each issue found on a counted visit takes its weight off (an issue found on two
  visits counts twice); with `last` only the last visit's issues count;
- score = stars − deductions, never below 0; the evaluation's star level is the score
  rounded half up (4.5 → 5), at least 1;
- a room without a counted visit is 未评: listed, not scored, not ranked, not in any rate.

A room belongs to the class most of its 在读 residents are in (ties: the class named first);
that class gives the room's grade (入学年份) and department, for the scope and the rankings.
Ranks are per grade and per building, by score (equal scores share a rank: 1, 1, 3).

The five-star rate (§2.9 工作重点 2: "每学期五星级率达到80%以上") is the share of a semester's
evaluations at five stars, per room, class, grade and department; below the target it is
flagged, with the rooms that pull it down.
"""

from __future__ import annotations

import calendar
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from server import clock, scope
from server.dorm_visits import ISSUES
from server.dorm_visits import KIND as DORM_VISIT
from server.models import (
    Bed,
    Building,
    Department,
    EvaluationPublication,
    EvaluationRound,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
)
from server.params import BadInput, check_date, parse_date

RULES = {"mean": "平均星级", "last": "最后一次走访", "inspection": "仅专项检查日的走访"}
PERIODS = {"week": "一周", "month": "一个月", "custom": "自定日期"}
# points taken off per visit that found the issue; the leader changes them on the round
DEFAULT_DEDUCTIONS = {"appliance": 1.0, "safety": 1.0, "hygiene": 0.5, "late_return": 0.0}
MAX_DEDUCTION = 5.0  # one issue never takes off more than the whole scale
FIVE_STAR_TARGET = Decimal("0.8")  # §2.9 工作重点 2: 每学期五星级率达到80%以上
MAX_ROUND_DAYS = 200  # a semester at most
MAX_NAME_CHARS = 80
MAX_INSPECTION_DAYS = 31
TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits
HISTORY_VISITS = 5  # the door form's history
PULLING_DOWN = 10  # rooms listed under a flagged rate


class EvaluationError(BadInput):
    """A round that cannot be opened as asked; the message is shown (Chinese)."""


# --- the score of one room (plain functions: tests/test_evaluations.py) -----------------------


@dataclass(frozen=True)
class Visit:
    day: date
    at: datetime
    stars: int
    issues: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    stars: Decimal  # by the round's rule, two decimals
    deduction: Decimal
    score: Decimal
    level: int  # whole stars, 1–5
    visits: int  # visits counted


def counted(visits: list[Visit], rule: str, inspection_days: set[date]) -> list[Visit]:
    """The visits a rule counts, oldest first."""
    ordered = sorted(visits, key=lambda v: v.at)
    if rule == "inspection":
        return [v for v in ordered if v.day in inspection_days]
    if rule == "last":
        return ordered[-1:]
    return ordered


def score_room(
    visits: list[Visit], rule: str, inspection_days: set[date], deductions: dict[str, float]
) -> Score | None:
    """The room's score over the visits of the period, or None (未评) without a counted visit."""
    chosen = counted(visits, rule, inspection_days)
    if not chosen:
        return None
    stars = _two(Decimal(sum(v.stars for v in chosen)) / len(chosen))
    taken = sum(
        (Decimal(str(deductions.get(issue, 0))) for v in chosen for issue in v.issues),
        Decimal(0),
    )
    deduction = _two(taken)
    score = max(Decimal(0), stars - deduction)
    level = max(1, int(score.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return Score(stars, deduction, score, level, len(chosen))


def _two(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def competition_ranks(scores: list[Decimal]) -> list[int]:
    """1, 1, 3 for scores 5, 5, 4: equal scores share a rank, the next rank skips."""
    ranks = []
    for score in scores:
        ranks.append(1 + sum(1 for other in scores if other > score))
    return ranks


# --- a round's rooms and their results ---------------------------------------------------------


@dataclass
class RoomResult:
    room_id: int
    building_id: int
    building: str
    number: str
    class_id: int
    class_name: str
    classes: str  # every class of the residents, the room's own first
    grade: int
    department_id: int
    score: Score | None
    issues: Counter = field(default_factory=Counter)  # issue label → times, counted visits
    grade_rank: int | None = None
    building_rank: int | None = None

    @property
    def room(self) -> str:
        return f"{self.building} {self.number}"


def rooms_of(db: Session, department_id: int | None, grade: int | None, building_id: int | None):
    """The rooms in a scope, each with its class (the one most 在读 residents are in)."""
    query = (
        select(Bed.room_id, Student.class_id, func.count())
        .join(Student, Bed.student_id == Student.id)
        .where(scope.enrolled())
        .group_by(Bed.room_id, Student.class_id)
    )
    if building_id is not None:
        query = query.join(Room, Room.id == Bed.room_id).where(Room.building_id == building_id)
    per_room: dict[int, Counter] = defaultdict(Counter)
    for room_id, class_id, residents in db.execute(query):
        per_room[room_id][class_id] = residents
    if not per_room:
        return []
    class_ids = {c for counts in per_room.values() for c in counts}
    classes = {
        c.id: c for c in db.scalars(select(SchoolClass).where(SchoolClass.id.in_(class_ids)))
    }
    rooms = {
        r.id: r
        for r in db.scalars(
            select(Room).options(joinedload(Room.building)).where(Room.id.in_(list(per_room)))
        )
    }
    found = []
    for room_id, counts in per_room.items():
        ordered = sorted(counts, key=lambda c: (-counts[c], classes[c].name))
        own = classes[ordered[0]]
        if department_id is not None and own.department_id != department_id:
            continue
        if grade is not None and own.grade != grade:
            continue
        found.append((rooms[room_id], own, [classes[c].name for c in ordered]))
    return sorted(found, key=lambda f: (f[0].building.name, f[0].number))


def visits_of(db: Session, room_ids: list[int], first: date, last: date) -> dict[int, list[Visit]]:
    """Visits with stars in these rooms, recorded (college day) from `first` to `last`."""
    from server.models import Entry

    start, end = clock.utc_bounds(first, last)
    found: dict[int, list[Visit]] = defaultdict(list)
    if not room_ids:
        return found
    rows = db.execute(
        select(Entry.room_id, Entry.recorded_at, Entry.payload).where(
            Entry.kind == DORM_VISIT,
            Entry.deleted.is_(False),
            Entry.room_id.in_(room_ids),
            Entry.recorded_at >= start,
            Entry.recorded_at < end,
        )
    )
    for room_id, at, payload in rows:
        stars = payload.get("stars")
        if not stars:
            continue
        issues = tuple(i for i in payload.get("issues") or [] if i in ISSUES)
        found[room_id].append(Visit(clock.day_of(at), at, int(stars), issues))
    return found


def results(db: Session, evaluation: EvaluationRound) -> list[RoomResult]:
    """Every room of the round's scope with its score (or 未评) and its ranks, ranked rooms
    first (by grade, then rank), then the rooms not scored."""
    rooms = rooms_of(db, evaluation.department_id, evaluation.grade, evaluation.building_id)
    visits = visits_of(db, [r.id for r, _, _ in rooms], evaluation.first_day, evaluation.last_day)
    days = {date.fromisoformat(d) for d in evaluation.inspection_days or []}
    found = []
    for room, own, class_names in rooms:
        room_visits = visits.get(room.id, [])
        score = score_room(room_visits, evaluation.rule, days, evaluation.deductions or {})
        issues = Counter(
            ISSUES[i] for v in counted(room_visits, evaluation.rule, days) for i in v.issues
        )
        found.append(
            RoomResult(
                room.id,
                room.building_id,
                room.building.name,
                room.number,
                own.id,
                own.name,
                "、".join(class_names),
                own.grade,
                own.department_id,
                score,
                issues,
            )  # fmt: skip
        )
    rank(found)
    return sorted(
        found,
        key=lambda r: (r.score is None, r.grade, r.grade_rank or 0, r.building, r.number),
    )


def rank(found: list[RoomResult]) -> None:
    """Set each scored room's rank within its grade and within its building."""
    for key, attribute in (("grade", "grade_rank"), ("building_id", "building_rank")):
        groups: dict[object, list[RoomResult]] = defaultdict(list)
        for result in found:
            if result.score is not None:
                groups[getattr(result, key)].append(result)
        for members in groups.values():
            ranks = competition_ranks([m.score.score for m in members])
            for member, place in zip(members, ranks, strict=True):
                setattr(member, attribute, place)


# --- opening a round ----------------------------------------------------------------------------


def may_manage(user: User, evaluation_department_id: int | None) -> bool:
    """Who opens and publishes a round: a department's leader for their department, the
    office for any department and for the whole college (admin keeps data, not rounds)."""
    if user.has(Role.office):
        return True
    return (
        user.has(Role.leader)
        and user.department_id is not None
        and evaluation_department_id == user.department_id
    )


def period_of(kind: str, form: dict) -> tuple[date, date]:
    """The period a form names: a week (any day of it), a month (YYYY-MM) or from–to."""
    if kind == "week":
        day = parse_date(form.get("week_day"), "评比周", EvaluationError)
        return clock.week_of(day)
    if kind == "month":
        text = (form.get("month") or "").strip()
        try:
            year, month = (int(part) for part in text.split("-"))
            first = check_date(date(year, month, 1), "评比月份", EvaluationError)
        except (ValueError, TypeError):
            raise EvaluationError("评比月份格式应为 2026-11。") from None
        return first, first.replace(day=calendar.monthrange(year, month)[1])
    if kind == "custom":
        first = parse_date(form.get("first_day"), "开始日期", EvaluationError)
        last = parse_date(form.get("last_day"), "结束日期", EvaluationError)
        if last < first:
            raise EvaluationError("结束日期不能早于开始日期。")
        if (last - first).days + 1 > MAX_ROUND_DAYS:
            raise EvaluationError(f"一次评比最长 {MAX_ROUND_DAYS} 天。")
        return first, last
    raise EvaluationError("请选择评比周期（一周、一个月或自定日期）。")


def open_round(db: Session, user: User, form: dict) -> EvaluationRound:
    """Open a round from the form's fields (text values); the caller commits."""
    if user.has(Role.office):
        department_id = _optional_int(form.get("department_id"), "系部")
        if department_id is not None and db.get(Department, department_id) is None:
            raise EvaluationError("找不到这个系部。")
    else:
        department_id = user.department_id
    if not may_manage(user, department_id):
        raise EvaluationError("只能为本系部开展评比。")
    first, last = period_of(form.get("period") or "", form)
    grade = _optional_int(form.get("grade"), "年级")
    if grade is not None and not 2000 <= grade <= 2099:
        raise EvaluationError("年级应为入学年份，如 2025。")
    building_id = _optional_int(form.get("building_id"), "楼栋")
    if building_id is not None and db.get(Building, building_id) is None:
        raise EvaluationError("找不到这栋宿舍楼。")
    rule = form.get("rule") or "mean"
    if rule not in RULES:
        raise EvaluationError("计分方式无效。")
    days = sorted(set(_inspection_days(form.get("inspection_days") or "")))
    if rule == "inspection":
        if not days:
            raise EvaluationError("「仅专项检查日」需要填写检查日期。")
        if any(not first <= d <= last for d in days):
            raise EvaluationError("检查日期应在评比期间内。")
    deductions = {
        issue: _weight(form.get(f"deduct_{issue}"), label) for issue, label in ISSUES.items()
    }
    name = (form.get("name") or "").strip() or default_name(first, last, form.get("period"))
    if len(name) > MAX_NAME_CHARS:
        raise EvaluationError(f"评比名称最多 {MAX_NAME_CHARS} 字。")
    evaluation = EvaluationRound(
        name=name, department_id=department_id, period=form.get("period"), first_day=first,
        last_day=last, grade=grade, building_id=building_id, rule=rule,
        inspection_days=[d.isoformat() for d in days], deductions=deductions,
        opened_by_id=user.id, opened_at=datetime.now(UTC),
    )  # fmt: skip
    db.add(evaluation)
    db.flush()
    return evaluation


def default_name(first: date, last: date, period: str | None) -> str:
    if period == "month":
        return f"{first.year}年{first.month}月宿舍卫生评比"
    if period == "week":
        return f"{first.isoformat()} 一周宿舍卫生评比"
    return f"{first.isoformat()} 至 {last.isoformat()} 宿舍卫生评比"


def _optional_int(text: str | None, label: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise EvaluationError(f"{label}无效。")
    return int(text)


def _inspection_days(text: str) -> list[date]:
    parts = [
        p for p in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if p
    ]
    if len(parts) > MAX_INSPECTION_DAYS:
        raise EvaluationError(f"检查日期最多 {MAX_INSPECTION_DAYS} 个。")
    return [parse_date(p, "检查日期", EvaluationError) for p in parts]


def _weight(text: str | None, label: str) -> float:
    text = (text or "").strip()
    if not text:
        return 0.0
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise EvaluationError(f"「{label}」的扣分应为数字，如 0.5。") from None
    if not value.is_finite() or not 0 <= value <= Decimal(str(MAX_DEDUCTION)):
        raise EvaluationError(f"「{label}」的扣分应在 0 到 {MAX_DEDUCTION:g} 之间。")
    return float(_two(value))


def rounds_for(db: Session, user: User) -> list[EvaluationRound]:
    """The rounds a leader reads: their department's and the college's; the office and
    admin every round."""
    query = select(EvaluationRound).options(
        joinedload(EvaluationRound.department), joinedload(EvaluationRound.building)
    )
    if not scope.sees_everything(user):
        query = query.where(
            or_(
                EvaluationRound.department_id == user.department_id,
                EvaluationRound.department_id.is_(None),
            )
        )
    return list(
        db.scalars(query.order_by(EvaluationRound.first_day.desc(), EvaluationRound.id.desc()))
    )


def grades(db: Session, department_id: int | None) -> list[int]:
    query = select(SchoolClass.grade).where(scope.current_class()).distinct()
    if department_id is not None:
        query = query.where(SchoolClass.department_id == department_id)
    return sorted(db.scalars(query), reverse=True)


# --- 公示 ---------------------------------------------------------------------------------------


def active_publication(db: Session, evaluation: EvaluationRound) -> EvaluationPublication | None:
    return db.scalar(
        select(EvaluationPublication).where(
            EvaluationPublication.round_id == evaluation.id,
            EvaluationPublication.revoked_at.is_(None),
        )
    )


def public_rows(found: list[RoomResult]) -> list[dict]:
    """What a publication shows: room, building, class, stars, score, ranks. Nothing else is
    kept: no resident, no visitor, no note."""
    return [
        {
            "room": r.number,
            "building": r.building,
            "class": r.classes,
            "grade": r.grade,
            "stars": str(r.score.stars) if r.score else None,
            "deduction": str(r.score.deduction) if r.score else None,
            "score": str(r.score.score) if r.score else None,
            "level": r.score.level if r.score else None,
            "grade_rank": r.grade_rank,
            "building_rank": r.building_rank,
        }
        for r in found
    ]


def publish(db: Session, user: User, evaluation: EvaluationRound) -> EvaluationPublication:
    """Publish the round as it stands now; publishing again refreshes the same link."""
    rows = public_rows(results(db, evaluation))
    publication = active_publication(db, evaluation)
    if publication is None:
        publication = EvaluationPublication(
            round_id=evaluation.id, token=secrets.token_urlsafe(TOKEN_BYTES)
        )
        db.add(publication)
    publication.rows = rows
    publication.published_by_id = user.id
    publication.published_at = datetime.now(UTC)
    db.flush()
    return publication


def revoke(db: Session, user: User, evaluation: EvaluationRound) -> EvaluationPublication | None:
    """End the round's publication: its link answers 404 from now on."""
    publication = active_publication(db, evaluation)
    if publication is not None:
        publication.revoked_at = datetime.now(UTC)
        publication.revoked_by_id = user.id
        db.flush()
    return publication


def published(db: Session, token: str) -> EvaluationPublication | None:
    """The publication behind a link, or None when the link is unknown or revoked."""
    if not token or len(token) > 64:
        return None
    publication = db.scalar(
        select(EvaluationPublication)
        .options(
            joinedload(EvaluationPublication.evaluation_round).joinedload(
                EvaluationRound.department
            ),
            joinedload(EvaluationPublication.evaluation_round).joinedload(EvaluationRound.building),
        )
        .where(EvaluationPublication.token == token)
    )
    if publication is None or publication.revoked_at is not None:
        return None
    return publication


def scope_label(evaluation: EvaluationRound) -> str:
    parts = [evaluation.department.name if evaluation.department else "全院"]
    if evaluation.grade is not None:
        parts.append(f"{evaluation.grade}级")
    if evaluation.building is not None:
        parts.append(evaluation.building.name)
    return " · ".join(parts)


def deductions_label(evaluation: EvaluationRound) -> str:
    weights = [
        f"{ISSUES[i]} −{w:g}" for i, w in (evaluation.deductions or {}).items() if w and i in ISSUES
    ]
    return "、".join(weights) or "不扣分"


EXPORT_HEADERS = [
    "年级排名",
    "楼栋排名",
    "楼栋",
    "宿舍",
    "班级",
    "年级",
    "星级",
    "平均星",
    "扣分",
    "得分",
]


def export_rows(rows: list[dict]) -> list[list]:
    """Publication rows as the Excel sheet's rows (server/xlsx.py appends them)."""
    return [
        [
            r["grade_rank"] or "",
            r["building_rank"] or "",
            r["building"],
            r["room"],
            r["class"],
            r["grade"],
            f"{r['level']}星" if r["level"] else "未评",
            r["stars"] or "",
            r["deduction"] or "",
            r["score"] or "",
        ]  # fmt: skip
        for r in rows
    ]


# --- the five-star rate per semester ------------------------------------------------------------


@dataclass
class Rate:
    key: object
    label: str
    evaluations: int = 0
    five: int = 0

    @property
    def rate(self) -> Decimal:
        return Decimal(self.five) / self.evaluations if self.evaluations else Decimal(0)

    @property
    def percent(self) -> str:
        return f"{(self.rate * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"

    @property
    def below_target(self) -> bool:
        return self.evaluations > 0 and self.rate < FIVE_STAR_TARGET


@dataclass
class Rates:
    rooms: dict[int, Rate]
    classes: dict[int, Rate]
    grades: dict[int, Rate]
    departments: dict[int, Rate]
    rooms_of: dict[tuple[str, object], set[int]]  # ("class", id) … → room ids
    rounds: int

    def pulling_down(self, level: str, key: object) -> list[Rate]:
        """The rooms of a class, grade or department below the target, worst first."""
        rooms = [self.rooms[r] for r in self.rooms_of.get((level, key), set())]
        below = [r for r in rooms if r.below_target]
        return sorted(below, key=lambda r: (r.rate, -r.evaluations, r.label))[:PULLING_DOWN]


def five_star_rates(db: Session, first: date, last: date, department_id: int | None) -> Rates:
    """Evaluations of the rounds whose period starts from `first` to `last` (a semester), of
    rooms of `department_id` (None: every department): each scored room of a round is one
    evaluation, five stars when its level is 5."""
    query = select(EvaluationRound).where(
        EvaluationRound.first_day >= first, EvaluationRound.first_day <= last
    )
    if department_id is not None:
        query = query.where(
            or_(
                EvaluationRound.department_id == department_id,
                EvaluationRound.department_id.is_(None),
            )
        )
    rounds = list(db.scalars(query))
    rates = Rates({}, {}, {}, {}, defaultdict(set), len(rounds))
    names = dict(db.execute(select(Department.id, Department.name)).all())
    for evaluation in rounds:
        for r in results(db, evaluation):
            if r.score is None or (department_id is not None and r.department_id != department_id):
                continue
            five = r.score.level == 5
            for level, table, key, label in (
                ("room", rates.rooms, r.room_id, f"{r.room}（{r.class_name}）"),
                ("class", rates.classes, r.class_id, r.class_name),
                ("grade", rates.grades, r.grade, f"{r.grade}级"),
                ("department", rates.departments, r.department_id, names.get(r.department_id, "")),
            ):
                rate = table.setdefault(key, Rate(key, label))
                rate.evaluations += 1
                rate.five += five
                if level != "room":
                    rates.rooms_of[(level, key)].add(r.room_id)
    return rates


# --- a room's own history (the door form, 找宿舍) ------------------------------------------------


@dataclass(frozen=True)
class PastVisit:
    day: date
    stars: int | None
    issues: list[str]  # labels; 其他 for a typed issue (its text is not shown to others)


def room_history(
    db: Session, room_ids: list[int], limit: int = HISTORY_VISITS, *, days: int = 365
) -> dict[int, list[PastVisit]]:
    """The last visits of each room (newest first): day, stars and issues, whoever visited.
    Notes and concerns stay with the visit's readers (server/scope.py)."""
    from server.models import Entry

    found: dict[int, list[PastVisit]] = {room_id: [] for room_id in room_ids}
    if not room_ids:
        return found
    since = datetime.now(UTC) - timedelta(days=days)
    rows = db.execute(
        select(Entry.room_id, Entry.recorded_at, Entry.payload)
        .where(
            Entry.kind == DORM_VISIT,
            Entry.deleted.is_(False),
            Entry.room_id.in_(room_ids),
            Entry.recorded_at >= since,
        )
        .order_by(Entry.recorded_at.desc())
    )
    for room_id, at, payload in rows:
        if len(found[room_id]) >= limit:
            continue
        issues = [ISSUES.get(i, i) for i in payload.get("issues") or []]
        if payload.get("issue_other"):
            issues.append("其他")
        found[room_id].append(PastVisit(clock.day_of(at), payload.get("stars"), issues))
    return found
