"""Writing stored text into Excel sheets (the work log, the duty roster): every openpyxl
export appends its rows through `append`.

Stored text is what people typed, so two things are made safe on the way in:
- characters an .xlsx cannot hold (C0 controls such as U+000B from Word's clipboard) are
  removed; openpyxl would otherwise raise IllegalCharacterError and the export fail;
- text starting with `=`, `+`, `-` or `@` is written as text with Excel's quote prefix, so a
  comment like `=HYPERLINK(…)` is never a live formula (openpyxl turns "=…" into one), and
  stays text when someone edits the cell in Excel. Text such as "#N/A" stays text too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@")


def text(value: str) -> str:
    """The text without the characters a worksheet cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def append(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row; text cells are cleaned and kept as text (see the module's docstring)."""
    sheet.append([text(v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.data_type != "s":  # a formula or an error code
            cell.data_type = "s"
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
