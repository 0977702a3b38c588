"""Check a read workbook against the database: what is new, what changes, what is wrong.

Nothing is written here. The result is a `Plan` (the rows to write, in natural keys: names,
学号, 工号) and a `Preview` (counts, changed fields and every row error). Each sheet is
checked against the *final* state: the database as the rows of the sheets before it would
leave it, so a workbook may bring a department, its staff, classes and students at once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.college_import import cells
from server.college_import.reading import Table, Workbook
from server.college_import.sheets import GRADE_NAMES, ROLE_NAMES, SHEETS, STATUS_NAMES
from server.models import (
    ROLE_LABELS,
    STUDENT_STATUS_LABELS,
    Bed,
    Building,
    ClassCourse,
    ContactGrade,
    Course,
    CourseTeacher,
    Department,
    Guardian,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
)

GRADE_LABELS = dict(zip(ContactGrade, ("特殊", "重点", "一般"), strict=True))
MAX_BEDS_PER_ROOM = 20
# codes that colleges pad with zeros and Excel strips; room numbers are left alone (1101 and
# 512 side by side are both real)
ZERO_PADDED = {"学号", "工号", "辅导员工号", "班主任工号"}
DEPARTMENT_ROLES = {"辅导员", "班主任", "系部学生工作负责人"}  # these need a 系部


@dataclass
class RowError:
    sheet: str
    row: int | None  # None: the sheet as a whole (a missing column)
    column: str
    message: str


@dataclass
class SheetResult:
    name: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    changes: list[dict] = field(default_factory=list)  # {"row", "key", "fields": [[h, old, new]]}


@dataclass
class Preview:
    sheets: list[SheetResult]
    errors: list[RowError]
    ignored: list[str]

    def as_dict(self) -> dict:
        return {
            "sheets": [vars(s) for s in self.sheets],
            "errors": [vars(e) for e in self.errors],
            "ignored": self.ignored,
        }

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": sum(s.new for s in self.sheets),
            "changed": sum(s.changed for s in self.sheets),
            "unchanged": sum(s.unchanged for s in self.sheets),
            "errors": len(self.errors),
        }


@dataclass
class Plan:
    """Per sheet, the rows to write: (key, values, existing id or None); values by header."""

    rows: dict[str, list[tuple[tuple, dict, int | None]]] = field(default_factory=dict)


def check(db: Session, book: Workbook, progress=None, user=None) -> tuple[Preview, Plan]:
    """`user`: who imports; an admin cannot take their own 管理员 role away by importing."""
    checker = _Checker(db)
    checker.importer = user.username if user is not None else None
    for sheet, message in book.problems:
        checker.errors.append(RowError(sheet, None, "", message))
    tables = {t.sheet: t for t in book.tables}
    results = []
    for i, name in enumerate(SHEETS):
        if progress:
            progress("检查", i / len(SHEETS))
        if name in tables:
            results.append(checker.sheet(tables[name]))
    checker.finish()
    errors = sorted(checker.errors, key=lambda e: (list(SHEETS).index(e.sheet), e.row or 0))
    return Preview(results, errors, book.ignored), checker.plan


class _Checker:
    def __init__(self, db: Session) -> None:
        self.errors: list[RowError] = []
        self.plan = Plan()
        self.importer: str | None = None  # the username of who imports
        self.bed_count_rows: dict[tuple, int] = {}  # rooms whose 床位数 the workbook sets
        self.moving: dict[str, tuple] = {}  # 学号 → the bed the 床位 sheet gives them
        self._load(db)

    # --- the database, in natural keys ------------------------------------------------------

    def _load(self, db: Session) -> None:
        self.departments = {
            name: id_ for id_, name in db.execute(select(Department.id, Department.name))
        }
        dept_name = {id_: name for name, id_ in self.departments.items()}
        roles: dict[int, set[str]] = {}
        for user_id, role in db.execute(select(UserRole.user_id, UserRole.role)):
            roles.setdefault(user_id, set()).add(ROLE_LABELS[Role(role)])
        self.staff = {}
        username = {}
        for u in db.execute(
            select(User.id, User.username, User.name, User.department_id, User.phone)
        ):
            username[u.id] = u.username
            self.staff[u.username] = {
                "id": u.id, "姓名": u.name, "系部": dept_name.get(u.department_id),
                "角色": frozenset(roles.get(u.id, ())), "手机": u.phone,
            }  # fmt: skip
        self.classes = {}
        class_name = {}
        for c in db.execute(select(SchoolClass)).scalars():
            class_name[c.id] = c.name
            self.classes[c.name] = {
                "id": c.id, "入学年份": c.grade, "专业": c.major, "系部": dept_name[c.department_id],
                "辅导员工号": username[c.counselor_id],
                "班主任工号": username.get(c.class_teacher_id),
            }  # fmt: skip
        self.students = {}
        number = {}
        for s in db.execute(
            select(Student.id, Student.student_number, Student.name, Student.gender,
                   Student.class_id, Student.phone, Student.contact_grade, Student.status)
        ):  # fmt: skip
            number[s.id] = s.student_number
            self.students[s.student_number] = {
                "id": s.id, "姓名": s.name, "性别": s.gender, "班级名称": class_name[s.class_id],
                "联系等级": GRADE_LABELS[ContactGrade(s.contact_grade)], "手机": s.phone,
                "状态": STUDENT_STATUS_LABELS[s.status],
            }  # fmt: skip
        self.guardians = {
            (number[g.student_id], g.name): {"id": g.id, "关系": g.relation, "电话": g.phone}
            for g in db.execute(select(Guardian.id, Guardian.student_id, Guardian.name,
                                       Guardian.relation, Guardian.phone))
        }  # fmt: skip
        building_name = dict(db.execute(select(Building.id, Building.name)).all())
        self.buildings = {name: id_ for id_, name in building_name.items()}
        self.rooms = {}
        room_key = {}
        for r in db.execute(select(Room.id, Room.building_id, Room.number, Room.gender)):
            room_key[r.id] = (building_name[r.building_id], r.number)
            self.rooms[room_key[r.id]] = {"id": r.id, "床位数": 0, "性别": r.gender}
        self.bed_of: dict[str, tuple[str, str, int]] = {}  # 学号 → (楼栋, 房间号, 床号)
        self.sleeper: dict[tuple[str, str, int], str] = {}
        for room_id, bed_no, student_id in db.execute(
            select(Bed.room_id, Bed.number, Bed.student_id)
        ):
            key = room_key[room_id]
            self.rooms[key]["床位数"] = max(self.rooms[key]["床位数"], bed_no)
            if student_id is not None:
                place = (*key, bed_no)
                self.bed_of[number[student_id]] = place
                self.sleeper[place] = number[student_id]
        self.courses = {
            (dept_name.get(c.department_id), c.name): {"id": c.id, "专业基础课": "是" if c.professional_foundation else "否"}
            for c in db.execute(select(Course.id, Course.department_id, Course.name, Course.professional_foundation))
        }  # fmt: skip
        teachers = {
            t.id: (dept_name.get(t.department_id), t.name, t.phone)
            for t in db.execute(select(CourseTeacher.id, CourseTeacher.department_id,
                                       CourseTeacher.name, CourseTeacher.phone))
        }  # fmt: skip
        self.teachers = {(d, n): {"id": id_, "教师电话": p} for id_, (d, n, p) in teachers.items()}
        course_name = {c["id"]: name for (_, name), c in self.courses.items()}
        self.class_courses = {}
        for cc in db.execute(select(ClassCourse.id, ClassCourse.class_id, ClassCourse.course_id,
                                    ClassCourse.teacher_id)):  # fmt: skip
            dept, teacher, phone = teachers[cc.teacher_id]
            self.class_courses[(class_name[cc.class_id], course_name[cc.course_id])] = {
                "id": cc.id,
                "任课教师": teacher,
                "教师电话": phone,
            }

    # --- one sheet ----------------------------------------------------------------------------

    def sheet(self, table: Table) -> SheetResult:
        result = SheetResult(table.sheet)
        spec = SHEETS[table.sheet]
        for header in table.missing:
            self._error(
                table.sheet, None, header, f"缺少“{header}”列（表头在第 {table.header_row} 行）。"
            )
        if table.missing:
            return result
        rows = self._parse(table, spec)
        check_rows = getattr(self, "_" + {
            "系部": "departments", "教职工": "staff", "班级": "classes", "学生": "students",
            "家长": "guardians", "宿舍": "rooms", "床位": "beds", "课程": "courses",
        }[table.sheet])  # fmt: skip
        planned = self.plan.rows.setdefault(table.sheet, [])
        keys = {c.header for c in spec.columns if c.key}
        for row_no, key, values, old in check_rows(table.sheet, rows):
            values = {h: v for h, v in values.items() if h not in keys}
            if old is None:
                result.new += 1
                planned.append((key, values, None))
                continue
            changed = [
                [h, _show(old.get(h)), _show(v)]
                for h, v in values.items()
                if not h.startswith("__") and old.get(h) != v
            ]
            if changed:
                result.changed += 1
                result.changes.append(
                    {"row": row_no, "key": " ".join(map(str, key)), "fields": changed}
                )
                planned.append((key, values, old.get("id")))
            else:
                result.unchanged += 1
        return result

    def _parse(self, table: Table, spec) -> list[tuple[int, dict]]:
        """Cells to values by header; a row with a bad cell is reported and left out."""
        parsed, numeric = [], []
        for row_no, row in table.rows:
            values, from_number, bad = {}, set(), False
            for column in spec.columns:
                if column.header not in table.columns:
                    continue
                j = table.columns[column.header]
                raw = row[j] if j < len(row) else None
                try:
                    values[column.header] = self._cell(column, raw)
                except cells.CellError as exc:
                    self._error(table.sheet, row_no, column.header, str(exc))
                    bad = True
                    continue
                if column.kind == "code" and isinstance(values[column.header], tuple):
                    values[column.header], as_number = values[column.header]
                    if as_number:
                        from_number.add(column.header)
                if values[column.header] in (None, "") and column.required:
                    self._error(table.sheet, row_no, column.header, f"“{column.header}”不能为空。")
                    bad = True
            if not bad:
                parsed.append((row_no, values))
                numeric.append(from_number)
        return self._lost_zeros(table.sheet, spec, parsed, numeric)

    def _cell(self, column, raw):
        if cells.is_blank(raw):
            return {"choice": _default_choice(column.header), "roles": frozenset()}.get(column.kind)
        if column.kind == "code":
            return cells.code(raw, column.header)
        if column.kind == "phone":
            return cells.phone(raw, column.header)
        if column.kind == "int":
            if column.header == "入学年份":
                return cells.integer(raw, column.header, 1990, 2100)
            return cells.integer(raw, column.header, 1, MAX_BEDS_PER_ROOM)
        if column.kind == "choice":
            return cells.choice(raw, column.header, column.choices)
        if column.kind == "roles":
            return cells.roles(raw, ROLE_NAMES)
        value = cells.text(raw)
        if len(value) > 80:
            raise cells.CellError(f"“{column.header}”太长（最多 80 个字）。")
        return value

    def _lost_zeros(self, sheet, spec, parsed, numeric):
        """A code that was a number and is shorter than the column's codes typed as text (or
        matches a known code once zeros are put back) lost its leading zeros in Excel."""
        kept = []
        for column in (c for c in spec.columns if c.header in ZERO_PADDED):
            typed = Counter(
                len(v[column.header]) for (_, v), n in zip(parsed, numeric, strict=True)
                if column.header in v and v[column.header] and column.header not in n
            )  # fmt: skip
            width = typed.most_common(1)[0][0] if typed else 0
            known = self.students if column.header == "学号" else self.staff
            for (row_no, values), from_number in zip(parsed, numeric, strict=True):
                value = values.get(column.header)
                if not value or column.header not in from_number:
                    continue
                padded = next(
                    (("0" * k) + value for k in range(1, 4) if ("0" * k) + value in known), None
                )
                if padded and value not in known:
                    why = f"系统中有{column.header}“{padded}”"
                elif len(value) < width:
                    why = f"比本列其他{column.header}（{width} 位）短"
                else:
                    continue
                self._error(sheet, row_no, column.header,
                            f"{column.header}“{value}”存成了数字，{why}：Excel 可能去掉了开头的 0。"
                            "请把该列设为文本格式，按原样填写。")  # fmt: skip
                values["__bad"] = True
        for row_no, values in parsed:
            if not values.pop("__bad", False):
                kept.append((row_no, values))
        return kept

    def _error(self, sheet, row, column, message) -> None:
        self.errors.append(RowError(sheet, row, column, message))

    def _unique(self, sheet, rows, key_of, what):
        """Rows whose key came before are errors; yields (row, key, values) of the others."""
        first: dict[tuple, int] = {}
        for row_no, values in rows:
            key = key_of(values)
            if key in first:
                self._error(
                    sheet,
                    row_no,
                    what,
                    f"{what}“{' '.join(map(str, key))}”与第 {first[key]} 行重复。",
                )
                continue
            first[key] = row_no
            yield row_no, key, values

    # --- the sheets, in order ------------------------------------------------------------------

    def _departments(self, sheet, rows):
        for row_no, key, _values in self._unique(
            sheet, rows, lambda v: (v["系部名称"],), "系部名称"
        ):
            old = {"id": self.departments[key[0]]} if key[0] in self.departments else None
            self.departments.setdefault(key[0], None)
            yield row_no, key, {}, old

    def _staff(self, sheet, rows):
        for row_no, key, values in self._unique(sheet, rows, lambda v: (v["工号"],), "工号"):
            ok = True
            dept = values.get("系部")
            if dept and dept not in self.departments:
                ok = self._refuse(
                    sheet, row_no, "系部", f"没有名为“{dept}”的系部（系部表和系统中都没有）。"
                )
            if "系部" in values and not dept and values["角色"] & DEPARTMENT_ROLES:
                ok = self._refuse(
                    sheet, row_no, "系部", "辅导员、班主任和系部学生工作负责人必须填写系部。"
                )
            if not values["角色"]:
                ok = self._refuse(sheet, row_no, "角色", "“角色”不能为空。")
            elif key[0] == self.importer and "管理员" not in values["角色"]:
                ok = self._refuse(sheet, row_no, "角色", "不能通过导入去掉自己的管理员角色。")
            if "系部" in values:
                values["系部"] = dept or None
            old = self.staff.get(key[0])
            if not ok:
                self.staff.setdefault(key[0], {"角色": values["角色"]})
                continue
            self.staff[key[0]] = {**(old or {}), **values}
            yield row_no, key, values, old

    def _classes(self, sheet, rows):
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["班级名称"],), "班级名称"
        ):
            ok = True
            if values["系部"] not in self.departments:
                ok = self._refuse(sheet, row_no, "系部", f"没有名为“{values['系部']}”的系部。")
            for header, role in (("辅导员工号", "辅导员"), ("班主任工号", "班主任")):
                username = values.get(header)
                if not username:
                    continue
                person = self.staff.get(username)
                if person is None:
                    ok = self._refuse(
                        sheet, row_no, header, f"找不到工号“{username}”（教职工表和系统中都没有）。"
                    )
                elif role not in person.get("角色", ()):
                    ok = self._refuse(
                        sheet,
                        row_no,
                        header,
                        f"工号“{username}”（{person.get('姓名', '')}）的角色中没有{role}。",
                    )
            old = self.classes.get(key[0])
            if not ok:
                self.classes.setdefault(key[0], {"系部": values["系部"]})
                continue
            self.classes[key[0]] = {**(old or {}), **values}
            yield row_no, key, values, old

    def _students(self, sheet, rows):
        for row_no, key, values in self._unique(sheet, rows, lambda v: (v["学号"],), "学号"):
            old = self.students.get(key[0])
            if values["班级名称"] not in self.classes:
                self._refuse(
                    sheet,
                    row_no,
                    "班级名称",
                    f"没有名为“{values['班级名称']}”的班级（班级表和系统中都没有）。",
                )
                self.students.setdefault(key[0], {"性别": values["性别"]})
                continue
            self.students[key[0]] = {**(old or {}), **values}
            if old is not None:  # a changed contact grade is kept with its history (applying)
                values = {**values, "__grade_before": old["联系等级"]}
            yield row_no, key, values, old

    def _guardians(self, sheet, rows):
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["学号"], v["姓名"]), "学号 + 家长姓名"
        ):
            if key[0] not in self.students:
                self._refuse(sheet, row_no, "学号", self._unknown_student(key[0]))
                continue
            yield (
                row_no,
                key,
                {h: values.get(h) for h in ("关系", "电话") if h in values},
                self.guardians.get(key),
            )

    def _rooms(self, sheet, rows):
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["楼栋"], v["房间号"]), "楼栋 + 房间号"
        ):
            old = self.rooms.get(key)
            self.rooms[key] = {**(old or {}), **values}
            if "床位数" in values:
                self.bed_count_rows[key] = row_no
            yield row_no, key, {h: values.get(h) for h in ("床位数", "性别") if h in values}, old

    def _beds(self, sheet, rows):
        claims: dict[tuple, tuple[int, str]] = {}
        moving = {}
        for row_no, key, values in self._unique(sheet, rows, lambda v: (v["学号"],), "学号"):
            number = key[0]
            place = (values["楼栋"], values["房间号"], values["床号"])
            room = self.rooms.get(place[:2])
            if number not in self.students:
                self._refuse(sheet, row_no, "学号", self._unknown_student(number))
            elif room is None:
                self._refuse(
                    sheet,
                    row_no,
                    "房间号",
                    f"没有宿舍“{place[0]} {place[1]}”（宿舍表和系统中都没有）。",
                )
            elif place[2] > room["床位数"]:
                self._refuse(
                    sheet,
                    row_no,
                    "床号",
                    f"床号 {place[2]} 超出该宿舍的床位数（{room['床位数']}）。",
                )
            elif place in claims:
                row, other = claims[place]
                self._refuse(
                    sheet,
                    row_no,
                    "床号",
                    f"两名学生在同一床位：{place[0]} {place[1]} {place[2]} 号床已在第 {row} 行安排给学号 {other}。",
                )
            elif room.get("性别") and self.students[number].get("性别") not in (None, room["性别"]):
                self._refuse(
                    sheet,
                    row_no,
                    "房间号",
                    f"{place[0]} {place[1]} 是{room['性别']}生宿舍，学号 {number} 的性别是{self.students[number]['性别']}。",
                )
            else:
                claims[place] = (row_no, number)
                moving[number] = (row_no, place, values)
        # a bed still held by a student this sheet does not move elsewhere cannot be given away
        for place, (row_no, number) in claims.items():
            holder = self.sleeper.get(place)
            if holder and holder != number and holder not in moving:
                self._refuse(
                    sheet,
                    row_no,
                    "床号",
                    f"{place[0]} {place[1]} {place[2]} 号床住着学号 {holder}：请在本表中同时为其安排新床位。",
                )
                moving.pop(number)
        for number, (row_no, place, _values) in moving.items():
            old_place = self.bed_of.get(number)
            old = (
                None
                if old_place is None
                else {"id": self.students[number]["id"],  # the student: their bed moves
                      "楼栋": old_place[0], "房间号": old_place[1], "床号": old_place[2]}
            )  # fmt: skip
            yield row_no, (number,), {"楼栋": place[0], "房间号": place[1], "床号": place[2]}, old
        self.moving = moving

    def finish(self) -> None:
        """A room whose 床位数 goes down must not leave anyone in a bed beyond it (a student the
        床位 sheet moves elsewhere has left it)."""
        for place, number in self.sleeper.items():
            row_no = self.bed_count_rows.get(place[:2])
            if row_no is None or number in self.moving:
                continue
            beds = self.rooms[place[:2]]["床位数"]
            if place[2] > beds:
                self._error("宿舍", row_no, "床位数",
                            f"{place[0]} {place[1]} 的 {place[2]} 号床住着学号 {number}，床位数不能少于 {place[2]}。")  # fmt: skip

    def _courses(self, sheet, rows):
        seen_course: dict[tuple, tuple[int, str]] = {}
        seen_teacher: dict[tuple, tuple[int, str | None]] = {}
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["班级名称"], v["课程名称"]), "班级 + 课程名称"
        ):
            school_class = self.classes.get(key[0])
            if school_class is None:
                self._refuse(sheet, row_no, "班级名称", f"没有名为“{key[0]}”的班级。")
                continue
            dept = school_class.get("系部")
            ok = True
            if "专业基础课" in values:
                course = (dept, key[1])
                if course in seen_course and seen_course[course][1] != values["专业基础课"]:
                    ok = self._refuse(
                        sheet,
                        row_no,
                        "专业基础课",
                        f"课程“{key[1]}”在第 {seen_course[course][0]} 行标为“{seen_course[course][1]}”，两行应一致。",
                    )
                seen_course.setdefault(course, (row_no, values["专业基础课"]))
            if "教师电话" in values:
                teacher = (dept, values["任课教师"])
                if teacher in seen_teacher and seen_teacher[teacher][1] != values["教师电话"]:
                    ok = self._refuse(
                        sheet,
                        row_no,
                        "教师电话",
                        f"任课教师“{values['任课教师']}”在第 {seen_teacher[teacher][0]} 行的电话不同。",
                    )
                seen_teacher.setdefault(teacher, (row_no, values["教师电话"]))
            if not ok:
                continue
            old = self.class_courses.get(key)
            if old is not None:
                old = {**old, "专业基础课": self.courses.get((dept, key[1]), {}).get("专业基础课")}
            values["__department"] = dept
            yield row_no, key, values, old

    # --- helpers ---------------------------------------------------------------------------------

    def _refuse(self, sheet, row, column, message) -> bool:
        self._error(sheet, row, column, message)
        return False

    def _unknown_student(self, number: str) -> str:
        padded = next(
            (("0" * k) + number for k in range(1, 4) if ("0" * k) + number in self.students), None
        )
        if padded:
            return f"找不到学号“{number}”，但有学号“{padded}”：Excel 可能去掉了开头的 0，请把该列设为文本格式。"
        return f"找不到学号“{number}”（学生表和系统中都没有）。"


def _default_choice(header: str) -> str | None:
    # empty cells mean the everyday value (issue 11): 一般 contact grade, 在读, not a foundation course
    return {"联系等级": GRADE_NAMES[-1], "状态": STATUS_NAMES[0], "专业基础课": "否"}.get(header)


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, frozenset | set):
        return "、".join(sorted(value, key=ROLE_NAMES.index))
    return str(value)
