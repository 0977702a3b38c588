"""A home for each role (issue 12): lists of cards, each a label, a count and the list it
counts, built by small functions so adding one is one line.

- counselor / class teacher: the day's page (server/routes/home.py) with COUNSELOR_CARDS;
- department leader: LEADER_CARDS for their department;
- student affairs office: one row per department (`office_rows`, DEPARTMENT_CARDS);
- admin: ADMIN_CARDS about the data.

Every list a card links to renders `data-count="N"` on its list container, computed by the
same function as the card (tests/test_homes.py follows every card and compares). A card
function takes (db, user, department_id, reverse) and answers a Card, or None when it does
not apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import accounts, attendance, clock, duty, scope, week
from server.models import (
    Department,
    Escalation,
    ImportRun,
    LeaveStatus,
    Role,
    Room,
    SchoolClass,
    StaffLeave,
    SwapRequest,
    SwapStatus,
    User,
    UserRole,
)


@dataclass
class Card:
    label: str
    count: int
    url: str
    note: str = ""  # a few words under the count
    alert: bool = False  # drawn as needing attention when count > 0


Reverse = Callable[..., str]  # request.app.route_reverse
CardFunction = Callable[[Session, User, "int | None", Reverse], "Card | None"]


def _url(reverse: Reverse, name: str, **query) -> str:
    from urllib.parse import urlencode

    shown = {k: v for k, v in query.items() if v is not None}
    return reverse(name) + (f"?{urlencode(shown)}" if shown else "")


# ---------------------------------------------------------------- what the cards count
# Each list page calls the same function as its card, so the two never disagree.


def open_escalations(db: Session, user: User, department_id: int | None = None):
    """Open escalations the user may read (scope.escalation_condition), of one department."""
    query = select(Escalation).where(scope.escalation_condition(user), Escalation.status == "open")
    if department_id is not None:
        query = query.where(Escalation.department_id == department_id)
    return query


def leave_waiting(db: Session, user: User) -> int:
    return (
        db.scalar(
            select(func.count(StaffLeave.id)).where(
                scope.department_condition(user, StaffLeave.department_id),
                StaffLeave.status == LeaveStatus.requested,
            )
        )
        or 0
    )


def swaps_waiting(user: User):
    """Swap requests the colleague accepted, waiting for a leader's approval."""
    return select(SwapRequest).where(
        SwapRequest.status == SwapStatus.accepted,
        scope.department_condition(user, SwapRequest.department_id),
    )


def staff_weeks(
    db: Session, user: User, monday: date, department_id: int | None = None
) -> list[tuple[User, list[week.Progress]]]:
    """Each active counselor and class teacher the user leads (one department's, when given),
    with their week against the quotas (server/week.py).

    Worked out once per transaction for everyone the user leads: a home asks for it from two
    cards, and the office's from two cards per department (issue 16)."""
    memo = db.info.get("staff_weeks")
    if memo is None or memo[0] is not db.get_transaction() or memo[1] != (user.id, monday):
        people = db.scalars(
            select(User)
            .join(UserRole)
            .where(
                UserRole.role.in_([Role.counselor, Role.class_teacher]),
                User.active.is_(True),
                scope.department_condition(user, User.department_id),
            )
            .distinct()
            .order_by(User.name)
        ).all()
        weeks = week.weeks_of(db, list(people), monday)
        rows = [(person, weeks[person.id]) for person in people]
        db.info["staff_weeks"] = memo = (db.get_transaction(), (user.id, monday), rows)
    rows = memo[2]
    if department_id is not None:
        rows = [row for row in rows if row[0].department_id == department_id]
    return rows[:STAFF_SHOWN]


STAFF_SHOWN = 500  # a department's page lists at most this many people


def behind(progress: list[week.Progress]) -> bool:
    """Some quota of the week not met yet."""
    return any(not row.met for row in progress)


MISSED_DAYS = 7  # missed rounds of the last week (as /duty/missed)


def missed_rounds(db: Session, department_id: int | None, today: date | None = None):
    today = today or clock.today()
    return duty.missed_rounds(db, department_id, today - timedelta(days=MISSED_DAYS - 1), today)


def attendance_warnings(db: Session, user: User, today: date | None = None):
    """(class, student history) of every student with 预警 in the classes the user works with."""
    classes = db.scalars(select(SchoolClass).where(scope.class_condition(user))).all()
    return attendance.warnings_in(db, list(classes), today or clock.today())


