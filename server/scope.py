"""Who may see and write about which students and rooms (one place for every scope rule).

- counselor / class teacher: the students of their own classes, the rooms those students
  sleep in, and every room of a building they are on duty in today;
- department leader: everything of their department (its classes' students, the rooms
  they sleep in, the buildings the department has duty in);
- student affairs office and admin: everything.

A person with several roles gets the union. Handlers never check scope by hand: they load
what a URL or a form names through a `*_for(...)` helper here (`room_for`, `class_for`,
`entry_for`, `shift_for`, `swap_for`, `leave_for`, `staff_for`) and get the thing, a 404 or
a 403; lists filter with a `*_condition(...)`.

Sensitive notes are narrower than scope (least privilege, issue 10): the content of a talk,
a visit's talk notes and concern, and an escalation's note are read only by the entry's
author, the leader of its department and the student affairs office — not by admin, who
keeps accounts, data and labels. Everyone else who may see the entry sees that it took place
(kind, date, students) without its content: `may_read_sensitive` decides, `redact` hides.
Reads of mental-health records by leaders and the office are written to `sensitive_reads`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Protocol

from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy import ColumnElement, bindparam, false, or_, select, true
from sqlalchemy.orm import Session, joinedload

from server import clock
from server.models import (
    Bed,
    Conflict,
    Department,
    DutyShift,
    Entry,
    Escalation,
    Guardian,
    Role,
    Room,
    SchoolClass,
    SensitiveRead,
    StaffLeave,
    Student,
    StudentStatus,
    SwapRequest,
    User,
)


def sees_everything(user: User) -> bool:
    return user.has(Role.office, Role.admin)


def enrolled() -> ColumnElement[bool]:
    """SQL condition on Student: 在读. The one place that decides who belongs in day-to-day
    lists (rosters, due lists, door forms, pickers, new records); a student who is 休学 /
    退学 / 毕业 keeps every record, read through entries, never through these lists."""
    return Student.status == StudentStatus.enrolled


def occupied_room_ids():
    """Rooms where at least one 在读 student sleeps."""
    return select(Bed.room_id).join(Student, Bed.student_id == Student.id).where(enrolled())


def current_class() -> ColumnElement[bool]:
    """SQL condition on SchoolClass: not archived (its cohort has not graduated)."""
    return SchoolClass.archived.is_(False)


def class_condition(user: User, *, archived: bool = False) -> ColumnElement[bool]:
    """SQL condition on SchoolClass: the classes this user works with. Archived classes
    (a graduated cohort) only with `archived=True`: reading their history, never day-to-day."""
    if not archived:
        return current_class() & class_condition(user, archived=True)
    if sees_everything(user):
        return true()
    conditions = []
    if user.has(Role.counselor):
        conditions.append(SchoolClass.counselor_id == user.id)
    if user.has(Role.class_teacher):
        conditions.append(SchoolClass.class_teacher_id == user.id)
    if user.has(Role.leader) and user.department_id is not None:
        conditions.append(SchoolClass.department_id == user.department_id)
    return or_(*conditions) if conditions else false()


def class_ids_in_scope(user: User):
    return select(SchoolClass.id).where(class_condition(user))


def student_ids_in_scope(user: User):
    return select(Student.id).where(Student.class_id.in_(class_ids_in_scope(user)), enrolled())


def counseled_student_ids(user: User):
    """The 在读 students of the current classes this user is the counselor of: whom they
    propose discipline handling for (§1.8; a class teacher does not)."""
    return select(Student.id).where(
        Student.class_id.in_(
            select(SchoolClass.id).where(current_class(), SchoolClass.counselor_id == user.id)
        ),
        enrolled(),
    )


def duty_building_ids(user: User, on: date):
    """Buildings this user is on duty in on a day; for leaders, their department's duty buildings."""
    conditions = [DutyShift.staff_id == user.id]
    if user.has(Role.leader) and user.department_id is not None:
        conditions.append(DutyShift.department_id == user.department_id)
    query = select(DutyShift.building_id).where(or_(*conditions))
    if not user.has(Role.leader):
        query = query.where(DutyShift.date == on)
    return query


