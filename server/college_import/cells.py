"""One cell to one value, as a person meant it rather than as Excel stored it.

Excel turns 学号 and phone numbers into numbers (`2023010101.0`, leading zeros gone), people
type full-width digits (２０２３) and spaces (　) and paste names with spaces around them.
Names keep their characters (a class called 计算机2401班（中职） keeps its full-width
brackets, or importing it again would make a second class); codes, numbers and phone
numbers are NFKC-normalised.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

EXACT_FLOAT_DIGITS = 15  # a float holds 15 significant digits; longer numbers were rounded
CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.\-]{0,19}")
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")


class CellError(ValueError):
    """The Chinese reason a cell cannot be read; the checker adds sheet, row and column."""


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value) -> str:
    """A name or a title: spaces of any width around it go, runs of spaces inside become one."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return " ".join(str(value).split())


def code(value, what: str) -> tuple[str, bool]:
    """学号 or 工号 → (code, stored_as_number). A number may have lost leading zeros: the
    caller compares it with the column's other codes."""
    if isinstance(value, bool):
        raise CellError(f"{what}不是有效的编号。")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(f"{what}“{value}”不是整数编号。")
        digits = str(int(value))
        if len(digits) > EXACT_FLOAT_DIGITS:
            raise CellError(
                f"{what}“{digits}”超过 {EXACT_FLOAT_DIGITS} 位，Excel 已把它当作数字改动了末尾几位："
                "请把该列设为文本格式后重新填写。"
            )
        return digits, True
    raw = "".join(unicodedata.normalize("NFKC", str(value)).split())
    if raw.endswith(".0") and raw[:-2].isdigit():  # a number pasted as text: 2023010101.0
        return raw[:-2], True
    if not CODE.fullmatch(raw):
        raise CellError(f"{what}“{raw}”只能由字母和数字组成（最多 20 位）。")
    return raw, False


def integer(value, what: str, lowest: int, highest: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        raw = "".join(unicodedata.normalize("NFKC", value).split())
        if raw.endswith(".0"):
            raw = raw[:-2]
        value = int(raw) if raw.isdigit() else raw
    if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= highest:
        raise CellError(f"{what}应为 {lowest} 到 {highest} 之间的整数，而不是“{text(value)}”。")
    return value


def phone(value, what: str) -> str:
    """A mobile (11 digits from 1) or a landline with its area code (0571-88886666)."""
    from_number = isinstance(value, int | float) and not isinstance(value, bool)
    if from_number:
        if isinstance(value, float) and not value.is_integer():
            raise CellError(f"{what}“{value}”不是电话号码。")
        raw = str(int(value))
    else:
        raw = "".join(unicodedata.normalize("NFKC", str(value)).split())
        raw = re.sub(r"[()]", "", raw)
        if raw.endswith(".0") and raw[:-2].isdigit():
            raw, from_number = raw[:-2], True
    if raw.startswith("+86"):
        raw = raw[3:].lstrip("-")
    if MOBILE.fullmatch(raw.replace("-", "")):
        return raw.replace("-", "")
    if LANDLINE.fullmatch(raw):
        return raw
    if from_number and raw[:1] in "123456789" and LANDLINE.fullmatch("0" + raw):
        raise CellError(
            f"{what}“{raw}”是数字，少了区号开头的 0（Excel 去掉了它）：请把该列设为文本格式后重新填写。"
        )
    raise CellError(f"{what}“{raw}”不是有效的电话号码（手机 11 位，座机如 0571-88886666）。")


def choice(value, what: str, choices: tuple[str, ...]) -> str:
    raw = "".join(unicodedata.normalize("NFKC", text(value)).split())
    if raw not in choices:
        raise CellError(f"{what}“{raw}”不是可选值（可填：{' / '.join(choices)}）。")
    return raw


def roles(value, choices: tuple[str, ...]) -> frozenset[str]:
    """Several roles in one cell, separated by 、 , ， ; or spaces."""
    parts = [p for p in re.split(r"[、,，;；/\s]+", text(value)) if p]
    unknown = [p for p in parts if p not in choices]
    if unknown:
        raise CellError(
            f"没有“{'、'.join(unknown)}”这个角色（可填：{' / '.join(choices)}，多个用 、 分隔）。"
        )
    return frozenset(parts)
