"""A page per student and finding students (issue 12): search by name, 学号 and pinyin, the
profile, and the timeline of everything recorded about a student that the viewer may read.

Search covers `scope.student_condition` (在读 students of the viewer's classes). The page
opens through `scope.student_for`. The timeline reads entries through `scope.entry_condition`
(the viewer's own records; a leader their department's; the office and admin all), shows
sensitive content only where `scope.may_read_sensitive` allows, and takes attendance marks
from the class's checks as the class's attendance history does (`scope.class_for` rights).
A new kind whose `students(payload)` names the student appears without a change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from server import attendance, clock, escalations, scope, semesters
from server.dorm_visits import CONCERNS, DORM_VISIT
from server.kinds import KINDS
from server.models import (
    Bed,
    Entry,
    Escalation,
    Guardian,
    Room,
    SchoolClass,
    Student,
    User,
)

MAX_QUERY = 30  # characters of a search: a name is at most a few, a 学号 about 12
PAGE = 20  # search results a page
TIMELINE_PAGE = 30  # timeline items a page
MAX_ENTRIES = 2000  # entries read for one timeline: a student's years of records, bounded
CONTENT_HIDDEN = "谈话内容仅填写人、本系部负责人和学工部可见"
ESCALATION_STATES = {"open": "待处理", "withdrawn": "已撤回"}
_LETTERS = re.compile(r"^[a-z]+$")


def clean_query(q: str) -> str:
    """The search text as searched: trimmed, spaces dropped, at most MAX_QUERY characters."""
    return "".join((q or "").split())[:MAX_QUERY]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(q: str):
    """Name contains q; 学号 starts with q; pinyin initials or full pinyin start with q
    (lowercase letters: "zyq", "zhengyuqiang", "zhengyu" all find 郑宇强)."""
    like = _like(q)
    conditions = [
        Student.name.contains(like, autoescape=False, escape="\\"),
        Student.student_number.startswith(like, autoescape=False, escape="\\"),
    ]
    letters = q.lower()
    if _LETTERS.match(letters):
        conditions += [
            Student.pinyin_initials.startswith(letters),
            Student.pinyin_full.startswith(letters),
        ]
    return or_(*conditions)


@dataclass
class Found:
    students: list[Student]
    total: int
    page: int
    pages: int


def search(db: Session, user: User, q: str, page: int = 1) -> Found:
    """Students in the user's scope matching q, by name then 学号, PAGE at a time."""
    q = clean_query(q)
    if not q:
        return Found([], 0, 1, 1)
    where = [scope.student_condition(user), search_condition(q)]
    total = db.scalar(select(func.count(Student.id)).where(*where)) or 0
    pages = max(1, -(-total // PAGE))
    page = min(max(1, page), pages)
    rows = db.scalars(
        select(Student)
        .options(joinedload(Student.school_class))
        .where(*where)
        # an exact initials or name match first: "zyq" puts 郑宇强 before 郑宇强强
        .order_by(
            (Student.pinyin_initials == q.lower()).desc(),
            (Student.name == q).desc(),
            Student.pinyin_full,
            Student.student_number,
        )
        .offset((page - 1) * PAGE)
        .limit(PAGE)
    ).all()
    return Found(list(rows), total, page, pages)


# ---------------------------------------------------------------- the profile


@dataclass
class Profile:
    student: Student
    school_class: SchoolClass
    bed: Bed | None
    room: Room | None
    guardians: list[Guardian]
    warning: int  # absences within attendance's warning window; >= WARNING_ABSENCES is 预警


def profile(db: Session, student: Student) -> Profile:
    bed = db.scalar(select(Bed).where(Bed.student_id == student.id))
    room = db.get(Room, bed.room_id, options=[joinedload(Room.building)]) if bed else None
    guardians = db.scalars(
        select(Guardian).where(Guardian.student_id == student.id).order_by(Guardian.id)
    ).all()
    return Profile(
        student, db.get(SchoolClass, student.class_id), bed, room, list(guardians),
        recent_absences(db, student),
    )  # fmt: skip


def recent_absences(db: Session, student: Student, today: date | None = None) -> int:
    """Absent lessons within attendance's warning window (each lesson once)."""
    today = today or clock.today()
    since = today - timedelta(days=attendance.WARNING_DAYS - 1)
    lessons = set()
    for check in attendance.checks_of(db, student.class_id, since, today):
        if check.payload["marks"].get(str(student.id)) == "absent":
            lessons.add((check.payload["date"], check.payload["period"]))
    return len(lessons)


# ---------------------------------------------------------------- the timeline


@dataclass
class Item:
    """One line of a student's timeline."""

    at: datetime  # when it happened (a record's phone time), aware UTC
    label: str  # 谈心谈话, 宿舍走访, 考勤, 预警, 关注上报 …
    text: str
    author: str = ""
    hidden: bool = False  # content left out for this viewer
    url: str | None = None  # a route name and its parameters, see `link`
    link: dict = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


@dataclass
class Timeline:
    items: list[Item]
    total: int
    page: int
    pages: int


def _entries_about(db: Session, user: User, student: Student, room_id: int | None) -> list[Entry]:
    """Entries the user may read that are about the student: a kind's `students(payload)`
    names them, or a dorm visit of the room they sleep in. Attendance checks come from the
    class (`_attendance_items`)."""
    school_class = db.get(SchoolClass, student.class_id)
    near = [
        Entry.class_id == student.class_id,
        # group talks across classes, and kinds placed by department only
        Entry.class_id.is_(None) & (Entry.department_id == school_class.department_id),
    ]
    if room_id is not None:
        near.append((Entry.kind == DORM_VISIT.name) & (Entry.room_id == room_id))
    candidates = db.scalars(
        select(Entry)
        .options(joinedload(Entry.author), joinedload(Entry.room).joinedload(Room.building))
        .where(
            scope.entry_condition(user),
            Entry.deleted.is_(False),
            Entry.kind != attendance.KIND,
            or_(*near),
        )
        .order_by(Entry.recorded_at.desc())
        .limit(MAX_ENTRIES)
    )
    found = []
    for entry in candidates:
        kind = KINDS.get(entry.kind)
        if kind is None:
            continue
        of_room = entry.kind == DORM_VISIT.name and entry.room_id == room_id
        if of_room or student.id in kind.students(entry.payload):
            found.append(entry)
    return found


def _entry_item(user: User, entry: Entry) -> Item:
    kind = KINDS[entry.kind]
    payload, hidden = scope.shown_payload(user, entry)
    text = kind.summary(payload).strip(" ：") if not hidden or entry.kind != "talk" else ""
    if entry.kind == DORM_VISIT.name and entry.room is not None:
        text = f"{entry.room.title}：{text}" if text else entry.room.title
    flags = ["补录"] if entry.late else []
    concern = payload.get("concern")
    if isinstance(concern, dict) and concern.get("category"):
        flags.append(f"关注：{CONCERNS.get(concern['category'], concern['category'])}")
    return Item(
        at=entry.recorded_at, label=kind.label, text=text, author=entry.author.name,
        hidden=hidden, url="entry_history", link={"entry_id": entry.id}, flags=flags,
    )  # fmt: skip


def _escalation_items(db: Session, user: User, entries: list[Entry]) -> list[Item]:
    by_id = {e.id: e for e in entries}
    if not by_id:
        return []
    rows = db.scalars(
        select(Escalation).where(
            Escalation.entry_id.in_(list(by_id)),
            # the reporter follows their own (server/escalations.py), leaders and the office theirs
            scope.escalation_condition(user) | Escalation.entry_id.in_(
                [e.id for e in entries if e.author_id == user.id]
            ),
        )
    ).all()
    items = []
    for escalation in rows:
        entry = by_id[escalation.entry_id]
        readable = scope.may_read_sensitive(user, entry)
        category = CONCERNS.get(escalation.category, escalation.category)
        state = (
            ESCALATION_STATES[escalation.status]
            if escalation.status == "withdrawn"
            else escalations.STATES.get(escalation.state, escalation.state)
        )
        text = f"{category} · {state}"
        if readable and escalation.note:
            text += f"：{escalation.note}"
        items.append(
            Item(at=escalation.created_at, label="关注上报", text=text,
                 author=entry.author.name, hidden=not readable,
                 url="" if escalation.status == "withdrawn" else "escalation",
                 link={"escalation_id": escalation.id})
        )  # fmt: skip
    return items


def _attendance_items(db: Session, student: Student, today: date) -> list[Item]:
    """The student's marks (not simply present) this semester, and 预警 when absences within
    the warning window reach attendance.WARNING_ABSENCES."""
    since = semesters.term_of(db, today).first
    checks = attendance.checks_of(db, student.class_id, since, today + timedelta(days=1))
    key = str(student.id)
    items, lessons = [], {}
    for check in checks:
        mark = check.payload["marks"].get(key)
        if mark is None:
            continue
        lesson = (check.payload["date"], check.payload["period"])
        # a lesson checked by the class teacher and the counselor shows once, the worst mark
        if lesson in lessons and attendance._rank(lessons[lesson][0]) <= attendance._rank(mark):
            continue
        lessons[lesson] = (mark, check)
    window = (today - timedelta(days=attendance.WARNING_DAYS - 1)).isoformat()
    absences = sorted(
        (c for (on, _), (m, c) in lessons.items() if m == "absent" and on >= window),
        key=lambda c: c.recorded_at,
    )
    for (on, period), (mark, check) in lessons.items():
        items.append(
            Item(at=check.recorded_at, label="考勤",
                 text=f"{on} {attendance.PERIODS.get(period, period)}：{attendance.MARKS[mark]}",
                 author=check.author.name, url="attendance_history",
                 link={"class_id": student.class_id})
        )  # fmt: skip
    if len(absences) >= attendance.WARNING_ABSENCES:
        items.append(
            Item(at=absences[-1].recorded_at, label="预警",
                 text=f"{attendance.WARNING_DAYS} 天内缺勤 {len(absences)} 节",
                 url="attendance_history", link={"class_id": student.class_id},
                 flags=["考勤预警"])
        )  # fmt: skip
    return items


def timeline(
    db: Session, user: User, student: Student, room_id: int | None, page: int = 1,
    today: date | None = None,
) -> tuple[Timeline, list[Entry]]:  # fmt: skip
    """Everything about the student the user may read, newest first, TIMELINE_PAGE a page;
    also the entries shown (for `scope.note_sensitive_reads`)."""
    today = today or clock.today()
    entries = _entries_about(db, user, student, room_id)
    items = [_entry_item(user, e) for e in entries]
    items += _escalation_items(db, user, entries)
    items += _attendance_items(db, student, today)
    items.sort(key=lambda item: item.at or datetime.min.replace(tzinfo=UTC), reverse=True)
    total = len(items)
    pages = max(1, -(-total // TIMELINE_PAGE))
    page = min(max(1, page), pages)
    shown = items[(page - 1) * TIMELINE_PAGE : page * TIMELINE_PAGE]
    return Timeline(shown, total, page, pages), entries


# ---------------------------------------------------------------- offline: 准备巡查's students

MAX_PREPARED = 1500  # students carried in the offline list (a counselor has a few hundred)


def prepared(db: Session, user: User, room_ids: list[int]) -> list[dict]:
    """The students 准备巡查 caches, with their search keys: the 在读 students of the user's
    classes and the residents of the rooms prepared (duty buildings), each once, by name."""
    # the office and admin see every student: theirs are the residents of today's duty rooms
    mine = false() if scope.sees_everything(user) else scope.student_condition(user)
    rows = db.execute(
        select(Student, SchoolClass.name, Room, Bed.number)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(Bed, Bed.student_id == Student.id)
        .outerjoin(Room, Bed.room_id == Room.id)
        .options(joinedload(Room.building))
        .where(
            scope.enrolled(),
            or_(mine, Bed.room_id.in_(room_ids or [-1])),
        )
        .order_by(Student.pinyin_full, Student.student_number)
        .limit(MAX_PREPARED)
    ).all()
    guardians: dict[int, list[Guardian]] = {}
    ids = [s.id for s, *_ in rows]
    for chunk in range(0, len(ids), 500):
        for g in db.scalars(
            select(Guardian)
            .where(Guardian.student_id.in_(ids[chunk : chunk + 500]))
            .order_by(Guardian.id)
        ):
            guardians.setdefault(g.student_id, []).append(g)
    return [
        {
            "student": s, "class_name": class_name, "room": room, "bed": bed,
            "guardians": guardians.get(s.id, []),
        }
        for s, class_name, room, bed in rows
    ]  # fmt: skip
