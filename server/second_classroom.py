"""第二课堂 (the second classroom, guideline §2.10): activities, their approval before they
happen, their completion record after, and the rule of two high-level lectures per grade.

An activity is a table row with its steps, not an entry: approval needs a connection, like
staff leave. `proposed` → `approved` or `returned` (with the reason) by a counselor of the
activity's classes or a leader of its department, never the proposer; then `held` (with the
participants and a short summary) or `cancelled` (with the reason). Every step is a row of
`activity_steps` (who, when, note). A returned activity stays returned: its proposer
proposes again (the form is filled from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server import scope, semesters
from server.models import Activity, ActivityStep, Role, SchoolClass, User

CATEGORIES = {
    "lecture": "讲座报告",
    "competition": "竞赛",
    "skills": "技能大赛",
    "certificate": "考证",
    "entrepreneurship": "创新创业",
    "sports": "体育",
    "arts": "文艺",
    "practice": "社会实践",
    "volunteering": "志愿服务",
}
STATUSES = {
    "proposed": "待审批",
    "approved": "已批准",
    "returned": "已退回",
    "held": "已举办",
    "cancelled": "已取消",
}
STEP_LABELS = {
    "proposed": "申报",
    "approved": "批准",
    "returned": "退回",
    "held": "举办完成",
    "cancelled": "取消",
}
LECTURES_PER_GRADE = 2  # §2.10.2: 每学期每个年级要组织两次以上高水平的讲座或报告
LAST_WEEKS_DAYS = 28  # the lecture rule shows on the due list in the semester's last 4 weeks
MAX_DAYS_AHEAD = 200  # a proposal for a day further away is a typing mistake
MAX_TEXT = 100
MAX_NOTE = 2000
MAX_PEOPLE = 100_000
PROPOSERS = (Role.counselor, Role.class_teacher, Role.leader)


class ActivityError(Exception):
    """A proposal or step that cannot be taken; the message is shown (Chinese)."""


# --- proposing, deciding, completing ------------------------------------------------------


def proposable_classes(db: Session, user: User) -> list[SchoolClass]:
    """The classes a proposer may pick: the current classes of their department (a class
    teacher or the League's staff organises for a grade, not only for their own class)."""
    if not user.has(*PROPOSERS) or user.department_id is None:
        return []
    return list(
        db.scalars(
            select(SchoolClass)
            .where(SchoolClass.department_id == user.department_id, scope.current_class())
            .order_by(SchoolClass.grade.desc(), SchoolClass.name)
        )
    )


def propose(
    db: Session,
    user: User,
    *,
    category: str,
    title: str,
    high_level: bool,
    organiser: str,
    day: date,
    place: str,
    grades: list[int],
    class_ids: list[int],
    expected: str,
    safety: str,
    today: date,
) -> Activity:
    if not user.has(*PROPOSERS) or user.department_id is None:
        raise PermissionDeniedException("只有系部的辅导员、班主任和学生工作负责人可以申报第二课堂活动。")
    if category not in CATEGORIES:
        raise ActivityError("请选择活动类别。")
    title, organiser, place = _text(title, "活动名称"), _text(organiser, "主办"), _text(place, "地点")
    if day < today:
        raise ActivityError("活动日期已过：第二课堂活动须在举办之前申报审批。")
    if (day - today).days > MAX_DAYS_AHEAD:
        raise ActivityError("活动日期离今天太远，请检查。")
    classes = {c.id: c for c in proposable_classes(db, user)}
    unknown = [i for i in class_ids if i not in classes]
    if unknown:
        raise ActivityError("所选班级里有不属于本系部的班级。")
    chosen = set(class_ids) | {c.id for c in classes.values() if c.grade in set(grades)}
    if not chosen:
        raise ActivityError("请选择参加的年级或班级。")
    people = _count(expected, "预计参加人数")
    safety = safety.strip()
    if not safety:
        raise ActivityError("请填写安全措施。")
    if len(safety) > MAX_NOTE:
        raise ActivityError(f"安全措施太长（最多 {MAX_NOTE} 字）。")
    activity = Activity(
        department_id=user.department_id, category=category, title=title,
        high_level=bool(high_level) and category == "lecture", organiser=organiser, day=day,
        place=place, grades=sorted({classes[i].grade for i in chosen}, reverse=True),
        class_ids=sorted(chosen), expected=people, safety=safety, proposer_id=user.id,
        status="proposed", summary="",
    )  # fmt: skip
    db.add(activity)
    db.flush()
    _step(db, activity, user, "proposed")
    return activity


def approvers(db: Session, activity: Activity) -> set[int]:
    """The counselors of the activity's classes (a leader of its department decides too)."""
    return set(
        db.scalars(select(SchoolClass.counselor_id).where(SchoolClass.id.in_(activity.class_ids)))
    )


def may_decide(db: Session, user: User, activity: Activity) -> bool:
    if user.id == activity.proposer_id:
        return False
    leader = user.has(Role.leader) and user.department_id == activity.department_id
    return leader or (user.has(Role.counselor) and user.id in approvers(db, activity))


def decide(
    db: Session, activity: Activity, user: User, decision: str, note: str, today: date
) -> None:
    """审批 (§2.10.1): approve, or return with the reason; only before the activity's day."""
    if not may_decide(db, user, activity):
        if user.id == activity.proposer_id:
            raise PermissionDeniedException("不能审批自己申报的活动。")
        raise PermissionDeniedException("只有活动所涉班级的辅导员或本系部负责人可以审批。")
    if activity.status != "proposed":
        raise ActivityError(f"这项活动已是“{STATUSES[activity.status]}”，不能再审批。")
    if decision not in ("approve", "return"):
        raise ActivityError("请选择批准或退回。")
    if activity.day < today:
        raise ActivityError("活动日期已过：审批须在活动举办之前。")
    note = note.strip()
    if decision == "return" and not note:
        raise ActivityError("退回须写明理由。")
    if len(note) > 500:
        raise ActivityError("意见最多 500 字。")
    activity.status = "approved" if decision == "approve" else "returned"
    _step(db, activity, user, activity.status, note)


def may_complete(db: Session, user: User, activity: Activity) -> bool:
    return user.id == activity.proposer_id or may_decide(db, user, activity)


def complete(
    db: Session,
    activity: Activity,
    user: User,
    outcome: str,
    participants: str,
    summary: str,
    today: date,
) -> None:
    """The completion record: held (participants, a short summary) or cancelled (why)."""
    if not may_complete(db, user, activity):
        raise PermissionDeniedException("只有申报人和审批人可以记录活动结果。")
    summary = summary.strip()
    if len(summary) > MAX_NOTE:
        raise ActivityError(f"总结太长（最多 {MAX_NOTE} 字）。")
    if outcome == "held":
        if activity.status != "approved":
            raise ActivityError(
                f"这项活动是“{STATUSES[activity.status]}”：只有审批通过的活动才能记录为已举办。"
            )
        if activity.day > today:
            raise ActivityError("活动还没有到举办日期。")
        activity.participants = _count(participants, "实际参加人数")
        if not summary:
            raise ActivityError("请填写活动简要总结。")
    elif outcome == "cancelled":
        if activity.status not in ("proposed", "approved"):
            raise ActivityError(f"这项活动已是“{STATUSES[activity.status]}”。")
        if not summary:
            raise ActivityError("请写明取消的原因。")
    else:
        raise ActivityError("请选择已举办或已取消。")
    activity.status, activity.summary = outcome, summary
    _step(db, activity, user, outcome)


def _step(db: Session, activity: Activity, user: User, step: str, note: str = "") -> None:
    db.add(
        ActivityStep(
            activity_id=activity.id, step=step, by_id=user.id, at=datetime.now(UTC), note=note
        )
    )


def _text(value: str, label: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ActivityError(f"请填写{label}。")
    if len(value) > MAX_TEXT:
        raise ActivityError(f"{label}太长（最多 {MAX_TEXT} 字）。")
    return value


def _count(value: str, label: str) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_PEOPLE:
        raise ActivityError(f"{label}应为 1 到 {MAX_PEOPLE} 之间的整数。")
    return int(text)


# --- who sees which activity ---------------------------------------------------------------


def sees(db: Session, user: User, activity: Activity) -> bool:
    """The proposer, the counselors and class teachers of its classes, the department's
    leaders, the office and admin."""
    if scope.sees_everything(user) or user.id == activity.proposer_id:
        return True
    if user.has(Role.leader) and user.department_id == activity.department_id:
        return True
    return bool(
        db.scalar(
            select(SchoolClass.id)
            .where(SchoolClass.id.in_(activity.class_ids), scope.class_condition(user))
            .limit(1)
        )
    )


def activity_for(db: Session, user: User, activity_id: int) -> Activity:
    """Load an activity the user may see: 404 when missing, 403 when not theirs."""
    activity = db.get(
        Activity, activity_id, options=[joinedload(Activity.steps).joinedload(ActivityStep.by)]
    )
    if activity is None:
        raise NotFoundException("找不到这项活动。")
    if not sees(db, user, activity):
        raise PermissionDeniedException("这项活动与您所带的班级无关。")
    return activity


def visible(db: Session, user: User, first: date, last: date) -> list[Activity]:
    """The activities of a period the user sees, latest first."""
    query = (
        select(Activity)
        .options(joinedload(Activity.proposer), joinedload(Activity.department))
        .where(Activity.day >= first, Activity.day <= last)
        .order_by(Activity.day.desc(), Activity.id.desc())
    )
    if not scope.sees_everything(user):
        query = query.where(Activity.department_id == user.department_id)
    return [a for a in db.scalars(query) if sees(db, user, a)]


def waiting_for(db: Session, user: User) -> list[Activity]:
    """Proposals this user may decide, soonest first (their day has not passed)."""
    if user.department_id is None:
        return []
    rows = db.scalars(
        select(Activity)
        .where(Activity.department_id == user.department_id, Activity.status == "proposed")
        .order_by(Activity.day)
    )
    return [a for a in rows if may_decide(db, user, a)]


# --- §2.10.2: two high-level lectures per grade per semester -------------------------------


@dataclass
class Tally:
    """A grade or a class against the lecture rule this semester."""

    label: str
    grade: int
    held: int  # high-level lectures held
    planned: int  # approved, not yet held
    class_teacher: str = ""

    @property
    def missing(self) -> int:
        return max(0, LECTURES_PER_GRADE - self.held)


def lecture_tallies(
    db: Session, department_id: int, first: date, last: date
) -> tuple[list[Tally], list[Tally]]:
    """Per grade and per class of a department: high-level lectures held (and approved) in a
    period. A lecture counts once for a grade when it was for any class of that grade."""
    classes = list(
        db.scalars(
            select(SchoolClass)
            .options(joinedload(SchoolClass.class_teacher))
            .where(SchoolClass.department_id == department_id, scope.current_class())
            .order_by(SchoolClass.grade.desc(), SchoolClass.name)
        )
    )
    lectures = db.scalars(
        select(Activity).where(
            Activity.department_id == department_id,
            Activity.category == "lecture",
            Activity.high_level.is_(True),
            Activity.status.in_(("approved", "held")),
            Activity.day >= first,
            Activity.day <= last,
        )
    ).all()
    grade_of = {c.id: c.grade for c in classes}
    by_grade: dict[int, Tally] = {}
    by_class: list[Tally] = []
    for c in classes:
        by_grade.setdefault(c.grade, Tally(f"{c.grade}级", c.grade, 0, 0))
        teacher = c.class_teacher.name if c.class_teacher else "（辅导员兼任）"
        by_class.append(Tally(c.name, c.grade, 0, 0, teacher))
    class_rows = {t.label: t for t in by_class}
    names = {c.id: c.name for c in classes}
    for lecture in lectures:
        field = "held" if lecture.status == "held" else "planned"
        for grade in {grade_of[i] for i in lecture.class_ids if i in grade_of}:
            setattr(by_grade[grade], field, getattr(by_grade[grade], field) + 1)
        for class_id in lecture.class_ids:
            if class_id in names:
                row = class_rows[names[class_id]]
                setattr(row, field, getattr(row, field) + 1)
    return list(by_grade.values()), by_class


def in_last_weeks(term: semesters.Term, today: date) -> bool:
    return term.last - timedelta(days=LAST_WEEKS_DAYS - 1) <= today <= term.last


def lectures_due(db: Session, user: User, today: date) -> list[Tally]:
    """On the due list in the semester's last 4 weeks: the user's grades (as counselor) and
    classes (as class teacher, or counselor of a class without one) short of two held
    high-level lectures."""
    term = semesters.term_of(db, today)
    if not in_last_weeks(term, today) or user.department_id is None:
        return []
    mine = db.scalars(
        select(SchoolClass).where(
            scope.current_class(),
            (SchoolClass.class_teacher_id == user.id) | (SchoolClass.counselor_id == user.id),
        )
    ).all()
    if not mine:
        return []
    due: list[Tally] = []
    for department_id in {c.department_id for c in mine}:
        grades, classes = lecture_tallies(db, department_id, term.first, term.last)
        counselor_grades = {
            c.grade for c in mine if c.counselor_id == user.id and c.department_id == department_id
        }
        led = {
            c.name for c in mine
            if c.department_id == department_id and (
                c.class_teacher_id == user.id
                or (c.counselor_id == user.id and c.class_teacher_id is None)
            )
        }  # fmt: skip
        due += [g for g in grades if g.grade in counselor_grades and g.missing]
        due += [c for c in classes if c.label in led and c.missing]
    return due


def class_names(db: Session, activity: Activity) -> list[str]:
    return list(
        db.scalars(
            select(SchoolClass.name)
            .where(SchoolClass.id.in_(activity.class_ids))
            .order_by(SchoolClass.grade.desc(), SchoolClass.name)
        )
    )