def rooms_without_labels(db: Session):
    """Rooms whose current label was never opened for printing (new, or revoked since)."""
    printed = Room.printed_label_version
    return select(Room).where(printed.is_(None) | (printed != Room.label_version))


def never_logged_in(db: Session) -> list[User]:
    """Active accounts given a one-time password that was never used to log in."""
    return list(
        db.scalars(
            select(User)
            .where(User.active.is_(True), User.must_change_password.is_(True))
            .order_by(User.username)
        )
    )


LISTED_IMPORTS = 50  # as /admin/import lists them (LISTED_RUNS)


def _count(db: Session, query) -> int:
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


# ---------------------------------------------------------------- the cards


def escalations_card(db, user, department_id, reverse) -> Card | None:
    if not user.has(Role.leader, Role.office):
        return None
    count = _count(db, open_escalations(db, user, department_id))
    url = _url(reverse, "escalations", state="open", department=department_id)
    return Card("关注上报（待处理）", count, url, alert=True)


def leave_card(db, user, department_id, reverse) -> Card:
    count = leave_waiting(db, user)
    return Card("请假待审批", count, _url(reverse, "department_leave", waiting=1), alert=True)


def swaps_card(db, user, department_id, reverse) -> Card:
    count = _count(db, swaps_waiting(user))
    return Card("换班待审批", count, reverse("swaps_waiting"), alert=True)


def behind_card(db, user, department_id, reverse) -> Card:
    rows = staff_weeks(db, user, clock.monday_of(clock.today()), department_id)
    count = sum(1 for _, progress in rows if behind(progress))
    url = _url(reverse, "department_week", department=department_id, behind=1)
    return Card("本周未完成工作量", count, url, note=f"共 {len(rows)} 人")


def staff_card(db, user, department_id, reverse) -> Card:
    rows = staff_weeks(db, user, clock.monday_of(clock.today()), department_id)
    done = sum(1 for _, progress in rows if not behind(progress))
    url = _url(reverse, "department_week", department=department_id)
    return Card("辅导员和班主任", len(rows), url, note=f"本周已完成 {done} / {len(rows)}")


def missed_card(db, user, department_id, reverse) -> Card:
    own = department_id if department_id is not None else user.department_id
    count = len(missed_rounds(db, own))
    url = _url(reverse, "duty_missed", department=department_id)
    return Card(f"漏巡（近 {MISSED_DAYS} 天）", count, url, alert=True)


def warnings_card(db, user, department_id, reverse) -> Card:
    count = len(attendance_warnings(db, user))
    return Card("考勤预警学生", count, reverse("attendance_warnings"), alert=True)


def imports_card(db, user, department_id, reverse) -> Card:
    last = db.scalar(select(ImportRun).order_by(ImportRun.created_at.desc()).limit(1))
    count = min(_count(db, select(ImportRun.id)), LISTED_IMPORTS)
    note = (
        f"最近：{clock.local_time(last.created_at)} {last.status.label}" if last else "还没有导入"
    )
    return Card("导入记录", count, reverse("admin_import"), note=note)


def no_password_card(db, user, department_id, reverse) -> Card:
    count = len(accounts.accounts_without_password(db))
    return Card("没有密码的账号", count, reverse("password_sheet_pick"), alert=True)


def never_logged_in_card(db, user, department_id, reverse) -> Card:
    count = len(never_logged_in(db))
    return Card("从未登录（一次性密码未用）", count, _url(reverse, "accounts_list", never=1))


def labels_card(db, user, department_id, reverse) -> Card:
    count = _count(db, rooms_without_labels(db))
    return Card("没有打印门牌的宿舍", count, reverse("rooms_without_labels"), alert=True)


def overdue_escalations_card(db, user, department_id, reverse) -> Card | None:
    if not user.has(Role.leader, Role.office):
        return None
    from server import escalations

    hours = ACK_HOURS[0]
    count = escalations.overdue_count(db, user, hours, department_id)
    url = _url(reverse, "escalations", state="overdue", department=department_id)
    return Card("关注上报（超时未确认）", count, url, note=f"超过 {hours} 小时", alert=True)


