"""The assessment's Excel files (openpyxl, text through server/xlsx.py):

- 考核表 (`sheet_workbook`): one row per person, one column per item of the rules, the total
  and the rank; the frozen results when the period is frozen. Sheet 2 「考核细则」: the rules
  version used, its filing, and each item with what it counts and its points.
- 工作记录 (`records_workbook`): the department's records of a period, one sheet per kind,
  every payload field in its own column (a 听课 row: course, teacher, period, notes; a 联系任课
  教师 row: course, teacher, method, content), ids shown as names. Sensitive content (a 心理
  talk, a concern) only for those who may read it (scope.may_read_sensitive); others see
  「（无权查看）」 in those cells, and a leader's or the office's reading is noted (/audit).
"""

from __future__ import annotations

import io
import json
import re

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import assessment, clock, scope, xlsx
from server.kinds import KINDS
from server.models import (
    AssessmentSnapshot,
    ClassCourse,
    Course,
    CourseTeacher,
    Department,
    Entry,
    Room,
    SchoolClass,
    Student,
    User,
)

SHEET_HEADERS = ["姓名", "账号"]  # then one column per item, then these
TOTAL_HEADERS = ["总分", "排名"]
RECORD_HEADERS = ["记录时间", "记录人", "补录"]
HIDDEN = "（无权查看）"


def item_header(item: dict) -> str:
    return f"{assessment.item_label(item)}（{float(item['weight']):g}分）"


def sheet_workbook(
    dept: Department, period: assessment.Period, rules: assessment.Rules,
    scores: list[assessment.PersonScore], snap: AssessmentSnapshot | None,
) -> bytes:  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.title = "考核表"
    xlsx.append(sheet, [*SHEET_HEADERS, *(item_header(i) for i in rules.items), *TOTAL_HEADERS])
    frozen = assessment.frozen_scores(snap) if snap else {}
    for row in scores:
        kept = frozen.get(row.person.id)
        if kept is not None:
            cells = [kept["lines"].get(i["id"], {}).get("points", "") for i in rules.items]
            total, rank = kept["total"], kept["rank"]
        else:
            by_id = {line.item["id"]: line.points for line in row.lines}
            cells = [by_id.get(i["id"], "") for i in rules.items]
            total, rank = row.total, row.rank
        xlsx.append(sheet, [row.person.name, row.person.username, *cells, total, rank])
    info = book.create_sheet("考核细则")
    version = rules.row
    xlsx.append(info, ["系部", dept.name])
    xlsx.append(info, ["考核期", period.label])
    xlsx.append(info, ["考核周期", assessment.PERIOD_KINDS[rules.period]])
    xlsx.append(info, ["细则版本", rules.version_label])
    if version is not None:
        xlsx.append(info, ["报备案时间", clock.local_time(version.filed_at, "%Y-%m-%d %H:%M")])
        xlsx.append(info, ["备案时间", clock.local_time(version.decided_at, "%Y-%m-%d %H:%M")])
    xlsx.append(info, ["结果", f"已冻结（{clock.local_time(snap.frozen_at, '%Y-%m-%d %H:%M')}）"
                       if snap else "未冻结（按当前记录计算）"])  # fmt: skip
    xlsx.append(info, [])
    xlsx.append(info, ["项目", "统计内容", "分值", "计分方式"])
    for item in rules.items:
        measure = assessment.MEASURE_BY_KEY[item["measure"]]
        mode = assessment.QUOTA_MODES.get(item.get("mode", ""), "") if measure.quota else ""
        xlsx.append(info, [assessment.item_label(item), measure.counts, float(item["weight"]),
                           mode or ("考核小组评分" if measure.manual else "完成 / 应完成")])  # fmt: skip
    return _bytes(book)


def records_workbook(
    db: Session, viewer: User, dept: Department, period: assessment.Period
) -> bytes:
    start, end = clock.utc_bounds(period.first, period.last)
    entries = db.scalars(
        select(Entry)
        .where(
            Entry.department_id == dept.id,
            Entry.deleted.is_(False),
            Entry.recorded_at >= start,
            Entry.recorded_at < end,
        )
        .order_by(Entry.kind, Entry.recorded_at)
    ).all()
    names = _Names(db, entries)
    book = Workbook()
    book.remove(book.active)
    for kind_name, kind in KINDS.items():
        rows = [e for e in entries if e.kind == kind_name]
        if not rows:
            continue
        sheet = book.create_sheet(_sheet_title(kind.label))
        fields = [
            f for f in kind.field_labels if "." not in f or f.split(".")[0] not in kind.field_labels
        ]
        columns = _columns(kind_name, fields)
        xlsx.append(sheet, [*RECORD_HEADERS, *(label for _, label in columns)])
        for entry in rows:
            shown, _ = scope.shown_payload(viewer, entry)
            hidden = set(entry.payload) - set(shown)
            cells = []
            for key, _ in columns:
                top = key.split(".")[0]
                if top in hidden:
                    cells.append(HIDDEN)
                else:
                    cells.append(_cell(kind, key, _value(entry.payload, key), names))
            xlsx.append(sheet, [
                clock.local_time(entry.recorded_at, "%Y-%m-%d %H:%M"),
                names.user(entry.author_id), "是" if entry.late else "", *cells,
            ])  # fmt: skip
    if not book.sheetnames:
        xlsx.append(book.create_sheet("工作记录"), ["这段时间没有记录。"])
    scope.note_sensitive_reads(db, viewer, entries, "assessment_records")
    return _bytes(book)


