"""From uploaded bytes to tables of cells: .xlsx through python-calamine, .csv as UTF-8 or GBK.

What Excel does to real files is handled here: a title row above the header, merged header
cells, empty rows, cells that are numbers where text was meant. Turning a cell into a value
(full-width digits, lost leading zeros, phone numbers) is `cells.py`'s job.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

import python_calamine

from server.college_import.sheets import NOTE_PREFIX, SHEETS

MAX_BYTES = 10 * 1024 * 1024  # 10 MB: a college of 15,000 students is about 2 MB
HEADER_SEARCH_ROWS = 20  # a header row further down than this is not looked for
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and encrypted .xlsx are OLE files
ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")  # the stream an encrypted .xlsx holds


class Unreadable(Exception):
    """The file cannot be read at all; the message, in Chinese, says why and what to do."""


@dataclass
class Table:
    """One sheet: its header row and the data rows below it, cells as the reader gave them."""

    sheet: str
    header_row: int  # 1-based, as Excel numbers rows
    columns: dict[str, int]  # known header → column index; unknown columns are left out
    rows: list[tuple[int, list]] = field(default_factory=list)  # (row number, cells)
    missing: list[str] = field(default_factory=list)  # required headers not found


@dataclass
class Workbook:
    tables: list[Table]
    ignored: list[str]  # sheets whose name is not one of ours
    problems: list[tuple[str, str]]  # (sheet, message) for a sheet whose header is not found


def read(content: bytes, filename: str, sheet: str | None = None) -> Workbook:
    """Read an .xlsx workbook or a single-sheet .csv; raise Unreadable with the reason."""
    if len(content) > MAX_BYTES:
        raise Unreadable(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
    if not content:
        raise Unreadable("文件是空的。")
    suffix = PurePath(filename or "").suffix.lower()
    if content.startswith(OLE_MAGIC):
        if ENCRYPTED_MARK in content:
            raise Unreadable(
                "工作簿设置了打开密码：请在 Excel 中取消密码（文件 → 信息 → 保护工作簿）后再导入。"
            )
        raise Unreadable(
            "这是旧版 Excel 97-2003（.xls）文件：请在 Excel 中“另存为” .xlsx 后再导入。"
        )
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content)
    if suffix in (".csv", ".txt"):
        return _read_csv(content, _csv_sheet(filename, sheet))
    raise Unreadable("无法识别的文件：请上传 Excel 工作簿（.xlsx）或 CSV 文件（.csv）。")


def sheet_name(raw: str) -> str:
    """Sheet and header names compare without spaces of any width ("学 号", "学生 ")."""
    return "".join(unicodedata.normalize("NFKC", str(raw)).split())


def _read_xlsx(content: bytes) -> Workbook:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            if "xl/workbook.xml" not in zf.namelist():
                raise Unreadable("这个压缩文件不是 Excel 工作簿：请上传 .xlsx 文件。")
    except zipfile.BadZipFile as exc:
        raise Unreadable("文件已损坏，无法作为 Excel 工作簿打开。") from exc
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        tables, ignored, problems = [], [], []
        for name in book.sheet_names:
            known = sheet_name(name)
            if known not in SHEETS:
                ignored.append(name)
                continue
            sheet = book.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False)
            _fill_merged(grid, sheet.merged_cell_ranges or [])
            table = _table(known, grid)
            if table is None:
                problems.append((known, _no_header(known)))
            else:
                tables.append(table)
    except Unreadable:
        raise
    except Exception as exc:  # calamine raises its own errors and a few of Python's on bad XML
        raise Unreadable(
            f"工作簿内容有损坏，无法读取（{type(exc).__name__}）：请在 Excel 中打开后重新保存为 .xlsx。"
        ) from exc
    if not tables and not problems:
        raise Unreadable("工作簿中没有可导入的工作表：工作表应命名为 " + "、".join(SHEETS) + "。")
    return Workbook(tables, ignored, problems)


def _csv_sheet(filename: str, sheet: str | None) -> str:
    if sheet:
        known = sheet_name(sheet)
        if known not in SHEETS:
            raise Unreadable(f"没有名为“{sheet}”的表：应为 " + "、".join(SHEETS) + " 之一。")
        return known
    stem = sheet_name(PurePath(filename or "").stem)
    matches = [name for name in SHEETS if name in stem]
    if len(matches) == 1:
        return matches[0]
    raise Unreadable(
        "CSV 文件只含一张表：请选择它是哪张表（"
        + "、".join(SHEETS)
        + "），或把文件命名为表名，如“学生.csv”。"
    )


def _read_csv(content: bytes, sheet: str) -> Workbook:
    if b"\x00" in content:
        raise Unreadable("这不是文本格式的 CSV 文件。")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")  # GBK and its superset: what Excel in China saves
        except UnicodeDecodeError as exc:
            raise Unreadable("CSV 文件的编码无法识别：请保存为 UTF-8 或 GBK 编码。") from exc
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    grid = list(csv.reader(io.StringIO(text), dialect))
    table = _table(sheet, grid)
    if table is None:
        return Workbook([], [], [(sheet, _no_header(sheet))])
    return Workbook([table], [], [])


def _fill_merged(grid: list[list], ranges) -> None:
    """A merged cell's value belongs to every cell it covers: "手机" over two columns, or a
    header cell merged over two rows, then reads like any other."""
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= len(grid) or r0 >= HEADER_SEARCH_ROWS + 1:
            continue  # merged data cells are left alone: only headers are filled
        value = grid[r0][c0] if c0 < len(grid[r0]) else ""
        for r in range(r0, min(r1 + 1, len(grid))):
            row = grid[r]
            while len(row) <= c1:
                row.append("")
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0) and row[c] in ("", None):
                    row[c] = value


def _table(sheet: str, grid: list[list]) -> Table | None:
    """Find the header row (the first row holding most of the sheet's headers), then the data
    rows under it; empty rows are skipped. None when no row looks like a header."""
    spec = SHEETS[sheet]
    best, best_hits = None, 0
    for i, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        names = {sheet_name(v) for v in row if v not in ("", None)}
        hits = sum(1 for column in spec.columns if column.header in names)
        if hits > best_hits:
            best, best_hits = i, hits
            if hits == len(spec.columns):
                break
    key_headers = {c.header for c in spec.columns if c.key}
    if best is None or not key_headers & {sheet_name(v) for v in grid[best] if v not in ("", None)}:
        return None
    columns: dict[str, int] = {}
    for j, value in enumerate(grid[best]):
        name = sheet_name(value) if value not in ("", None) else ""
        if name in spec.headers and name not in columns:
            columns[name] = j
    table = Table(sheet, best + 1, columns)
    table.missing = [c.header for c in spec.columns if c.required and c.header not in columns]
    wanted = list(columns.values())
    for i in range(best + 1, len(grid)):
        row = grid[i]
        if all(_blank(row[j]) for j in wanted if j < len(row)):
            continue
        if any(
            isinstance(v, str) and v.startswith(NOTE_PREFIX)
            for v in row[:1] + row[min(wanted) : min(wanted) + 1]
        ):
            continue  # the template's notes row
        table.rows.append((i + 1, row))
    return table


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _no_header(sheet: str) -> str:
    keys = "、".join(c.header for c in SHEETS[sheet].columns if c.required)
    return f"找不到表头行：前 {HEADER_SEARCH_ROWS} 行中没有包含“{keys}”的一行。"
