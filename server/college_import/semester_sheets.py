"""The semester's sheets of the import: 成绩 (last semester's results, §1.7), 课表 (the
timetable, §2.6.1) and 综合测评 (the school year's 综合素质测评, §1.6). Their columns, rules (a mixin of `checking._Checker`, like rules.py)
and writing, kept apart from the college's own sheets.

A semester is named as the calendar names it (`/admin/semesters`, or the usual name such
as 2025-2026学年第二学期). An empty or absent 学期 means, for 成绩, the semester before
today's, and for 课表, today's semester.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from server import clock, semesters
from server.models import (
    ClassCourse,
    Course,
    CourseResult,
    QualityAssessment,
    SchoolClass,
    Semester,
    Student,
    TimetableSlot,
)

WORD_SCORES = {  # 五级制 and 二级制 results; the failing ones count as failures
    "优秀": False, "良好": False, "中等": False, "及格": False, "合格": False,
    "不及格": True, "不合格": True, "缺考": True,
}  # fmt: skip
PASS_MARK = 60
MAX_WEEKS = 30
MAX_GAP_DAYS = 120  # a recorded semester that ended longer ago is not the last one
WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}



def last_semester_name(db: Session, today) -> str:
    """The semester before today's: the latest recorded one that ended before today's
    began (the calendar leaves the holidays between semesters out), else the usual one."""
    first = semesters.term_of(db, today).first
    row = db.scalar(
        select(Semester).where(Semester.last_day < first).order_by(Semester.last_day.desc()).limit(1)
    )
    if row is not None and (first - row.last_day).days <= MAX_GAP_DAYS:
        return row.name
    return semesters.term_of(db, first - timedelta(days=1)).name


def score_of(text: str) -> tuple[str, float | None, bool]:
    """A 成绩 cell → (as shown, number or None, failed); raises ValueError."""
    raw = "".join(unicodedata.normalize("NFKC", text).split())
    if raw in WORD_SCORES:
        return raw, None, WORD_SCORES[raw]
    try:
        points = float(raw)
    except ValueError:
        raise ValueError(raw) from None
    if not 0 <= points <= 100 or points != points:
        raise ValueError(raw)
    shown = str(int(points)) if points.is_integer() else f"{points:g}"
    return shown, points, points < PASS_MARK


def weekday_of(text: str) -> int:
    raw = "".join(unicodedata.normalize("NFKC", text).split())
    raw = re.sub(r"^(星期|周|礼拜)", "", raw)
    if raw in WEEKDAYS:
        return WEEKDAYS[raw]
    if raw in {"1", "2", "3", "4", "5", "6", "7"}:
        return int(raw)
    raise ValueError(raw)


def weeks_of(text: str) -> tuple[int, int]:
    raw = "".join(unicodedata.normalize("NFKC", text).split()).removeprefix("第")
    match = re.fullmatch(r"(\d{1,2})(?:[-~至到](\d{1,2}))?周?", raw)
    if match is None:
        raise ValueError(raw)
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if not 1 <= first <= last <= MAX_WEEKS:
        raise ValueError(raw)
    return first, last


def _shown(score: float) -> str:
    return str(int(score)) if float(score).is_integer() else f"{score:g}"


class SemesterSheetRules:
    """The rules of 成绩 and 课表 (a mixin of `checking._Checker`)."""

    def _load_semester_sheets(self, db: Session) -> None:
        today = clock.today()
        self.this_semester = semesters.term_of(db, today).name
        self.last_semester = last_semester_name(db, today)
        self.results = {
            (number, semester, course): {
                "id": id_, "成绩": score, "是否重修": "是" if retake else "否",
            }
            for id_, number, semester, course, score, retake in db.execute(
                select(CourseResult.id, Student.student_number, CourseResult.semester,
                       CourseResult.course, CourseResult.score, CourseResult.retake)
                .join(Student, Student.id == CourseResult.student_id)
            )
        }  # fmt: skip
        self.assessments = {
            (number, year): {"id": id_, "分数": _shown(score), "等级": level}
            for id_, number, year, score, level in db.execute(
                select(QualityAssessment.id, Student.student_number, QualityAssessment.school_year,
                       QualityAssessment.score, QualityAssessment.level)
                .join(Student, Student.id == QualityAssessment.student_id)
            )
        }  # fmt: skip
        self.slots = {
            (class_name, course_name, semester, weekday, periods): {
                "id": id_, "起止周": f"{first}-{last}",
            }
            for id_, class_name, course_name, semester, weekday, periods, first, last in db.execute(
                select(TimetableSlot.id, SchoolClass.name, Course.name, TimetableSlot.semester,
                       TimetableSlot.weekday, TimetableSlot.periods, TimetableSlot.first_week,
                       TimetableSlot.last_week)
                .join(ClassCourse, ClassCourse.id == TimetableSlot.class_course_id)
                .join(SchoolClass, SchoolClass.id == ClassCourse.class_id)
                .join(Course, Course.id == ClassCourse.course_id)
            )
        }  # fmt: skip

    def _course_results(self, sheet, rows):
        for row_no, key, values in self._unique(
            sheet, rows,
            lambda v: (v["学号"], v.get("学期") or self.last_semester, v["课程名称"]),
            "学号 + 学期 + 课程名称",
        ):  # fmt: skip
            if key[0] not in self.students:
                self._refuse(sheet, row_no, "学号", self._unknown_student(key[0]))
                continue
            try:
                shown, points, failed = score_of(values["成绩"])
            except ValueError as exc:
                self._refuse(sheet, row_no, "成绩",
                             f"成绩“{exc}”无法识别：应为 0–100 的分数，或 优秀、良好、中等、及格、"
                             "不及格、合格、不合格、缺考。")  # fmt: skip
                continue
            retake = values.get("是否重修") or "否"
            yield row_no, key, {
                "成绩": shown, "是否重修": retake, "__points": points, "__failed": failed,
            }, self.results.get(key)  # fmt: skip

    def _quality_assessments(self, sheet, rows):
        from server import quality_assessment as qa

        for row_no, values in rows:
            try:
                values["学年"] = qa.parse_year(values["学年"])
            except qa.AssessmentError as exc:
                self._refuse(sheet, row_no, "学年", str(exc))
                values["__bad"] = True
        rows = [(n, v) for n, v in rows if not v.pop("__bad", False)]
        for row_no, key, values in self._unique(
            sheet, rows, lambda v: (v["学号"], v["学年"]), "学号 + 学年"
        ):
            if key[0] not in self.students:
                self._refuse(sheet, row_no, "学号", self._unknown_student(key[0]))
                continue
            try:
                score = qa.parse_score(values["分数"])
            except qa.AssessmentError as exc:
                self._refuse(sheet, row_no, "分数", str(exc))
                continue
            yield row_no, key, {
                "分数": _shown(score), "等级": values["等级"], "__score": score,
            }, self.assessments.get(key)  # fmt: skip

    def _timetable(self, sheet, rows):
        planned_courses = {key for key, _, _ in self.plan.rows.get("课程", [])}
        for row_no, values in rows:
            try:
                values["星期"] = weekday_of(values["星期"])
            except ValueError as exc:
                self._refuse(sheet, row_no, "星期", f"星期“{exc}”无法识别：应为 1–7 或 一、二……日。")
                values["__bad"] = True
                continue
            try:
                values["起止周"] = "{}-{}".format(*weeks_of(values["起止周"]))
            except ValueError as exc:
                self._refuse(sheet, row_no, "起止周",
                             f"起止周“{exc}”无法识别：应为 1-16 这样的周次（1 至 {MAX_WEEKS}）。")  # fmt: skip
                values["__bad"] = True
        rows = [(n, v) for n, v in rows if not v.pop("__bad", False)]
        for row_no, key, values in self._unique(
            sheet, rows,
            lambda v: (v["班级名称"], v["课程名称"], v.get("学期") or self.this_semester,
                       v["星期"], v["节次"]),
            "班级 + 课程 + 学期 + 星期 + 节次",
        ):  # fmt: skip
            if key[0] not in self.classes:
                self._refuse(sheet, row_no, "班级名称", f"没有名为“{key[0]}”的班级。")
                continue
            if key[:2] not in self.class_courses and key[:2] not in planned_courses:
                self._refuse(sheet, row_no, "课程名称",
                             f"班级“{key[0]}”没有课程“{key[1]}”：请先在课程表中导入。")  # fmt: skip
                continue
            if len(key[4]) > 20:
                self._refuse(sheet, row_no, "节次", "节次太长（最多 20 个字）。")
                continue
            values.pop("星期", None)
            values.pop("节次", None)
            yield row_no, key, {"起止周": values["起止周"]}, self.slots.get(key)


# --- writing ---------------------------------------------------------------------------------


def write_course_results(db: Session, rows) -> None:
    student = dict(db.execute(select(Student.student_number, Student.id)).all())
    new, changed = [], []
    for key, values, id_ in rows:
        fields = {
            "score": values["成绩"], "points": values["__points"], "failed": values["__failed"],
            "retake": values["是否重修"] == "是",
        }  # fmt: skip
        if id_ is None:
            new.append({"student_id": student[key[0]], "semester": key[1], "course": key[2],
                        **fields})  # fmt: skip
        else:
            changed.append({"id": id_, **fields})
    if new:
        db.execute(insert(CourseResult), new)
    if changed:
        db.execute(update(CourseResult), changed)


def write_timetable(db: Session, rows) -> None:
    links = {
        (class_name, course_name): id_
        for id_, class_name, course_name in db.execute(
            select(ClassCourse.id, SchoolClass.name, Course.name)
            .join(SchoolClass, SchoolClass.id == ClassCourse.class_id)
            .join(Course, Course.id == ClassCourse.course_id)
        )
    }
    new, changed = [], []
    for key, values, id_ in rows:
        first, last = (int(n) for n in values["起止周"].split("-"))
        if id_ is None:
            new.append({
                "class_course_id": links[key[:2]], "semester": key[2], "weekday": key[3],
                "periods": key[4], "first_week": first, "last_week": last,
            })  # fmt: skip
        else:
            changed.append({"id": id_, "first_week": first, "last_week": last})
    if new:
        db.execute(insert(TimetableSlot), new)
    if changed:
        db.execute(update(TimetableSlot), changed)


def write_quality_assessments(db: Session, rows) -> None:
    student = dict(db.execute(select(Student.student_number, Student.id)).all())
    now = clock.now()
    new, changed = [], []
    for key, values, id_ in rows:
        fields = {"score": values["__score"], "level": values["等级"], "updated_at": now}
        if id_ is None:
            new.append({"student_id": student[key[0]], "school_year": key[1], **fields})
        else:
            changed.append({"id": id_, **fields})
    if new:
        db.execute(insert(QualityAssessment), new)
    if changed:
        db.execute(update(QualityAssessment), changed)