def room_condition(user: User, on: date | None = None) -> ColumnElement[bool]:
    """SQL condition on Room: the rooms this user may open and record visits in."""
    if sees_everything(user):
        return true()
    where_students_sleep = select(Bed.room_id).where(Bed.student_id.in_(student_ids_in_scope(user)))
    return or_(
        Room.id.in_(where_students_sleep),
        Room.building_id.in_(duty_building_ids(user, clock.today() if on is None else on)),
    )


def writable_room_ids(db: Session, user: User, on: date | None = None) -> frozenset[int] | None:
    """The rooms of `room_condition` as data, in one query: membership is then a set lookup
    (a phone's batch names dozens of rooms). None: every room (the office and admin).

    The query depends on the user's roles only; it is built once for each set of roles, with
    the user's id, department and the day as parameters (building it took longer than
    running it)."""
    if sees_everything(user):
        return None
    key = (frozenset(user.roles), user.department_id is None)
    query = _WRITABLE_ROOMS.get(key)
    if query is None:
        query = select(Room.id).where(room_condition(_Bound(user), bindparam("on")))
        _WRITABLE_ROOMS[key] = query
    values = {"on": clock.today() if on is None else on, "uid": user.id}
    if user.department_id is not None:
        values["dept"] = user.department_id
    # on the session's connection: the ORM's handling of a plain select took longer than
    # running it (nothing a request writes before its checks changes who sleeps where)
    return frozenset(db.connection().scalars(query, values))


_WRITABLE_ROOMS: dict[tuple, object] = {}


class _Bound:
    """A user as the scope conditions see one, with the id and department as bound
    parameters: a condition built from it holds for every user with the same roles."""

    def __init__(self, user: User):
        self.roles = user.roles
        self.id = bindparam("uid")
        self.department_id = None if user.department_id is None else bindparam("dept")

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


def writable_class_ids(db: Session, user: User) -> frozenset[int] | None:
    """The classes of `class_condition` (current ones) as data, in one query; None: every class."""
    if sees_everything(user):
        return None
    return frozenset(db.scalars(select(SchoolClass.id).where(class_condition(user))))


def writable_student_ids(db: Session, user: User) -> frozenset[int] | None:
    """The 在读 students of `student_condition` as data, in one query; None: every student."""
    if sees_everything(user):
        return None
    return frozenset(db.scalars(select(Student.id).where(student_condition(user))))


def room_for(db: Session, user: User, room_id: int) -> Room:
    """Load a room the user may work in: 404 when it does not exist, 403 when out of scope."""
    room = db.get(Room, room_id, options=[joinedload(Room.building)])
    if room is None:
        raise NotFoundException("找不到这个宿舍。")
    if not db.scalar(select(Room.id).where(Room.id == room_id, room_condition(user))):
        raise PermissionDeniedException(
            f"{room.title} 不在您的工作范围内：这里没有您所带班级的学生，您今天也不在这栋楼值班。"
        )
    return room


def entry_condition(user: User) -> ColumnElement[bool]:
    """Which records a user may read: their own; a leader their department's; office all."""
    if sees_everything(user):
        return true()
    conditions = [Entry.author_id == user.id]
    if user.has(Role.leader) and user.department_id is not None:
        conditions.append(Entry.department_id == user.department_id)
    return or_(*conditions)


def escalation_condition(user: User) -> ColumnElement[bool]:
    """Escalations are notes about a student's trouble: the office reads every one, a leader
    their department's; admin none (least privilege, see `may_read_sensitive`)."""
    if user.has(Role.office):
        return true()
    if user.has(Role.leader) and user.department_id is not None:
        return Escalation.department_id == user.department_id
    return false()


