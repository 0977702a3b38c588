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
from server.college_import.rules import SheetRules
from server.college_import.semester_sheets import SemesterSheetRules
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


class _Checker(SheetRules, SemesterSheetRules):
    def __init__(self, db: Session) -> None:
        self.errors: list[RowError] = []
        self.plan = Plan()
        self.importer: str | None = None  # the username of who imports
        self.bed_count_rows: dict[tuple, int] = {}  # rooms whose 床位数 the workbook sets
        self.moving: dict[str, tuple] = {}  # 学号 → the bed the 床位 sheet gives them
        self._load(db)
        self._load_semester_sheets(db)

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
            "成绩": "course_results", "课表": "timetable", "综合测评": "quality_assessments",
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


def _default_choice(header: str) -> str | None:
    # empty cells mean the everyday value (issue 11): 一般 contact grade, 在读, not a foundation course
    return {"联系等级": GRADE_NAMES[-1], "状态": STATUS_NAMES[0], "专业基础课": "否",
            "是否重修": "否"}.get(header)  # fmt: skip


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, frozenset | set):
        return "、".join(sorted(value, key=ROLE_NAMES.index))
    return str(value)
