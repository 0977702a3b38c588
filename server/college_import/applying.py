"""Write a checked plan: inserts and updates in bulk, in the caller's transaction.

The caller has checked the workbook in the same transaction and commits or rolls back: a
workbook is applied whole or not at all. Rows are written with bulk statements (SQLAlchemy's
insertmanyvalues and bulk UPDATE by primary key), not object by object: 15,000 students with
their beds and guardians are a few seconds of writing, not a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from server import clock, pinyin
from server.college_import.checking import GRADE_LABELS, Plan
from server.college_import.semester_sheets import (
    write_course_results,
    write_quality_assessments,
    write_timetable,
)
from server.models import (
    ROLE_LABELS,
    STUDENT_STATUS_LABELS,
    Bed,
    BedMove,
    Building,
    ClassCourse,
    ContactGradeChange,
    Course,
    CourseTeacher,
    Department,
    Guardian,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
)

# an argon2 verify of "!" raises InvalidHashError, which the login treats as a wrong
# password: an imported account cannot log in until a password is issued to it
UNUSABLE_PASSWORD = "!"
CHUNK = 5000  # ids per IN (…): well under SQLite's and PostgreSQL's bound-parameter limits

ROLE_OF = {label: role for role, label in ROLE_LABELS.items()}
GRADE_OF = {label: grade for grade, label in GRADE_LABELS.items()}
STATUS_OF = {label: status for status, label in STUDENT_STATUS_LABELS.items()}


def apply(
    db: Session, plan: Plan, progress=None, user: User | None = None, source: str = ""
) -> None:
    """Write the plan. With a user, what the student's page keeps a history of is kept
    the same way: each bed a student moves out of as a BedMove (dated today; a first bed is
    not a move), each changed contact grade as a ContactGradeChange (reason: the file)."""
    beds_before: dict[int, int] = {}
    steps = [
        ("系部", _departments), ("教职工", _staff), ("班级", _classes), ("学生", _students),
        ("家长", _guardians), ("宿舍", _rooms), ("床位", _beds), ("课程", _courses),
        ("成绩", write_course_results), ("课表", write_timetable),
        ("综合测评", write_quality_assessments),
    ]  # fmt: skip
    for i, (sheet, write) in enumerate(steps):
        if progress:
            progress("写入", i / len(steps))
        if sheet == "宿舍" and plan.rows.get("床位"):
            # before bed counts shrink and beds are given again
            beds_before = _vacate(db, plan.rows["床位"])
        if sheet == "床位" and plan.rows.get(sheet):
            _beds(db, plan.rows[sheet], beds_before, user)
        elif sheet == "学生" and plan.rows.get(sheet):
            _students(db, plan.rows[sheet], user, source)
        elif plan.rows.get(sheet):
            write(db, plan.rows[sheet])
    db.flush()


def _ids(db: Session, *columns) -> dict:
    return {
        tuple(row[:-1]) if len(row) > 2 else row[0]: row[-1] for row in db.execute(select(*columns))
    }


def _write(db: Session, model, rows, fields) -> None:
    """rows: (key, values, id); fields(key, values) → column values. New rows are inserted,
    rows with an id are updated."""
    new = [fields(key, values) for key, values, id_ in rows if id_ is None]
    changed = [{"id": id_, **fields(key, values)} for key, values, id_ in rows if id_ is not None]
    if new:
        db.execute(insert(model), new)
    if changed:
        db.execute(update(model), changed)


def _departments(db: Session, rows) -> None:
    _write(db, Department, rows, lambda key, values: {"name": key[0]})


def _staff(db: Session, rows) -> None:
    dept = _ids(db, Department.name, Department.id)

    def fields(key, values):
        out = {"username": key[0], "name": values["姓名"]}
        if "系部" in values:
            out["department_id"] = dept.get(values["系部"])
        if "手机" in values:
            out["phone"] = values["手机"]
        return out

    new = [
        {**fields(k, v), "password_hash": UNUSABLE_PASSWORD, "active": True, "session_epoch": 0}
        for k, v, id_ in rows
        if id_ is None
    ]
    if new:
        db.execute(insert(User), new)
    changed = [{"id": id_, **fields(k, v)} for k, v, id_ in rows if id_ is not None]
    if changed:
        db.execute(update(User), changed)
    user = _ids(db, User.username, User.id)
    ids = [user[k[0]] for k, _, _ in rows]
    for chunk in _chunks(ids):
        db.execute(delete(UserRole).where(UserRole.user_id.in_(chunk)))
    db.execute(
        insert(UserRole),
        [{"user_id": user[k[0]], "role": ROLE_OF[r].value} for k, v, _ in rows for r in v["角色"]],
    )


def _classes(db: Session, rows) -> None:
    dept = _ids(db, Department.name, Department.id)
    user = _ids(db, User.username, User.id)
    names = {"入学年份": "grade", "专业": "major"}

    def fields(key, values):
        out = {"name": key[0], "department_id": dept[values["系部"]]}
        out |= {column: values[h] for h, column in names.items()}
        out["counselor_id"] = user[values["辅导员工号"]]
        if "班主任工号" in values:
            out["class_teacher_id"] = user.get(values["班主任工号"])
        return out

    _write(db, SchoolClass, rows, fields)


def _pinyin_keys(name: str) -> dict[str, str]:
    full, initials = pinyin.keys(name)
    return {"pinyin_full": full, "pinyin_initials": initials}


def _students(db: Session, rows, user: User | None, source: str) -> None:
    school_class = _ids(db, SchoolClass.name, SchoolClass.id)

    def fields(key, values):
        out = {
            "student_number": key[0],
            "name": values["姓名"],
            # bulk writes pass no ORM events: the search keys are set here (server/pinyin.py)
            **_pinyin_keys(values["姓名"]),
            "gender": values["性别"],
            "class_id": school_class[values["班级名称"]],
        }
        if "联系等级" in values:
            out["contact_grade"] = GRADE_OF[values["联系等级"]].value
        if "手机" in values:
            out["phone"] = values["手机"]
        if "状态" in values:
            out["status"] = STATUS_OF[values["状态"]].value
        return out

    _write(db, Student, rows, fields)
    regraded = [
        {"student_id": id_, "old_grade": GRADE_OF[v["__grade_before"]].value,
         "new_grade": GRADE_OF[v["联系等级"]].value, "reason": f"导入：{source}"[:200],
         "changed_by_id": user.id, "changed_at": datetime.now(UTC)}
        for _, v, id_ in rows
        if user is not None and id_ is not None and "联系等级" in v
        and v["联系等级"] != v["__grade_before"]
    ]  # fmt: skip
    if regraded:
        db.execute(insert(ContactGradeChange), regraded)


def _guardians(db: Session, rows) -> None:
    student = _ids(db, Student.student_number, Student.id)

    def fields(key, values):
        out = {"student_id": student[key[0]], "name": key[1], "relation": values["关系"]}
        if "电话" in values:
            out["phone"] = values["电话"]
        return out

    _write(db, Guardian, rows, fields)


def _rooms(db: Session, rows) -> None:
    new_buildings = {k[0] for k, _, _ in rows} - set(_ids(db, Building.name, Building.id))
    if new_buildings:
        db.execute(insert(Building), [{"name": name} for name in sorted(new_buildings)])
    building = _ids(db, Building.name, Building.id)

    def fields(key, values):
        out = {"building_id": building[key[0]], "number": key[1]}
        if "性别" in values:
            out["gender"] = values["性别"]
        return out

    _write(db, Room, rows, fields)
    room = _ids(db, Room.building_id, Room.number, Room.id)
    wanted = {room[(building[k[0]], k[1])]: v["床位数"] for k, v, _ in rows if "床位数" in v}
    have: dict[int, set[int]] = {}
    for room_id, number in db.execute(select(Bed.room_id, Bed.number)):
        if room_id in wanted:
            have.setdefault(room_id, set()).add(number)
    missing = [
        {"room_id": room_id, "number": n}
        for room_id, count in wanted.items()
        for n in range(1, count + 1)
        if n not in have.get(room_id, set())
    ]
    if missing:
        db.execute(insert(Bed), missing)
    for room_id, count in wanted.items():
        if any(n > count for n in have.get(room_id, ())):
            # the check made sure nobody sleeps there any more
            db.execute(delete(Bed).where(Bed.room_id == room_id, Bed.number > count))


def _vacate(db: Session, rows) -> dict[int, int]:
    """Free the beds of the students the sheet gives a bed; returns student id → bed left."""
    movers = [id_ for _, _, id_ in rows if id_ is not None]
    before = {}
    for chunk in _chunks(movers):
        before |= dict(
            db.execute(select(Bed.student_id, Bed.id).where(Bed.student_id.in_(chunk))).all()
        )
        db.execute(update(Bed).where(Bed.student_id.in_(chunk)).values(student_id=None))
    return before


def _beds(db: Session, rows, before: dict[int, int], user: User | None) -> None:
    student = _ids(db, Student.student_number, Student.id)
    building = _ids(db, Building.name, Building.id)
    room = _ids(db, Room.building_id, Room.number, Room.id)
    bed = _ids(db, Bed.room_id, Bed.number, Bed.id)
    db.execute(
        update(Bed),
        [
            {
                "id": bed[(room[(building[v["楼栋"]], v["房间号"])], v["床号"])],
                "student_id": student[k[0]],
            }
            for k, v, _ in rows
        ],
    )
    if user is not None and before:
        given = {
            student[k[0]]: bed[(room[(building[v["楼栋"]], v["房间号"])], v["床号"])]
            for k, v, _ in rows
        }
        db.execute(
            insert(BedMove),
            [
                {"student_id": s, "from_bed_id": old, "to_bed_id": given[s], "moved_on": clock.today(),
                 "moved_by_id": user.id}
                for s, old in before.items()
            ],
        )  # fmt: skip


def _courses(db: Session, rows) -> None:
    dept = _ids(db, Department.name, Department.id)
    school_class = _ids(db, SchoolClass.name, SchoolClass.id)
    teachers = {
        (d, n): (id_, phone)
        for id_, d, n, phone in db.execute(
            select(
                CourseTeacher.id,
                CourseTeacher.department_id,
                CourseTeacher.name,
                CourseTeacher.phone,
            )
        )
    }
    courses = {
        (d, n): (id_, pf)
        for id_, d, n, pf in db.execute(
            select(Course.id, Course.department_id, Course.name, Course.professional_foundation)
        )
    }
    links = _ids(db, ClassCourse.class_id, ClassCourse.course_id, ClassCourse.id)
    for key, values, _ in rows:
        dept_id = dept.get(values["__department"])
        teacher_key = (dept_id, values["任课教师"])
        if teacher_key not in teachers:
            teacher = CourseTeacher(
                name=values["任课教师"], department_id=dept_id, phone=values.get("教师电话")
            )
            db.add(teacher)
            db.flush()
            teachers[teacher_key] = (teacher.id, teacher.phone)
        elif "教师电话" in values and teachers[teacher_key][1] != values["教师电话"]:
            db.execute(update(CourseTeacher).where(CourseTeacher.id == teachers[teacher_key][0])
                       .values(phone=values["教师电话"]))  # fmt: skip
            teachers[teacher_key] = (teachers[teacher_key][0], values["教师电话"])
        pf = values.get("专业基础课") == "是"
        course_key = (dept_id, key[1])
        if course_key not in courses:
            course = Course(name=key[1], department_id=dept_id, professional_foundation=pf)
            db.add(course)
            db.flush()
            courses[course_key] = (course.id, pf)
        elif "专业基础课" in values and courses[course_key][1] != pf:
            db.execute(update(Course).where(Course.id == courses[course_key][0])
                       .values(professional_foundation=pf))  # fmt: skip
            courses[course_key] = (courses[course_key][0], pf)
        class_id = school_class[key[0]]
        link = links.get((class_id, courses[course_key][0]))
        teacher_id = teachers[teacher_key][0]
        if link is None:
            db.execute(
                insert(ClassCourse).values(
                    class_id=class_id, course_id=courses[course_key][0], teacher_id=teacher_id
                )
            )
        else:
            db.execute(
                update(ClassCourse).where(ClassCourse.id == link).values(teacher_id=teacher_id)
            )


def _chunks(items: list) -> list[list]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