def recording_class_condition(user: User) -> ColumnElement[bool]:
    """SQL condition on SchoolClass: the classes this user checks in person (查课, §1.5).

    Only the class teacher and the counselor who covers the class (§1.10) record attendance
    checks; leaders, the office and admin read a class's history but record none.
    """
    return current_class() & or_(
        SchoolClass.class_teacher_id == user.id, SchoolClass.counselor_id == user.id
    )


def department_for(db: Session, user: User, wanted: int | None, *, refusal: str) -> Department:
    """The department a leader's page works on: their own (`refusal` names what they may not
    do elsewhere: 403); the office and admins pick one, the first by default."""
    if not sees_everything(user):
        if user.department_id is None or (wanted and wanted != user.department_id):
            raise PermissionDeniedException(refusal)
        wanted = user.department_id
    dept = db.get(Department, wanted) if wanted else db.scalar(select(Department).order_by("id"))
    if dept is None:
        raise NotFoundException("找不到这个系部。")
    return dept


def class_for(db: Session, user: User, class_id: int, *, to_record: bool = False) -> SchoolClass:
    """Load a class the user may see (or record checks for): 404 when missing, 403 when not theirs."""
    school_class = db.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFoundException("找不到这个班级。")
    # reading a class's history reaches archived classes too; recording does not
    condition = (
        recording_class_condition(user) if to_record else class_condition(user, archived=True)
    )
    if not db.scalar(select(SchoolClass.id).where(SchoolClass.id == class_id, condition)):
        who = "只有班主任和辅导员可以为本班记录查课" if to_record else "这不是您所带或所管的班级"
        raise PermissionDeniedException(f"{school_class.name} 不在您的工作范围内：{who}。")
    return school_class


def student_condition(user: User) -> ColumnElement[bool]:
    """SQL condition on Student: the students this user finds in search (/students): 在读
    students of the classes they work with (`class_condition`)."""
    return enrolled() & Student.class_id.in_(class_ids_in_scope(user))


def student_for(db: Session, user: User, student_id: int) -> Student:
    """A student whose page (/students/<id>) the user may open: one of the classes they work
    with, archived classes included (history stays readable, as with `class_for`), any 学籍状态;
    404 when missing, 403 when out of scope, naming nobody."""
    student = db.get(Student, student_id)
    if student is None:
        raise NotFoundException("找不到这名学生。")
    in_scope = select(SchoolClass.id).where(
        SchoolClass.id == student.class_id, class_condition(user, archived=True)
    )
    if db.scalar(in_scope) is None:
        raise PermissionDeniedException("这名学生不在您的工作范围内。")
    return student


# --- keeping the data current (server/upkeep.py) -------------------------------------------------


def class_to_assign(db: Session, user: User, class_id: int) -> SchoolClass:
    """A class whose counselor and class teacher this user may change: an admin any class, a
    department leader the classes of their department."""
    school_class = db.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFoundException("找不到这个班级。")
    if user.has(Role.admin):
        return school_class
    if user.has(Role.leader) and school_class.department_id == user.department_id:
        return school_class
    raise PermissionDeniedException(
        "只有管理员和本系部学生工作负责人可以调整班级的辅导员和班主任。"
    )


STUDENT_UPKEEP = {
    # what may be changed about a student → who, besides an admin, may change it
    "contact_grade": ("counselor",),  # §2.5.4: the counselor grades how often parents hear
    "guardians": ("counselor", "class_teacher"),
}


def conflict_for(db: Session, user: User, conflict_id: int) -> Conflict:
    """An open conflict of this user's (a version of theirs that lost a merge): anyone else's,
    or one already resolved, is answered as not found, naming nothing."""
    conflict = db.get(Conflict, conflict_id)
    if conflict is None or conflict.author_id != user.id or conflict.resolved:
        raise NotFoundException("找不到这条待处理的冲突。")
    return conflict


def guardian_to_keep(db: Session, user: User, guardian_id: int) -> Guardian:
    """A guardian whose details this user may change: those of a student whose guardians they
    keep (STUDENT_UPKEEP["guardians"]); 404 when missing."""
    guardian = db.get(Guardian, guardian_id)
    if guardian is None:
        raise NotFoundException("找不到这位家长。")
    student_to_keep(db, user, guardian.student_id, "guardians")
    return guardian


