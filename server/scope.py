"""Who may see and write about which students and rooms (one place for every scope rule).

- counselor / class teacher: the students of their own classes, the rooms those students
  sleep in, and every room of a building they are on duty in today;
- department leader: everything of their department (its classes' students, the rooms
  they sleep in, the buildings the department has duty in);
- student affairs office and admin: everything.

A person with several roles gets the union. Handlers never check scope by hand: they call
`room_for(...)` / `student_ids_in_scope(...)` and get a 403 or a list.
"""

from __future__ import annotations

from datetime import date

from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session, joinedload

from server import clock
from server.models import (
    Bed,
    Department,
    DutyShift,
    Entry,
    Escalation,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
)


def sees_everything(user: User) -> bool:
    return user.has(Role.office, Role.admin)


def class_condition(user: User) -> ColumnElement[bool]:
    """SQL condition on SchoolClass: the classes this user works with."""
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
    return select(Student.id).where(Student.class_id.in_(class_ids_in_scope(user)))


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
        Room.building_id.in_(duty_building_ids(user, on or clock.today())),
    )


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
    if sees_everything(user):
        return true()
    if user.has(Role.leader) and user.department_id is not None:
        return Escalation.department_id == user.department_id
    return false()


def recording_class_condition(user: User) -> ColumnElement[bool]:
    """SQL condition on SchoolClass: the classes this user checks in person (查课, §1.5).

    Only the class teacher and the counselor who covers the class (§1.10) record attendance
    checks; leaders, the office and admin read a class's history but record none.
    """
    return or_(SchoolClass.class_teacher_id == user.id, SchoolClass.counselor_id == user.id)


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
    condition = recording_class_condition(user) if to_record else class_condition(user)
    if not db.scalar(select(SchoolClass.id).where(SchoolClass.id == class_id, condition)):
        who = "只有班主任和辅导员可以为本班记录查课" if to_record else "这不是您所带或所管的班级"
        raise PermissionDeniedException(f"{school_class.name} 不在您的工作范围内：{who}。")
    return school_class


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
