"""A second department for permission tests: the small demo college has one (信息工程系).

`other_department(sessionmaker)` commits 外系 with its own leader, counselor and class teacher
(`leader_x`, `counselor_x`, `teacher_x`, password demo1234), one class of six students
sleeping in one room of a building of its own, a course, and a duty shift of `counselor_x`
today; on exit it deletes all of it again and whatever those people wrote, so the shared
test database is as the other modules expect it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, or_, select

from server.clock import today
from server.models import (
    Bed,
    Building,
    ClassCourse,
    Conflict,
    Course,
    CourseTeacher,
    Department,
    Device,
    DeviceMutation,
    DisciplineStep,
    DutyShift,
    Entry,
    EntryRevision,
    Escalation,
    LoginFailure,
    Photo,
    Role,
    Room,
    SchoolClass,
    SensitiveRead,
    Slot,
    StaffLeave,
    Student,
    SwapRequest,
    User,
    UserRole,
)
from tests.conftest import user_named

PEOPLE = {"leader_x": Role.leader, "counselor_x": Role.counselor, "teacher_x": Role.class_teacher}


@dataclass
class OtherDepartment:
    id: int
    people: dict[str, int]  # username → user id
    class_id: int
    room_id: int
    building_id: int
    course_id: int
    shift_id: int
    student_names: list[str]


@contextmanager
def other_department(sessionmaker):
    with sessionmaker() as db:
        password_hash = user_named(db, "counselor1").password_hash  # demo1234
        dept = Department(name="外系（测试）")
        db.add(dept)
        db.flush()
        people = {}
        for username, role in PEOPLE.items():
            user = User(
                username=username, name=f"外系{role.label}", password_hash=password_hash,
                department_id=dept.id,
            )  # fmt: skip
            user.role_rows = [UserRole(role=role)]
            db.add(user)
            db.flush()
            people[username] = user.id
        school_class = SchoolClass(
            name="2025级外系测试1班", grade=2025, major="外系测试", department_id=dept.id,
            counselor_id=people["counselor_x"], class_teacher_id=people["teacher_x"],
        )  # fmt: skip
        building = Building(name="外系测试楼")
        room = Room(building=building, number="101")
        db.add_all([school_class, room])
        db.flush()
        names = [f"外系学生{c}" for c in "子丑寅卯辰巳"]
        for i, name in enumerate(names):
            student = Student(
                student_number=f"X2025{i:03d}", name=name, gender="女", class_id=school_class.id
            )
            db.add(student)
            db.flush()
            db.add(Bed(room_id=room.id, number=i + 1, student_id=student.id))
        course = Course(name="外系测试课程", department_id=dept.id)
        db.add(
            ClassCourse(
                class_id=school_class.id,
                course=course,
                teacher=CourseTeacher(name="外系任课教师", department_id=dept.id),
            )
        )
        shift = DutyShift(
            date=today(), slot=Slot.evening, department_id=dept.id, building_id=building.id,
            staff_id=people["counselor_x"],
        )  # fmt: skip
        db.add(shift)
        db.commit()
        made = OtherDepartment(
            dept.id, people, school_class.id, room.id, building.id, course.id, shift.id, names
        )
    try:
        yield made
    finally:
        _remove(sessionmaker, made)


def _remove(sessionmaker, made: OtherDepartment) -> None:
    ids = list(made.people.values())
    with sessionmaker() as db:
        entries = select(Entry.id).where(
            or_(Entry.author_id.in_(ids), Entry.department_id == made.id)
        )
        for statement in (
            delete(SensitiveRead).where(
                or_(SensitiveRead.reader_id.in_(ids), SensitiveRead.entry_id.in_(entries))
            ),
            delete(Escalation).where(Escalation.entry_id.in_(entries)),
            delete(DisciplineStep).where(
                or_(DisciplineStep.entry_id.in_(entries), DisciplineStep.actor_id.in_(ids))
            ),
            delete(Photo).where(Photo.entry_id.in_(entries)),
            delete(EntryRevision).where(EntryRevision.entry_id.in_(entries)),
            delete(Conflict).where(Conflict.author_id.in_(ids)),
            delete(DeviceMutation).where(DeviceMutation.author_id.in_(ids)),
            delete(Device).where(Device.user_id.in_(ids)),
            delete(Entry).where(Entry.id.in_(entries)),
            delete(SwapRequest).where(SwapRequest.department_id == made.id),
            delete(StaffLeave).where(StaffLeave.staff_id.in_(ids)),
            delete(DutyShift).where(DutyShift.department_id == made.id),
            delete(Bed).where(Bed.room_id == made.room_id),
            delete(Room).where(Room.id == made.room_id),
            delete(Building).where(Building.id == made.building_id),
            delete(ClassCourse).where(ClassCourse.class_id == made.class_id),
            delete(Course).where(Course.department_id == made.id),
            delete(CourseTeacher).where(CourseTeacher.department_id == made.id),
            delete(Student).where(Student.class_id == made.class_id),
            delete(SchoolClass).where(SchoolClass.id == made.class_id),
            delete(LoginFailure).where(LoginFailure.username.in_(list(made.people))),
            delete(UserRole).where(UserRole.user_id.in_(ids)),
            delete(User).where(User.id.in_(ids)),
            delete(Department).where(Department.id == made.id),
        ):
            db.execute(statement)
        db.commit()


@contextmanager
def signed_in(app, people: list[str]):
    """One test client and a switch to any of these people's sessions (each logs in once;
    "anonymous" stays logged out): `as_person("leader1").get(...)`."""
    from litestar.testing import TestClient

    from tests.conftest import log_in

    with TestClient(app) as client:
        jars = {}
        for person in people:
            client.cookies.clear()
            if person != "anonymous":
                assert log_in(client, person).status_code == 303
            client.get("/login")  # the CSRF cookie, for anonymous too
            jars[person] = dict(client.cookies)

        def switch(person: str):
            client.cookies.clear()
            client.cookies.update(jars[person])
            return client

        yield switch