def student_to_keep(db: Session, user: User, student_id: int, what: str) -> Student:
    """A student whose data (`what`, a key of STUDENT_UPKEEP) this user may change: 404 when
    missing; 403 when out of scope, without naming the student."""
    student = db.get(Student, student_id)
    if student is None:
        raise NotFoundException("找不到这名学生。")
    if user.has(Role.admin):
        return student
    school_class = db.get(SchoolClass, student.class_id)
    allowed = {
        "counselor": school_class.counselor_id == user.id,
        "class_teacher": school_class.class_teacher_id == user.id,
    }
    if not any(allowed[who] for who in STUDENT_UPKEEP[what]):
        raise PermissionDeniedException("这名学生不在您的工作范围内，或您不能修改这项信息。")
    return student


def department_condition(user: User, column) -> ColumnElement[bool]:
    """SQL condition on a row's department column: the office and admin every department,
    anyone else their own (for lists of a department's staff, leave, swaps)."""
    if sees_everything(user):
        return true()
    return column == user.department_id if user.department_id is not None else false()


# --- loading one thing by id: 404 when missing, 403 when not the user's -----------------------


def entry_for(db: Session, user: User, entry_id: uuid.UUID, *, to_edit: bool = False) -> Entry:
    """An entry the user may read (or, `to_edit`, change: only its author, §1.4)."""
    entry = db.get(Entry, entry_id, options=[joinedload(Entry.author)])
    if entry is None or (to_edit and entry.deleted):
        raise NotFoundException("找不到这条记录。")
    if to_edit:
        if entry.author_id != user.id:
            # leaders read records (work log, history) but never change them (§1.4)
            raise PermissionDeniedException("只有记录的填写人可以修改它。")
    elif not db.scalar(select(Entry.id).where(Entry.id == entry_id, entry_condition(user))):
        raise PermissionDeniedException("您没有查看这条记录的权限。")
    return entry


def staff_for(db: Session, user: User, staff_id: int | None) -> User:
    """The person whose work log the user opens: themselves by default; a leader anyone of
    their department; the office and admin anyone."""
    if staff_id is None or staff_id == user.id:
        return user
    staff = db.get(User, staff_id)
    if staff is None:
        raise NotFoundException("找不到这位老师。")
    if sees_everything(user):
        return staff
    if user.has(Role.leader):
        if user.department_id is not None and staff.department_id == user.department_id:
            return staff
        raise PermissionDeniedException("只能查看本系部老师的工作记录。")
    raise PermissionDeniedException("只能查看自己的工作记录。")


def shift_for(db: Session, user: User, shift_id: int) -> DutyShift:
    """A duty shift of the user's own (only the person on a shift asks to swap it)."""
    shift = db.get(DutyShift, shift_id, options=[joinedload(DutyShift.building)])
    if shift is None:
        raise NotFoundException("找不到这个值班。")
    if shift.staff_id != user.id:
        raise PermissionDeniedException("只能为自己的值班申请换班。")
    return shift


def swap_for(db: Session, user: User, swap_id: int, *, to: str) -> SwapRequest:
    """A swap request the user may act on: `to="answer"` the invited colleague,
    `to="decide"` a leader of its department (the office and admin any)."""
    swap = db.get(SwapRequest, swap_id)
    if swap is None:
        raise NotFoundException("找不到这个换班申请。")
    if to == "answer" and swap.colleague_id != user.id:
        raise PermissionDeniedException("只有被邀请换班的同事可以回复这个申请。")
    if to == "decide" and not (
        sees_everything(user)
        or (user.has(Role.leader) and swap.department_id == user.department_id)
    ):
        raise PermissionDeniedException("只能审批本系部的换班申请。")
    return swap


