"""Keeping the college's data current after the import (issue 11): who teaches which class,
the buildings and rooms with their door labels, a student's contact grade, guardians and bed.

Each change is checked here and raises `UpkeepError` with a Chinese reason; the routes
(server/routes/upkeep.py) only parse, call and render. Changes that matter for later
inspection keep their history: a contact grade's reason (`contact_grade_changes`) and a bed
move's date (`bed_moves`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import (
    Bed,
    BedMove,
    Building,
    ContactGrade,
    ContactGradeChange,
    Guardian,
    Role,
    Room,
    SchoolClass,
    Student,
    StudentStatus,
    User,
    UserRole,
)

GRADE_LABELS = {"special": "特殊", "key": "重点", "general": "一般"}
MAX_BEDS_PER_ROOM = 12
PHONE = re.compile(r"\+?[0-9][0-9\- ]{4,18}[0-9]")  # 11-digit mobiles, landlines with area codes
MAX_NAME_CHARS = 50


class UpkeepError(Exception):
    """A change that cannot be made; the message is shown (Chinese)."""


# --- who teaches which class (§1.10: no class teacher, then the counselor does the work) -------


def staff_with_role(db: Session, department_id: int, role: Role) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(UserRole)
            .where(User.department_id == department_id, UserRole.role == role, User.active)
            .order_by(User.name)
        )
    )


def assign_class(
    db: Session, school_class: SchoolClass, counselor_id: int | None, class_teacher_id: int | None
) -> None:
    """Give the class its counselor and class teacher (None: no class teacher, §1.10).

    Scope, 本周's targets and the due lists read the class's row, so the change takes effect
    at the next request."""
    if counselor_id is None:
        raise UpkeepError("请选择辅导员。")
    counselors = {u.id for u in staff_with_role(db, school_class.department_id, Role.counselor)}
    if counselor_id not in counselors:
        raise UpkeepError("所选辅导员不是本系部在岗的辅导员。")
    if class_teacher_id is not None:
        teachers = staff_with_role(db, school_class.department_id, Role.class_teacher)
        if class_teacher_id not in {u.id for u in teachers}:
            raise UpkeepError("所选班主任不是本系部在岗的班主任。")
    school_class.counselor_id = counselor_id
    school_class.class_teacher_id = class_teacher_id


# --- buildings, rooms and their door labels ------------------------------------------------------


def add_building(db: Session, name: str) -> Building:
    name = _name(name, "楼栋名称")
    if db.scalar(select(Building.id).where(Building.name == name)) is not None:
        raise UpkeepError(f"已有名为“{name}”的楼栋。")
    building = Building(name=name)
    db.add(building)
    return building


def rename_building(db: Session, building: Building, name: str) -> None:
    name = _name(name, "楼栋名称")
    other = db.scalar(select(Building.id).where(Building.name == name, Building.id != building.id))
    if other is not None:
        raise UpkeepError(f"已有名为“{name}”的楼栋。")
    building.name = name


def add_room(db: Session, building: Building, number: str, beds: int) -> Room:
    number = _room_number(number)
    if db.scalar(select(Room.id).where(Room.building_id == building.id, Room.number == number)):
        raise UpkeepError(f"{building.name} 已有 {number} 房间。")
    room = Room(building_id=building.id, number=number)
    db.add(room)
    db.flush()
    set_beds(db, room, beds)
    return room


def change_room(db: Session, room: Room, number: str, beds: int) -> None:
    """Rename a room and change its number of beds (a bed with a student is never removed)."""
    number = _room_number(number)
    taken = db.scalar(
        select(Room.id).where(
            Room.building_id == room.building_id, Room.number == number, Room.id != room.id
        )
    )
    if taken is not None:
        raise UpkeepError(f"这栋楼已有 {number} 房间。")
    if number != room.number:
        room.number = number
        revoke_label(room)  # the old label prints the old number: it must not open the room
    set_beds(db, room, beds)


def set_beds(db: Session, room: Room, count: int) -> None:
    if not 1 <= count <= MAX_BEDS_PER_ROOM:
        raise UpkeepError(f"床位数应为 1 到 {MAX_BEDS_PER_ROOM}。")
    beds = list(db.scalars(select(Bed).where(Bed.room_id == room.id).order_by(Bed.number)))
    numbers = {b.number for b in beds}
    for number in range(1, count + 1):
        if number not in numbers:
            db.add(Bed(room_id=room.id, number=number))
    for bed in beds:
        if bed.number > count:
            if bed.student_id is not None:
                raise UpkeepError(f"{bed.number} 号床还住着学生，请先调整床位再减少床位数。")
            db.delete(bed)
    db.flush()


def revoke_label(room: Room) -> None:
    """作废门牌: labels printed before open the "label no longer valid" page (doors.py)."""
    room.label_version = (room.label_version or 1) + 1


# --- a student: contact grade, guardians, bed ----------------------------------------------------


def set_contact_grade(
    db: Session, actor: User, student: Student, grade: str, reason: str
) -> ContactGradeChange:
    if grade not in GRADE_LABELS:
        raise UpkeepError("请选择联系等级（特殊、重点、一般）。")
    reason = reason.strip()
    if not reason:
        raise UpkeepError("请写明调整联系等级的原因。")
    if len(reason) > 200:
        raise UpkeepError("原因最多 200 字。")
    if student.contact_grade == ContactGrade(grade):
        raise UpkeepError(f"联系等级已经是“{GRADE_LABELS[grade]}”。")
    change = ContactGradeChange(
        student_id=student.id, old_grade=student.contact_grade, new_grade=ContactGrade(grade),
        reason=reason, changed_by_id=actor.id, changed_at=datetime.now(UTC),
    )  # fmt: skip
    db.add(change)
    student.contact_grade = ContactGrade(grade)
    return change


def set_status(student: Student, status: str) -> None:
    """学籍状态: a student who is not 在读 leaves rosters, door forms, due lists and pickers
    (scope.enrolled); every record about them stays readable."""
    try:
        student.status = StudentStatus(status)
    except ValueError:
        raise UpkeepError("请选择学籍状态（在读、休学、退学、毕业）。") from None


def move_class(db: Session, student: Student, class_id: int | None) -> None:
    """转班: the student joins another current class; their records stay where they were made."""
    target = db.get(SchoolClass, class_id) if class_id else None
    if target is None or target.archived:
        raise UpkeepError("请选择一个在用的班级。")
    if target.id == student.class_id:
        raise UpkeepError("学生已经在这个班级。")
    student.class_id = target.id


def keep_guardian(
    db: Session,
    student: Student,
    guardian: Guardian | None,
    *,
    name: str,
    relation: str,
    phone: str,
) -> Guardian:
    """Add a guardian to the student (guardian None) or change one of theirs."""
    name, relation = _name(name, "家长姓名"), _name(relation, "关系", limit=20)
    phone = phone.strip()
    if phone and not PHONE.fullmatch(phone):
        raise UpkeepError(f"电话号码“{phone}”不正确。")
    if guardian is None:
        guardian = Guardian(student_id=student.id)
        db.add(guardian)
    elif guardian.student_id != student.id:
        raise UpkeepError("这位家长不属于这名学生。")
    guardian.name, guardian.relation, guardian.phone = name, relation, phone or None
    return guardian


def move_bed(db: Session, actor: User, student: Student, room: Room, bed_number: int,
             on: date) -> BedMove:  # fmt: skip
    """Move a student to a free bed; the old bed is freed and the move kept with its date."""
    bed = db.scalar(select(Bed).where(Bed.room_id == room.id, Bed.number == bed_number))
    if bed is None:
        raise UpkeepError(f"{room.number} 房间没有 {bed_number} 号床。")
    if bed.student_id == student.id:
        raise UpkeepError("学生已经住在这个床位。")
    if bed.student_id is not None:
        raise UpkeepError(f"{room.number} 房间 {bed_number} 号床已有学生。")
    old = db.scalar(select(Bed).where(Bed.student_id == student.id))
    move = BedMove(
        student_id=student.id, from_bed_id=old.id if old else None, to_bed_id=bed.id,
        moved_on=on, moved_by_id=actor.id,
    )  # fmt: skip
    if old is not None:
        old.student_id = None
        db.flush()  # one student, one bed: free the old bed before taking the new one
    bed.student_id = student.id
    db.add(move)
    db.flush()
    return move


def residents_count(db: Session, room_id: int) -> int:
    return db.scalar(
        select(func.count())
        .select_from(Bed)
        .where(Bed.room_id == room_id, Bed.student_id.is_not(None))
    )


def _name(text: str, label: str, *, limit: int = MAX_NAME_CHARS) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        raise UpkeepError(f"请填写{label}。")
    if len(text) > limit:
        raise UpkeepError(f"{label}最多 {limit} 字。")
    return text


def _room_number(text: str) -> str:
    number = str(text or "").strip()
    if not re.fullmatch(r"[0-9A-Za-z\-]{1,10}", number):
        raise UpkeepError("房间号只能是 1 到 10 位数字或字母，例如 512 或 A301。")
    return number