def _columns(kind_name: str, fields: list[str]) -> list[tuple[str, str]]:
    """(payload key, header) of a kind's sheet; a class course shows as course and teacher."""
    kind = KINDS[kind_name]
    out = []
    for key in fields:
        if key == "class_course_id" and "course_id" in fields:
            continue  # the server filled in the course and the teacher: shown from those
        if key == "class_course_id":
            out += [("class_course_id", "课程"), ("class_course_id.teacher", "任课教师")]
        elif key == "concern":
            out += [("concern.category", "关注类别"), ("concern.note", "关注说明")]
        else:
            out.append((key, kind.label_of(key)))
    return out


def _value(payload: dict, key: str):
    if key == "class_course_id.teacher":
        return payload.get("class_course_id")
    value = payload
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class _Names:
    """Ids of a batch of entries shown as names, loaded once."""

    def __init__(self, db: Session, entries: list[Entry]) -> None:
        self.db = db
        self.users = dict(db.execute(select(User.id, User.name)).all())
        self.classes = dict(db.execute(select(SchoolClass.id, SchoolClass.name)).all())
        self.courses = dict(db.execute(select(Course.id, Course.name)).all())
        self.teachers = dict(db.execute(select(CourseTeacher.id, CourseTeacher.name)).all())
        self.class_courses = {
            cc_id: (course, teacher)
            for cc_id, course, teacher in db.execute(
                select(ClassCourse.id, ClassCourse.course_id, ClassCourse.teacher_id)
            )
        }
        student_ids = set()
        room_ids = set()
        for e in entries:
            if e.room_id:
                room_ids.add(e.room_id)
            for key, value in e.payload.items():
                if key in ("student_id",) and isinstance(value, int):
                    student_ids.add(value)
                elif key == "student_ids" and isinstance(value, list):
                    student_ids |= {v for v in value if isinstance(v, int)}
                elif isinstance(value, dict):
                    student_ids |= {int(k) for k in value if str(k).isdecimal()}
        self.students = {
            i: f"{name}（{number}）"
            for i, name, number in db.execute(
                select(Student.id, Student.name, Student.student_number).where(
                    Student.id.in_(student_ids)
                )
            )
        } if student_ids else {}  # fmt: skip
        self.rooms = {
            room.id: f"{room.building.name} {room.number}"
            for room in db.scalars(select(Room).where(Room.id.in_(room_ids)))
        } if room_ids else {}  # fmt: skip

    def user(self, user_id: int) -> str:
        return self.users.get(user_id, str(user_id))


def _cell(kind, key: str, value, names: _Names):
    if value is None or value == "" or value == []:
        return ""
    choices = kind.choices.get(key, {})
    if key == "class_course_id":
        course = names.class_courses.get(value, (None, None))[0]
        return names.courses.get(course, str(value))
    if key == "class_course_id.teacher":
        teacher = names.class_courses.get(value, (None, None))[1]
        return names.teachers.get(teacher, "")
    if key in ("student_id", "proposed_for"):
        return names.students.get(value, str(value))
    if key == "student_ids" and isinstance(value, list):
        return "、".join(names.students.get(v, str(v)) for v in value)
    if key == "class_id":
        return names.classes.get(value, str(value))
    if key == "course_id":
        return names.courses.get(value, str(value))
    if key == "teacher_id":
        return names.teachers.get(value, str(value))
    if key == "room_id":
        return names.rooms.get(value, str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(choices.get(v, v)) for v in value)
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            who = names.students.get(int(k), k) if str(k).isdecimal() else k
            shown = choices.get(v, v) if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            parts.append(f"{who}：{shown}")
        return "；".join(parts)
    if isinstance(value, str):
        return choices.get(value, value)
    return value


def _sheet_title(label: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", label)[:31] or "记录"


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
