"""Keeping the data current: classes' counselors and class teachers, buildings and rooms with
their door labels, and a student's contact grade, guardians and bed (server/upkeep.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from server import clock, scope, upkeep
from server.auth import requires_admin, role_guard
from server.models import (
    STUDENT_STATUS_LABELS,
    Bed,
    BedMove,
    Building,
    ContactGradeChange,
    Department,
    Guardian,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
)
from server.params import Id

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
requires_leader_or_admin = role_guard(Role.leader, Role.admin)


# --- classes: counselor and class teacher ---------------------------------------------------------


@get("/admin/classes", name="class_assignments", guards=[requires_leader_or_admin],
     sync_to_thread=True)  # fmt: skip
def class_assignments(
    request: Request[User, dict, object],
    db: Session,
    department: int | None = None,
    saved: str = "",
) -> Template:
    return _classes_page(db, request.user, department, saved=bool(saved))


@post("/admin/classes/{class_id:int}/assign", name="assign_class",
      guards=[requires_leader_or_admin], sync_to_thread=True)  # fmt: skip
def assign_class(
    request: Request[User, dict, object], db: Session, class_id: Id, data: Form
) -> Template | Redirect:
    school_class = scope.class_to_assign(db, request.user, class_id)
    try:
        upkeep.assign_class(
            db, school_class, _id(data.get("counselor_id")), _id(data.get("class_teacher_id"))
        )
    except upkeep.UpkeepError as exc:
        db.rollback()
        return _classes_page(db, request.user, school_class.department_id, error=str(exc),
                             status=422)  # fmt: skip
    db.commit()
    url = request.app.route_reverse("class_assignments")
    return Redirect(f"{url}?department={school_class.department_id}&saved=1", status_code=303)


def _classes_page(
    db: Session, user: User, department: int | None, *, error: str = "", saved: bool = False,
    status: int = 200,
) -> Template:  # fmt: skip
    dept = scope.department_for(db, user, department, refusal="只能调整本系部的班级。")
    classes = db.scalars(
        select(SchoolClass)
        .options(joinedload(SchoolClass.counselor), joinedload(SchoolClass.class_teacher))
        .where(SchoolClass.department_id == dept.id)
        .order_by(SchoolClass.grade.desc(), SchoolClass.name)
    ).all()
    return Template(
        "upkeep_classes.html",
        context={
            "department": dept,
            "departments": db.scalars(select(Department).order_by(Department.id)).all()
            if user.has(Role.admin)
            else [dept],
            "classes": classes,
            "counselors": upkeep.staff_with_role(db, dept.id, Role.counselor),
            "teachers": upkeep.staff_with_role(db, dept.id, Role.class_teacher),
            "error": error,
            "saved": saved,
        },
        status_code=status,
    )


# --- buildings and rooms ------------------------------------------------------------------------------


@get("/admin/buildings", name="buildings", guards=[requires_admin], sync_to_thread=True)
def buildings(db: Session) -> Template:
    return _buildings_page(db)


@post("/admin/buildings/add", name="add_building", guards=[requires_admin], sync_to_thread=True)
def add_building(request: Request, db: Session, data: Form) -> Template | Redirect:
    try:
        building = upkeep.add_building(db, str(data.get("name") or ""))
    except upkeep.UpkeepError as exc:
        db.rollback()
        return _buildings_page(db, error=str(exc), status=422)
    db.commit()
    return Redirect(request.app.route_reverse("building", building_id=building.id), status_code=303)


@get("/admin/buildings/{building_id:int}", name="building", guards=[requires_admin],
     sync_to_thread=True)  # fmt: skip
def building(db: Session, building_id: Id, saved: str = "") -> Template:
    return _building_page(db, _building(db, building_id), saved=saved)


@post("/admin/buildings/{building_id:int}/rename", name="rename_building",
      guards=[requires_admin], sync_to_thread=True)  # fmt: skip
def rename_building(
    request: Request, db: Session, building_id: Id, data: Form
) -> Template | Redirect:
    found = _building(db, building_id)
    return _room_change(
        request, db, found, lambda: upkeep.rename_building(db, found, str(data.get("name") or ""))
    )


@post("/admin/buildings/{building_id:int}/rooms/add", name="add_room", guards=[requires_admin],
      sync_to_thread=True)  # fmt: skip
def add_room(request: Request, db: Session, building_id: Id, data: Form) -> Template | Redirect:
    found = _building(db, building_id)
    return _room_change(request, db, found, lambda: upkeep.add_room(
        db, found, str(data.get("number") or ""), _count(data.get("beds"))))  # fmt: skip


@post("/admin/rooms/{room_id:int}/save", name="change_room", guards=[requires_admin],
      sync_to_thread=True)  # fmt: skip
def change_room(request: Request, db: Session, room_id: Id, data: Form) -> Template | Redirect:
    room = _room(db, room_id)
    return _room_change(request, db, room.building, lambda: upkeep.change_room(
        db, room, str(data.get("number") or ""), _count(data.get("beds"))), saved="room")  # fmt: skip


@post("/admin/rooms/{room_id:int}/revoke-label", name="revoke_label", guards=[requires_admin],
      sync_to_thread=True)  # fmt: skip
def revoke_label(request: Request, db: Session, room_id: Id) -> Template | Redirect:
    room = _room(db, room_id)
    return _room_change(request, db, room.building, lambda: upkeep.revoke_label(room),
                        saved="label")  # fmt: skip


def _room_change(request: Request, db: Session, found: Building, change, saved: str = "1"):
    try:
        change()
    except upkeep.UpkeepError as exc:
        db.rollback()
        return _building_page(db, found, error=str(exc), status=422)
    db.commit()
    url = request.app.route_reverse("building", building_id=found.id)
    return Redirect(f"{url}?saved={saved}", status_code=303)


def _buildings_page(db: Session, *, error: str = "", status: int = 200) -> Template:
    rows = db.execute(
        select(Building, func.count(Room.id))
        .join(Room, isouter=True)
        .group_by(Building.id)
        .order_by(Building.name)
    ).all()
    return Template("upkeep_buildings.html", context={"buildings": rows, "error": error},
                    status_code=status)  # fmt: skip


def _building_page(db: Session, found: Building, *, error: str = "", saved: str = "",
                   status: int = 200) -> Template:  # fmt: skip
    db.refresh(found)
    rooms = db.scalars(select(Room).where(Room.building_id == found.id).order_by(Room.number)).all()
    beds = dict(
        db.execute(
            select(Bed.room_id, func.count(Bed.id))
            .where(Bed.room_id.in_([r.id for r in rooms]))
            .group_by(Bed.room_id)
        ).all()
    )
    return Template(
        "upkeep_building.html",
        context={
            "building": found,
            "rooms": [(r, beds.get(r.id, 0), upkeep.residents_count(db, r.id)) for r in rooms],
            "error": error,
            "saved": saved,
            "max_beds": upkeep.MAX_BEDS_PER_ROOM,
        },
        status_code=status,
    )


def _building(db: Session, building_id: int) -> Building:
    found = db.get(Building, building_id)
    if found is None:
        raise NotFoundException("找不到这栋宿舍楼。")
    return found


def _room(db: Session, room_id: int) -> Room:
    room = db.get(Room, room_id, options=[joinedload(Room.building)])
    if room is None:
        raise NotFoundException("找不到这个宿舍。")
    return room


# --- a student: contact grade, guardians, bed ----------------------------------------------------


@get("/students/{student_id:int}/data", name="student_data", sync_to_thread=True)
def student_data(
    request: Request[User, dict, object], db: Session, student_id: Id, saved: str = ""
) -> Template:
    student = scope.student_to_keep(db, request.user, student_id, "guardians")
    return _student_page(db, request.user, student, saved=bool(saved))


@post("/students/{student_id:int}/contact-grade", name="set_contact_grade", sync_to_thread=True)
def set_contact_grade(
    request: Request[User, dict, object], db: Session, student_id: Id, data: Form
) -> Template | Redirect:
    student = scope.student_to_keep(db, request.user, student_id, "contact_grade")
    return _student_change(request, db, student, lambda: upkeep.set_contact_grade(
        db, request.user, student, str(data.get("grade") or ""), str(data.get("reason") or "")))  # fmt: skip


@post("/students/{student_id:int}/guardians/add", name="add_guardian", sync_to_thread=True)
def add_guardian(
    request: Request[User, dict, object], db: Session, student_id: Id, data: Form
) -> Template | Redirect:
    student = scope.student_to_keep(db, request.user, student_id, "guardians")
    return _student_change(request, db, student, lambda: _keep_guardian(db, student, None, data))


@post("/guardians/{guardian_id:int}/save", name="save_guardian", sync_to_thread=True)
def save_guardian(
    request: Request[User, dict, object], db: Session, guardian_id: Id, data: Form
) -> Template | Redirect:
    guardian = scope.guardian_to_keep(db, request.user, guardian_id)
    student = db.get(Student, guardian.student_id)
    return _student_change(request, db, student,
                           lambda: _keep_guardian(db, student, guardian, data))  # fmt: skip


@post("/guardians/{guardian_id:int}/remove", name="remove_guardian", sync_to_thread=True)
def remove_guardian(
    request: Request[User, dict, object], db: Session, guardian_id: Id
) -> Template | Redirect:
    guardian = scope.guardian_to_keep(db, request.user, guardian_id)
    student = db.get(Student, guardian.student_id)
    return _student_change(request, db, student, lambda: db.delete(guardian))


@post("/students/{student_id:int}/status", name="set_student_status", guards=[requires_admin],
      sync_to_thread=True)  # fmt: skip
def set_student_status(
    request: Request[User, dict, object], db: Session, student_id: int, data: Form
) -> Template | Redirect:
    student = scope.student_to_keep(db, request.user, student_id, "guardians")
    return _student_change(request, db, student,
                           lambda: upkeep.set_status(student, str(data.get("status") or "")))  # fmt: skip


@post("/students/{student_id:int}/class", name="move_class", guards=[requires_admin],
      sync_to_thread=True)  # fmt: skip
def move_class(
    request: Request[User, dict, object], db: Session, student_id: int, data: Form
) -> Template | Redirect:
    student = scope.student_to_keep(db, request.user, student_id, "guardians")
    return _student_change(request, db, student,
                           lambda: upkeep.move_class(db, student, _id(data.get("class_id"))))  # fmt: skip


@post("/students/{student_id:int}/bed", name="move_bed", guards=[requires_admin],
      sync_to_thread=True)  # fmt: skip
def move_bed(
    request: Request[User, dict, object], db: Session, student_id: Id, data: Form
) -> Template | Redirect:
    student = scope.student_to_keep(db, request.user, student_id, "guardians")

    def move() -> None:
        room = db.get(Room, _id(data.get("room_id")) or 0)
        if room is None:
            raise upkeep.UpkeepError("请选择宿舍。")
        try:
            on = date.fromisoformat(str(data.get("moved_on") or ""))
        except ValueError:
            raise upkeep.UpkeepError("请填写调整日期。") from None
        upkeep.move_bed(db, request.user, student, room, _count(data.get("bed")), on)

    return _student_change(request, db, student, move)


def _keep_guardian(db: Session, student: Student, guardian: Guardian | None, data: dict) -> None:
    upkeep.keep_guardian(
        db, student, guardian, name=str(data.get("name") or ""),
        relation=str(data.get("relation") or ""), phone=str(data.get("phone") or ""),
    )  # fmt: skip


def _student_change(request: Request, db: Session, student: Student, change):
    try:
        change()
    except upkeep.UpkeepError as exc:
        db.rollback()
        return _student_page(db, request.user, student, error=str(exc), status=422)
    db.commit()
    url = request.app.route_reverse("student_data", student_id=student.id)
    return Redirect(f"{url}?saved=1", status_code=303)


def _student_page(db: Session, user: User, student: Student, *, error: str = "",
                  saved: bool = False, status: int = 200) -> Template:  # fmt: skip
    db.refresh(student)
    bed = db.scalar(select(Bed).where(Bed.student_id == student.id))
    room = db.get(Room, bed.room_id, options=[joinedload(Room.building)]) if bed else None
    school_class = db.get(SchoolClass, student.class_id)
    return Template(
        "upkeep_student.html",
        context={
            "student": student,
            "school_class": school_class,
            "bed": bed,
            "room": room,
            "guardians": db.scalars(
                select(Guardian).where(Guardian.student_id == student.id).order_by(Guardian.id)
            ).all(),
            "grade_changes": db.scalars(
                select(ContactGradeChange)
                .options(joinedload(ContactGradeChange.changed_by))
                .where(ContactGradeChange.student_id == student.id)
                .order_by(ContactGradeChange.id.desc())
            ).all(),
            "bed_moves": db.scalars(
                select(BedMove).where(BedMove.student_id == student.id).order_by(BedMove.id.desc())
            ).all(),
            "grades": upkeep.GRADE_LABELS,
            "may_grade": user.has(Role.admin) or school_class.counselor_id == user.id,
            "may_move_bed": user.has(Role.admin),
            "statuses": STUDENT_STATUS_LABELS,
            "classes": db.scalars(
                select(SchoolClass)
                .where(SchoolClass.archived.is_(False))
                .order_by(SchoolClass.name)
            ).all()
            if user.has(Role.admin)
            else [],
            "today": clock.today(),
            "error": error,
            "saved": saved,
        },
        status_code=status,
    )


def _id(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdecimal() and text.isascii() and len(text) < 10 else None


def _count(value: object) -> int:
    number = _id(value)
    return number if number is not None else 0


ROUTES = [
    class_assignments,
    assign_class,
    buildings,
    add_building,
    building,
    rename_building,
    add_room,
    change_room,
    revoke_label,
    student_data,
    set_contact_grade,
    add_guardian,
    save_guardian,
    remove_guardian,
    set_student_status,
    move_class,
    move_bed,
]