def leave_for(db: Session, user: User, leave_id: int) -> StaffLeave:
    """A leave request the user may decide: a leader of its department (the office and admin
    any). That nobody decides their own is a rule of server/leave.py."""
    leave = db.get(StaffLeave, leave_id)
    if leave is None:
        raise NotFoundException("找不到这条请假申请。")
    if not (
        sees_everything(user)
        or (user.has(Role.leader) and leave.department_id == user.department_id)
    ):
        raise PermissionDeniedException("这不是本系部的请假申请。")
    return leave


# --- discipline cases (违纪处理, §1.8; server/discipline.py) ---------------------------------

DISCIPLINE = "discipline"  # the kind's name (server/records/discipline.py)
CASE_READERS = "违纪处理仅提出的辅导员、本系部学生工作负责人和学工部可见"


def discipline_condition(user: User) -> ColumnElement[bool]:
    """SQL condition on Entry: the discipline cases a user may read — the counselor who
    proposed them, a leader their department's, the office every one. Admin none: a case
    names a student's offence and sanction (DESIGN.md: discipline cases, admin no)."""
    conditions = []
    if user.has(Role.office):
        conditions.append(true())
    if user.has(Role.leader) and user.department_id is not None:
        conditions.append(Entry.department_id == user.department_id)
    if user.has(Role.counselor):
        conditions.append(Entry.author_id == user.id)
    if not conditions:
        return false()
    return (Entry.kind == DISCIPLINE) & Entry.deleted.is_(False) & or_(*conditions)


def may_see_discipline(user: User) -> bool:
    return user.has(Role.counselor, Role.leader, Role.office)


def discipline_case_for(db: Session, user: User, entry_id: uuid.UUID, *, to: str = "read") -> Entry:
    """A discipline case the user may read (`to="read"`) or act on: `to="submit"` its
    counselor, `to="review"` a leader of its department, `to="approve"` the office. 404 when
    there is no such case, 403 otherwise, naming nothing of it. Whether the case's state
    allows the action is server/discipline.py's rule."""
    entry = db.get(Entry, entry_id, options=[joinedload(Entry.author)])
    if entry is None or entry.kind != DISCIPLINE or entry.deleted:
        raise NotFoundException("找不到这个违纪处理。")
    if not db.scalar(select(Entry.id).where(Entry.id == entry_id, discipline_condition(user))):
        raise PermissionDeniedException(f"{CASE_READERS}。")
    allowed = {
        "read": True,
        "submit": entry.author_id == user.id,
        "review": user.has(Role.leader) and entry.department_id == user.department_id,
        "approve": user.has(Role.office),
    }[to]
    if not allowed:
        who = {"submit": "提出的辅导员", "review": "本系部学生工作负责人", "approve": "学工部"}[to]
        raise PermissionDeniedException(f"这一步只能由{who}办理。")
    return entry


# --- sensitive notes (least privilege) --------------------------------------------------------

# Payload fields that are a record's content, by kind name; every other field (kind, date,
# students, room, class, stars …) shows that the record exists. A talk's category is content
# too: "心理" about a named student is itself a mental-health note.
SENSITIVE_FIELDS: dict[str, frozenset[str]] = {
    "talk": frozenset({"category", "summary", "measures", "needs_referral"}),
    "dorm_visit": frozenset({"talk_notes", "concern"}),
    # a case's offence and sanction: its counselor, the department leader and the office
    # read them; admin sees that a case exists (work log), not what it says
    "discipline": frozenset({"date", "place", "facts", "rule", "evidence", "handling"}),
}
MENTAL = "mental"  # talk category and concern category of mental-health records


class Authored(Protocol):
    author_id: int
    department_id: int | None


def may_read_sensitive(user: User, entry: Authored) -> bool:
    """The one rule for sensitive content: its author, the leader of the entry's department
    and the student affairs office. Not admin, not other counselors or class teachers."""
    if entry.author_id == user.id or user.has(Role.office):
        return True
    return (
        user.has(Role.leader)
        and user.department_id is not None
        and entry.department_id == user.department_id
    )


