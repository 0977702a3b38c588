"""The workbook's contract: sheet names, their Chinese headers, and the template.

This is public (docs/import.md describes it): colleges fill it from their own systems, so a
header is never renamed; new optional columns may be added. Extra columns are ignored and
columns may come in any order. A sheet's key columns find the row it updates (natural keys),
so importing the same workbook twice changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

ROLE_NAMES = ("辅导员", "班主任", "系部学生工作负责人", "学工部", "管理员")
GRADE_NAMES = ("特殊", "重点", "一般")
STATUS_NAMES = ("在读", "休学", "退学", "毕业")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str  # text, code (学号, 工号: digits kept as typed), phone, int, choice, roles
    required: bool = False  # the column must be there and the cell filled
    key: bool = False  # part of the row's natural key
    choices: tuple[str, ...] = ()
    note: str = ""  # shown in the template's second row and in docs/import.md
    width: int = 14


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    note: str

    @property
    def headers(self) -> set[str]:
        return {c.header for c in self.columns}


def _sheets(*sheets: Sheet) -> dict[str, Sheet]:
    return {s.name: s for s in sheets}


# in the order they are checked and applied: each sheet may refer to the ones before it
SHEETS = _sheets(
    Sheet("系部", (Column("系部名称", "text", True, True, width=20),), "学院的系部"),
    Sheet(
        "教职工",
        (
            Column("工号", "code", True, True, note="登录用户名"),
            Column("姓名", "text", True),
            Column("系部", "text", note="辅导员、班主任、系部负责人必填"),
            Column("角色", "roles", True, choices=ROLE_NAMES, note="多个用 、 或 , 分隔", width=24),
            Column("手机", "phone"),
        ),
        "导入后账号没有可用密码，由管理员发放一次性密码",
    ),
    Sheet(
        "班级",
        (
            Column("班级名称", "text", True, True, width=20),
            Column("入学年份", "int", True, note="如 2024"),
            Column("专业", "text", True, width=20),
            Column("系部", "text", True),
            Column("辅导员工号", "code", True),
            Column("班主任工号", "code", note="留空：不设班主任，由辅导员兼任"),
        ),
        "班级名称全校唯一",
    ),
    Sheet(
        "学生",
        (
            Column("学号", "code", True, True),
            Column("姓名", "text", True),
            Column("性别", "choice", True, choices=("男", "女")),
            Column("班级名称", "text", True, width=20),
            Column("联系等级", "choice", choices=GRADE_NAMES, note="留空为一般"),
            Column("手机", "phone"),
            Column("状态", "choice", choices=STATUS_NAMES, note="留空为在读"),
        ),
        "学号请设为文本格式，以免 Excel 去掉开头的 0",
    ),
    Sheet(
        "家长",
        (
            Column("学号", "code", True, True),
            Column("姓名", "text", True, True),
            Column("关系", "text", True, note="父亲、母亲、祖父……"),
            Column("电话", "phone"),
        ),
        "一名学生可有多位家长，按学号 + 家长姓名识别",
    ),
    Sheet(
        "宿舍",
        (
            Column("楼栋", "text", True, True),
            Column("房间号", "code", True, True),
            Column("床位数", "int", True),
            Column("性别", "choice", choices=("男", "女"), note="男生或女生宿舍"),
        ),
        "按楼栋 + 房间号识别",
    ),
    Sheet(
        "床位",
        (
            Column("学号", "code", True, True),
            Column("楼栋", "text", True),
            Column("房间号", "code", True),
            Column("床号", "int", True, note="1 到该宿舍的床位数"),
        ),
        "每名学生一个床位；调换床位时，被占床位的学生也要在本表中安排",
    ),
    Sheet(
        "课程",
        (
            Column("班级名称", "text", True, True, width=20),
            Column("课程名称", "text", True, True, width=20),
            Column("任课教师", "text", True),
            Column("教师电话", "phone"),
            Column("专业基础课", "choice", choices=("是", "否"), note="留空为否"),
        ),
        "按班级 + 课程名称识别",
    ),
)

# the semester's sheets, after the college's (server/college_import/semester_sheets.py):
# last semester's results (§1.7) and this semester's timetable (§2.6.1)
YES_NO = ("是", "否")
SHEETS |= _sheets(
    Sheet(
        "成绩",
        (
            Column("学号", "code", True, True),
            Column("课程名称", "text", True, True, width=20),
            Column("成绩", "text", True, note="0–100 的分数，或 优秀/良好/中等/及格/不及格/合格/不合格/缺考"),
            Column("是否重修", "choice", choices=YES_NO, note="留空为否"),
            Column("学期", "text", key=True, note="留空：上一学期", width=24),
        ),
        "上学期的成绩，按学号 + 学期 + 课程名称识别（§1.7 开学一个月内统计分析）",
    ),
    Sheet(
        "课表",
        (
            Column("班级名称", "text", True, True, width=20),
            Column("课程名称", "text", True, True, width=20),
            Column("星期", "text", True, True, note="1–7 或 一…日"),
            Column("节次", "text", True, True, note="如 1-2"),
            Column("起止周", "text", True, note="如 1-16"),
            Column("学期", "text", key=True, note="留空：本学期", width=24),
        ),
        "课程须已在课程表（或系统）中；是否专业基础课由课程表的“专业基础课”列决定（§2.6.1）",
    ),
)

# 综合素质测评 (§1.6), server/quality_assessment.py: the class committee's results
SHEETS |= _sheets(
    Sheet(
        "综合测评",
        (
            Column("学号", "code", True, True),
            Column("学年", "text", True, True, note="如 2025-2026"),
            Column("分数", "text", True, note="0–100"),
            Column("等级", "choice", True, choices=("优秀", "良好", "合格", "不合格")),
        ),
        "学生综合素质测评结果，按学号 + 学年识别（§1.6）；已提交系部的班级照样更新",
    ),
)

HEADER_FILL = PatternFill("solid", fgColor="DDEBDD")


def template() -> bytes:
    """The empty workbook to fill: one sheet per table, a header row, a row of notes.

    Every column is formatted as text, so Excel keeps 学号 and phone numbers as typed
    (leading zeros included). The notes row is recognised and skipped on import.
    """
    book = Workbook()
    book.remove(book.active)
    for sheet in SHEETS.values():
        ws = book.create_sheet(sheet.name)
        for j, column in enumerate(sheet.columns, start=1):
            head = ws.cell(row=1, column=j, value=column.header)
            head.font = Font(bold=True, color="9C0006" if column.required else "000000")
            head.fill = HEADER_FILL
            note = column.note or ("必填" if column.required else "")
            if column.choices:
                note = (note + "；" if note else "") + "可填：" + " / ".join(column.choices)
            cell = ws.cell(row=2, column=j, value=NOTE_PREFIX + note if note else NOTE_PREFIX)
            cell.font = Font(italic=True, color="808080")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            dimension = ws.column_dimensions[get_column_letter(j)]
            dimension.width = column.width
            dimension.number_format = "@"  # text: what is typed stays as typed
        ws.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


NOTE_PREFIX = "说明："  # the template's notes row starts with this in its first cell