# XUEGONG_ESCALATION_ACK_HOURS of the running app: create_app sets it from its settings
# (a card function takes no settings)
ACK_HOURS = [2]


def to_review_card(db, user, department_id, reverse) -> Card | None:
    from server import discipline

    if not user.has(Role.leader):
        return None
    count = discipline.to_review_count(db, user)
    return Card("违纪处理（待审议）", count, _url(reverse, "discipline_list", list="to_review"),
                alert=True)  # fmt: skip


def to_approve_card(db, user, department_id, reverse) -> Card | None:
    from server import discipline

    if not user.has(Role.office):
        return None
    count = discipline.to_approve_count(db, user, department_id)
    url = _url(reverse, "discipline_list", list="to_approve", department=department_id)
    return Card("违纪处理（待审批）", count, url, alert=True)


def my_cases_card(db, user, department_id, reverse) -> Card | None:
    from server import discipline

    if not user.has(Role.counselor):
        return None
    count = discipline.my_open_count(db, user)
    return Card("我提出的违纪处理（未结）", count, _url(reverse, "discipline_list", list="my_open"))


def my_escalations_card(db, user, department_id, reverse) -> Card | None:
    from server import escalations

    count = escalations.open_reported_count(db, user)
    return Card("我上报的关注（未办结）", count, reverse("my_escalations"))


COUNSELOR_CARDS: list[CardFunction] = [
    # escalations I reported, and the like, are added here
    my_escalations_card,
    my_cases_card,
]
LEADER_CARDS: list[CardFunction] = [
    escalations_card,
    leave_card,
    swaps_card,
    behind_card,
    missed_card,
    warnings_card,
    overdue_escalations_card,
    to_review_card,
]
DEPARTMENT_CARDS: list[CardFunction] = [  # the office's row for each department
    staff_card,
    behind_card,
    escalations_card,
    missed_card,
    overdue_escalations_card,
    to_approve_card,
]
ADMIN_CARDS: list[CardFunction] = [
    imports_card,
    no_password_card,
    never_logged_in_card,
    labels_card,
]


def cards(
    functions: list[CardFunction], db: Session, user: User, reverse: Reverse,
    department_id: int | None = None,
) -> list[Card]:  # fmt: skip
    made = (f(db, user, department_id, reverse) for f in functions)
    return [card for card in made if card is not None]


@dataclass
class DepartmentRow:
    department: Department
    cards: list[Card]


def office_rows(db: Session, user: User, reverse: Reverse) -> list[DepartmentRow]:
    """One row per department for the student affairs office."""
    return [
        DepartmentRow(dept, cards(DEPARTMENT_CARDS, db, user, reverse, dept.id))
        for dept in db.scalars(select(Department).order_by(Department.name))
    ]


# ---------------------------------------------------------------- issue 13: the rules as written


def tasks_card(db, user, department_id, reverse) -> Card:
    """主管领导布置的工作 (§1.4): my parts of tasks not done yet (server/tasks.py)."""
    from server import tasks

    parts = tasks.open_for(db, user)
    late = tasks.overdue(parts)
    note = f"逾期 {late} 项" if late else ""
    return Card("领导布置的工作（待完成）", len(parts), reverse("tasks"), note=note, alert=True)


COUNSELOR_CARDS.append(tasks_card)
LEADER_CARDS.append(tasks_card)


def leave_duty_card(db, user, department_id, reverse) -> Card | None:
    """Shifts on a day of approved leave (§1.9 meets §2.4), with a substitute suggested."""
    own = department_id if department_id is not None else user.department_id
    if own is None:
        return None
    count = len(duty.upcoming_leave_clashes(db, own, clock.today()))
    url = _url(reverse, "duty_leave_clashes", department=department_id)
    return Card("请假与值班冲突", count, url, alert=True)


LEADER_CARDS.append(leave_duty_card)


def meetings_card(db, user, department_id, reverse) -> Card | None:
    """Weeks of the semester without a staff, cadre or class-committee meeting (§2.1–§2.3)."""
    from server import meetings

    own = department_id if department_id is not None else user.department_id
    if own is None:
        return None
    count = meetings.weeks_without(db, own, clock.today()).count
    url = _url(reverse, "department_meetings", department=department_id)
    return Card("缺少例会的周", count, url, note="工作例会、学生干部例会、班委会", alert=True)


LEADER_CARDS.append(meetings_card)
