"""Real files are messy: what Excel and people do to a workbook, and files that are not one."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from server.college_import import MAX_BYTES, Unreadable, import_workbook, template
from server.college_import.reading import read
from tests.test_import_fixtures import college, counts, csv_bytes, student, xlsx

# the import database and its fixtures (empty, import_client …)
pytest_plugins = ["tests.test_import_fixtures"]

STUDENTS_HEADER = ["学号", "姓名", "性别", "班级名称", "联系等级", "手机", "状态"]


def base(db):
    """The small college without its students, beds and guardians, already imported."""
    sheets = college()
    for name in ("学生", "家长", "床位"):
        sheets.pop(name)
    assert import_workbook(db, xlsx(sheets), "base.xlsx").applied


def students_book(*rows, header=STUDENTS_HEADER, before=()) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "学生"
    for row in before:
        ws.append(row)
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def errors(result) -> list[tuple]:
    return [(e.sheet, e.row, e.column) for e in result.preview.errors]


def test_numbers_that_were_typed_as_codes_and_phones_read_as_typed(empty):
    base(empty)
    book = students_book([2024010101, "张一", "男", "2024级软件1班", None, 13900000001, None],
                         ["2024010102.0", "李二", "女", "2024级软件1班", None, 13900000002.0, None])  # fmt: skip
    assert import_workbook(empty, book, "学生.xlsx").applied
    assert student(empty, "2024010101").phone == "13900000001"
    assert student(empty, "2024010102").phone == "13900000002"


def test_a_number_that_lost_its_leading_zeros_is_an_error_not_a_new_student(empty):
    base(empty)
    book = students_book(["0240101", "张一", "男", "2024级软件1班", None, None, None],
                         ["0240102", "李二", "女", "2024级软件1班", None, None, None],
                         [240103, "王三", "男", "2024级软件1班", None, None, None])  # fmt: skip
    result = import_workbook(empty, book, "学生.xlsx")
    assert errors(result) == [("学生", 4, "学号")]
    assert "开头的 0" in result.preview.errors[0].message
    assert counts(empty)["students"] == 0


def test_a_number_matching_a_zero_padded_student_is_an_error(empty):
    base(empty)
    book = students_book(["0240101", "张一", "男", "2024级软件1班", None, None, None])
    assert import_workbook(empty, book, "学生.xlsx").applied
    guardians = xlsx({"家长": [["学号", "姓名", "关系", "电话"], [240101, "张父", "父亲", None]]})
    result = import_workbook(empty, guardians, "家长.xlsx")
    assert errors(result) == [("家长", 2, "学号")]
    assert "0240101" in result.preview.errors[0].message


def test_a_number_longer_than_excel_keeps_exactly_is_an_error(empty):
    base(empty)
    result = import_workbook(
        empty,
        students_book([1234567890123456789, "张一", "男", "2024级软件1班", None, None, None]),
        "x.xlsx",
    )
    assert errors(result) == [("学生", 2, "学号")] and "15 位" in result.preview.errors[0].message


def test_a_landline_that_lost_its_zero_is_an_error(empty):
    base(empty)
    result = import_workbook(
        empty,
        students_book(["2024010101", "张一", "男", "2024级软件1班", None, 57188886666, None]),
        "x.xlsx",
    )
    assert (
        errors(result) == [("学生", 2, "手机")]
        and "区号开头的 0" in result.preview.errors[0].message
    )


def test_full_width_digits_and_spaces_around_names_are_read_as_meant(empty):
    base(empty)
    book = students_book(
        [
            "２０２４ ０１０１０１",
            "　张一 ",
            " 男",
            " 2024级软件1班　",
            "重点 ",
            "１３９ ０００ ００００１",
            " 在读",
        ]
    )
    assert import_workbook(empty, book, "x.xlsx").applied
    s = student(empty, "2024010101")
    assert (s.name, s.gender, s.phone, s.school_class.name) == (
        "张一",
        "男",
        "13900000001",
        "2024级软件1班",
    )


def test_empty_rows_are_skipped_and_errors_keep_excel_row_numbers(empty):
    base(empty)
    book = students_book(["2024010101", "张一", "男", "2024级软件1班", None, None, None], [],
                         [None, "  ", None], ["2024010102", "李二", "女", "没有的班", None, None, None])  # fmt: skip
    result = import_workbook(empty, book, "x.xlsx")
    assert errors(result) == [("学生", 5, "班级名称")]


def test_a_title_row_and_merged_header_cells_are_understood(empty):
    base(empty)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "学生"
    ws["A1"] = "2024 级学生名单"
    ws.merge_cells("A1:H1")
    ws.append([])
    ws.append(["学号", "姓名", "性别", "班级名称", "联系等级", "手机", None, "状态"])
    ws.merge_cells("F3:G3")  # 手机 over two columns, as a header cell often is
    ws.append(["2024010101", "张一", "男", "2024级软件1班", "", "13900000001", "", "休学"])
    out = io.BytesIO()
    book.save(out)
    result = import_workbook(empty, out.getvalue(), "名单.xlsx")
    assert result.applied, result.preview.errors
    assert student(empty, "2024010101").status.value == "suspended"


def test_extra_columns_are_ignored_and_columns_come_in_any_order(empty):
    base(empty)
    book = students_book(
        ["备注", "2024级软件1班", "张一", "2024010101", "男"],
        header=["说明列", "班级名称", "姓名", "学号", "性别"],
    )
    assert import_workbook(empty, book, "x.xlsx").applied
    assert student(empty, "2024010101").name == "张一"


def test_sheets_with_other_names_are_ignored_and_listed(empty):
    sheets = college()
    sheets["填写说明"] = [["请按模板填写"]]
    result = import_workbook(empty, xlsx(sheets), "x.xlsx")
    assert result.applied and result.preview.ignored == ["填写说明"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_of_one_sheet_in_utf8_or_gbk_is_read(empty, encoding):
    base(empty)
    rows = [STUDENTS_HEADER, ["2024010101", "张一", "男", "2024级软件1班", "", "", ""]]
    assert import_workbook(empty, csv_bytes(rows, encoding), "学生.csv").applied
    assert student(empty, "2024010101").name == "张一"


def test_a_csv_names_its_sheet_by_option_when_its_file_name_does_not(empty):
    base(empty)
    rows = csv_bytes([STUDENTS_HEADER, ["2024010101", "张一", "男", "2024级软件1班", "", "", ""]])
    with pytest.raises(Unreadable, match="请选择它是哪张表"):
        import_workbook(empty, rows, "export.csv")
    assert import_workbook(empty, rows, "export.csv", sheet="学生").applied
    with pytest.raises(Unreadable, match="没有名为“奖学金”的表"):
        import_workbook(empty, rows, "export.csv", sheet="奖学金")


def test_the_template_filled_in_imports(empty):
    book = openpyxl.load_workbook(io.BytesIO(template()))
    assert [n for n in book.sheetnames if n in college()] == list(college())  # and the semester sheets
    for name, rows in college().items():
        assert [c.value for c in book[name][1]] == rows[0]
        for row in rows[1:]:
            book[name].append(row)
    out = io.BytesIO()
    book.save(out)
    result = import_workbook(empty, out.getvalue(), "导入模板.xlsx")
    assert result.applied and counts(empty)["students"] == 4  # the notes row is not a row


def test_the_template_keeps_what_is_typed_as_text(empty):
    ws = openpyxl.load_workbook(io.BytesIO(template()))["学生"]
    assert ws.column_dimensions["A"].number_format == "@"


UNREADABLE = {
    "an .xls file": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "Workbook".encode("utf-16-le"),
                     "学生.xls", "另存为” .xlsx"),
    # an encrypted .xlsx is an OLE file holding an EncryptionInfo stream (MS-OFFCRYPTO)
    "an encrypted workbook": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
                              + "EncryptionInfo".encode("utf-16-le"), "学院.xlsx", "打开密码"),
    "a picture": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "学院.png", "无法识别的文件"),
    "a Word document": (None, "学院.docx", "不是 Excel 工作簿"),
    "a damaged workbook": (None, "学院.xlsx", "损坏"),
    "an empty file": (b"", "学院.xlsx", "空的"),
    "a workbook without our sheets": (xlsx({"Sheet1": [["a", "b"]]}), "学院.xlsx", "没有可导入的工作表"),
    "a file above 10 MB": (b"PK\x03\x04" + b"\x00" * MAX_BYTES, "学院.xlsx", "超过 10 MB"),
}  # fmt: skip


def _zip(names: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in names.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("case", UNREADABLE, ids=list(UNREADABLE))
def test_a_file_that_is_not_a_readable_workbook_gets_a_chinese_reason(empty, case):
    content, filename, message = UNREADABLE[case]
    if case == "a Word document":
        content = _zip({"word/document.xml": b"<w/>"})
    if case == "a damaged workbook":
        content = _zip({"xl/workbook.xml": b"<not closed", "[Content_Types].xml": b"<x"})
    with pytest.raises(Unreadable, match=message):
        read(content, filename)


def test_a_header_row_that_cannot_be_found_is_an_error_of_the_sheet(empty):
    result = import_workbook(empty, xlsx({"学生": [["名单"], ["张一", "男"]]}), "x.xlsx")
    assert (
        errors(result) == [("学生", None, "")]
        and "找不到表头行" in result.preview.errors[0].message
    )


def test_room_numbers_of_different_lengths_are_not_taken_for_lost_zeros(empty):
    rooms = {"宿舍": [["楼栋", "房间号", "床位数"], ["1号楼", "1101", 4], ["1号楼", 512, 4]]}
    assert import_workbook(empty, xlsx(rooms), "x.xlsx").applied
    assert counts(empty)["rooms"] == 2
