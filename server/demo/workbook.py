"""The demo college as an import workbook (issue 11): the demo goes through the importer.

`build()` makes the college as rows with ids of its own; `write()` turns what a workbook can
hold (系部, 教职工, 班级, 学生, 家长, 宿舍, 床位, 课程) into an .xlsx in memory, and the demo
imports it with `college_import.import_workbook`, so `make run` exercises the import every
time. What the workbook cannot hold (duty shifts, generated weeks, demo passwords) is added
afterwards with the database's own ids: `reload()` reads the imported rows back and
`remap_shifts()` moves the built duty shifts onto them by natural keys.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.college_import.sheets import SHEETS
from server.demo import semester as demo_semester
from server.models import (
    ROLE_LABELS,
    Bed,
    Building,
    ClassCourse,
    Course,
    CourseTeacher,
    Department,
    DutyShift,
    Guardian,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
)

GRADE = {"special": "特殊", "key": "重点", "general": "一般"}
IMPORTED = [Department, User, UserRole, Building, Room, CourseTeacher, Course, SchoolClass,
            ClassCourse, Student, Guardian, Bed]  # fmt: skip


def write(rows) -> bytes:
    """The workbook of the built college (write-only openpyxl: the college size is 15,000 rows)."""
    t = rows.rows
    dept = {d["id"]: d["name"] for d in t[Department]}
    user = {u["id"]: u for u in t[User]}
    roles: dict[int, list[str]] = {}
    for r in t[UserRole]:
        roles.setdefault(r["user_id"], []).append(ROLE_LABELS[Role(r["role"])])
    school_class = {c["id"]: c for c in t[SchoolClass]}
    student = {s["id"]: s for s in t[Student]}
    building = {b["id"]: b["name"] for b in t[Building]}
    room = {r["id"]: r for r in t[Room]}
    beds_of: dict[int, int] = {}
    for b in t[Bed]:
        beds_of[b["room_id"]] = beds_of.get(b["room_id"], 0) + 1
    course = {c["id"]: c for c in t[Course]}
    teacher = {c["id"]: c for c in t[CourseTeacher]}
    gender_of_building = {}
    for b in t[Bed]:
        if b["student_id"]:
            gender_of_building[room[b["room_id"]]["building_id"]] = student[b["student_id"]][
                "gender"
            ]

    data = {
        "系部": [[d["name"]] for d in t[Department]],
        "教职工": [
            [u["username"], u["name"], dept.get(u["department_id"], ""), "、".join(roles[u["id"]]),
             u["phone"] or ""]
            for u in t[User]
        ],
        "班级": [
            [c["name"], c["grade"], c["major"], dept[c["department_id"]],
             user[c["counselor_id"]]["username"],
             user[c["class_teacher_id"]]["username"] if c["class_teacher_id"] else ""]
            for c in t[SchoolClass]
        ],
        "学生": [
            [s["student_number"], s["name"], s["gender"], school_class[s["class_id"]]["name"],
             GRADE[s["contact_grade"]], s["phone"] or "", "在读"]
            for s in t[Student]
        ],
        "家长": [
            [student[g["student_id"]]["student_number"], g["name"], g["relation"], g["phone"]]
            for g in t[Guardian]
        ],
        "宿舍": [
            [building[r["building_id"]], r["number"], beds_of.get(r["id"], 0),
             gender_of_building.get(r["building_id"], "")]
            for r in t[Room]
        ],
        "床位": [
            [student[b["student_id"]]["student_number"],
             building[room[b["room_id"]]["building_id"]], room[b["room_id"]]["number"], b["number"]]
            for b in t[Bed]
            if b["student_id"]
        ],
        "课程": [
            [school_class[cc["class_id"]]["name"], course[cc["course_id"]]["name"],
             teacher[cc["teacher_id"]]["name"], teacher[cc["teacher_id"]]["phone"] or "",
             "是" if course[cc["course_id"]]["professional_foundation"] else "否"]
            for cc in t[ClassCourse]
        ],
    }  # fmt: skip
    data |= demo_semester.sheets(t, school_class, course)  # 成绩 and 课表
    book = Workbook(write_only=True)
    for name, sheet in SHEETS.items():
        ws = book.create_sheet(name)
        ws.append([column.header for column in sheet.columns])
        for row in data.get(name, ()):
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reload(session: Session, rows) -> None:
    """Replace the built rows of every imported table by the database's, in id order, so
    what is generated next (weeks of records) names the real ids."""
    for model in IMPORTED:
        table = model.__table__
        query = select(table).order_by(*table.primary_key.columns)
        rows.rows[model] = [dict(r._mapping) for r in session.execute(query)]


def remap_shifts(built, imported) -> None:
    """Point the built duty shifts at the imported staff, departments and buildings."""

    def by(model, key):
        return {key(r): r["id"] for r in imported.rows[model]}

    user = by(User, lambda u: u["username"])
    dept = by(Department, lambda d: d["name"])
    building = by(Building, lambda b: b["name"])
    old_user = {u["id"]: u["username"] for u in built.rows[User]}
    old_dept = {d["id"]: d["name"] for d in built.rows[Department]}
    old_building = {b["id"]: b["name"] for b in built.rows[Building]}
    for shift in built.rows.get(DutyShift, []):
        shift.pop("id", None)
        shift["staff_id"] = user[old_user[shift["staff_id"]]]
        shift["department_id"] = dept[old_dept[shift["department_id"]]]
        shift["building_id"] = building[old_building[shift["building_id"]]]