def redact(payload: dict, kind: str) -> dict:
    """The payload without the kind's sensitive fields."""
    hidden = SENSITIVE_FIELDS.get(kind, frozenset())
    return {key: value for key, value in payload.items() if key not in hidden}


def shown_payload(user: User, entry: Entry, payload: dict | None = None) -> tuple[dict, bool]:
    """The entry's payload (or one of its revisions') as the user may read it, and whether
    anything was hidden."""
    payload = entry.payload if payload is None else payload
    hidden = SENSITIVE_FIELDS.get(entry.kind, frozenset()) & payload.keys()
    if not hidden or may_read_sensitive(user, entry):
        return payload, False
    return redact(payload, entry.kind), True


def is_mental(kind: str, payload: dict) -> bool:
    """A talk of category 心理, or a visit (or any record) with a mental-health concern."""
    if kind == "talk":
        return payload.get("category") == MENTAL
    concern = payload.get("concern")
    return isinstance(concern, dict) and concern.get("category") == MENTAL


def note_sensitive_reads(
    db: Session, user: User, entries: Iterable[Entry], page: str, *, earlier: Iterable[dict] = ()
) -> int:
    """Write down that a leader or the office read these entries' mental-health content on
    `page` (an author reading their own is not written). `earlier`: payloads of older
    revisions shown too (the history page), so a talk changed away from 心理 is still audited.
    The caller commits; returns the number of rows added."""
    earlier = list(earlier)
    if not user.has(Role.leader, Role.office):
        return 0
    now, added = datetime.now(UTC), 0
    for entry in {e.id: e for e in entries}.values():
        if (
            entry.author_id != user.id
            and any(is_mental(entry.kind, p) for p in [entry.payload, *earlier])
            and may_read_sensitive(user, entry)
        ):
            db.add(SensitiveRead(reader_id=user.id, entry_id=entry.id, page=page, read_at=now))
            added += 1
    return added


# --- dorm evaluation rounds (server/evaluations.py) ---------------------------------------------


def evaluation_for(db: Session, user: User, round_id: int, *, to_manage: bool = False):
    """An evaluation round the user may read — a leader their department's and the college's,
    the office and admin all — or, `to_manage`, publish and revoke: a leader their
    department's, the office any (admin keeps data, not rounds)."""
    from server.models import EvaluationRound

    evaluation = db.get(
        EvaluationRound,
        round_id,
        options=[joinedload(EvaluationRound.department), joinedload(EvaluationRound.building)],
    )
    if evaluation is None:
        raise NotFoundException("找不到这次评比。")
    own = user.has(Role.leader) and user.department_id is not None
    if to_manage:
        if not (user.has(Role.office) or (own and evaluation.department_id == user.department_id)):
            raise PermissionDeniedException("只有本系部学生工作负责人和学工部可以公示这次评比。")
    elif not (
        sees_everything(user) or (own and evaluation.department_id in (None, user.department_id))
    ):
        raise PermissionDeniedException("这不是本系部的评比。")
    return evaluation


def escalation_for(db: Session, user: User, escalation_id: int, *, to_handle: bool = False):
    """An escalation the user may read: the office any, a leader their department's, the
    reporter (its record's author) their own — only to read its state and the notes meant
    for them; `to_handle` (确认, 跟进, 办结) only the office and the leader. 404 / 403."""
    escalation = db.get(Escalation, escalation_id)
    if escalation is None or escalation.status == "withdrawn":
        raise NotFoundException("找不到这条关注上报。")
    handles = bool(
        db.scalar(
            select(Escalation.id).where(
                Escalation.id == escalation_id, escalation_condition(user)
            )
        )
    )
    if handles:
        return escalation
    if not to_handle and escalation.entry.author_id == user.id:
        return escalation
    raise PermissionDeniedException(
        "只有学生处和本系部负责人可以处理关注上报。"
        if to_handle
        else "这条关注上报不是您上报的，只有学生处和本系部负责人可以查看。"
    )
