"""What a request may carry besides a record's payload: bounded ids, dates, form text, JSON.

Every id in the database is a PostgreSQL `INTEGER` (SQLite takes 64 bits), change and
mutation numbers are `BIGINT`: a number beyond the column makes the driver raise instead of
finding nothing, so ids are bounded where they come in — path and query parameters through
the types below (Litestar answers 400, errors.py words it), form fields through `form_id`.

Dates are bounded too: the calendar ends at 9999-12-31 and a week or a semester around
such a date overflows `datetime.date`. No college date lies outside `MIN_DATE`–`MAX_DATE`.

Form text: NUL is refused (PostgreSQL cannot store it in text), the other C0 controls that
Excel cannot store (U+000B arrives from Word's clipboard) are removed; a field posted twice
where one value is expected is refused rather than guessed.

`screen_request` runs before every handler: a NUL in the path is a 404 (the static files
would crash on it), and a JSON body nested deeper than `MAX_JSON_DEPTH` is refused before
msgspec, whose decoder recurses, ever sees it.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import accumulate
from typing import Annotated, Any

from litestar import Request
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Parameter

MAX_INT32 = 2**31 - 1  # PostgreSQL INTEGER: every id column, revisions
MAX_INT64 = 2**63 - 1  # BIGINT: change numbers (entries.seq), mutation numbers
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2099, 12, 31)
MAX_JSON_DEPTH = 200  # far below where msgspec's recursion fails (~1,000); each kind refuses
# nesting deeper than entries.MAX_NESTING in its own mutation, so a push is refused whole only
# when it could not be decoded at all

# Path and query parameters (Litestar validates these and answers 400 when out of range).
# 0 is let through: no row has it, so it is the handler's 404 after its permission check
# (tests/test_authorization.py asks for /…/0 and expects 403 or 404 in that order).
Id = Annotated[int, Parameter(ge=0, le=MAX_INT32)]
OptionalId = Annotated[int | None, Parameter(ge=0, le=MAX_INT32)]
ChangeNo = Annotated[int, Parameter(ge=0, le=MAX_INT64)]

_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: "²".isdigit() and int("٣") are true/3
# C0 controls but tab, line feed and carriage return: openpyxl's ILLEGAL_CHARACTERS_RE
# without NUL, which is refused instead of dropped
_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")


class BadInput(ClientException):
    """A parameter or form field that cannot be used; the detail (Chinese) is shown."""

    status_code = 400


# ---------------------------------------------------------------- numbers


def as_id(value: Any) -> int | None:
    """An id typed in a form or a query: ASCII digits within INTEGER, else None."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_INT32 else None


def form_id(data: dict, name: str) -> int | None:
    """One id field of a form: None when blank; anything else that is not an id, or the
    field posted twice, is refused (a tampered form is not an empty choice)."""
    text = one(data, name).strip()
    if not text:
        return None
    number = as_id(text)
    if number is None:
        raise BadInput(f"“{name}”不是有效的编号：{text[:20]}")
    return number


def form_ids(data: dict, name: str) -> list[int]:
    """A field that may repeat (checkboxes, multiple selects): its ids, in order; any value
    that is not an id is refused, so a tampered form cannot pass as an empty choice."""
    ids = []
    for value in many(data, name):
        number = as_id(value)
        if number is None:
            raise BadInput(f"“{name}”中有无法识别的编号：{str(value)[:20]}")
        ids.append(number)
    return ids


# ---------------------------------------------------------------- dates


def check_date(day: date, label: str = "日期", error: type[Exception] = BadInput) -> date:
    if not MIN_DATE <= day <= MAX_DATE:
        raise error(f"{label}应在 {MIN_DATE:%Y-%m-%d} 至 {MAX_DATE:%Y-%m-%d} 之间：{day:%Y-%m-%d}")
    return day


def parse_date(text: Any, label: str = "日期", error: type[Exception] = BadInput) -> date:
    """A date typed as 2026-12-01, within the college's calendar; raises `error` with a
    message to show (BadInput by default; an area passes its own, e.g. RosterError)."""
    if isinstance(text, list):
        raise error(f"{label}只能填写一个。")
    shown = str(text).strip()[:20]
    try:
        day = date.fromisoformat(str(text).strip())
    except ValueError:
        raise error(f"无法识别的{label}：{shown}（应为 2026-12-01 这样的格式）") from None
    return check_date(day, label, error)


# ---------------------------------------------------------------- form fields


def one(data: dict, name: str, default: str = "") -> str:
    """One text field of a form, cleaned (see `clean`); a field posted twice is refused."""
    value = data.get(name, default)
    if isinstance(value, list):
        raise BadInput(f"表单字段“{name}”只能有一个值。")
    if value is None:
        return default
    return clean(str(value), name)


def many(data: dict, name: str) -> list[str]:
    """A field that may repeat: its non-blank values, cleaned."""
    value = data.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [clean(str(v), name) for v in values if v not in ("", None)]


def clean(text: str, name: str = "") -> str:
    """Refuse NUL (PostgreSQL cannot store it); drop the controls Excel cannot store."""
    if "\x00" in text:
        where = f"“{name}”" if name else "内容"
        raise BadInput(f"{where}中含有无法保存的控制字符（NUL），请删除后重试。")
    return _CONTROLS.sub("", text)


# ---------------------------------------------------------------- the request itself


def too_deep(body: bytes) -> bool:
    """Whether arrays and objects nest deeper than MAX_JSON_DEPTH (brackets in strings do
    not count). Counting brackets first keeps the usual body in C code."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    if b"\\" in body or body.count(b'"') % 2:
        brackets = _STRING.sub(b"", body).translate(None, _NOT_A_BRACKET)
    else:
        # no escapes: the strings lie between every other pair of quotes, also once all
        # but the quotes and brackets are gone (which leaves a batch's body a tenth as long)
        marks = body.translate(None, _NOT_A_BRACKET_OR_QUOTE)
        brackets = b"".join(marks.split(b'"')[::2])
    # each pass takes away the innermost pairs: a well-formed body is gone after as many
    # passes as it is deep (a handful), in C; anything else is counted bracket by bracket
    left = brackets
    for _ in range(MAX_JSON_DEPTH):
        if not left:
            return False
        left = _PAIR.sub(b"", left)
    if not left:
        return False
    steps = (1 if b in b"[{" else -1 for b in brackets)
    return max(accumulate(steps, initial=0)) > MAX_JSON_DEPTH


# a JSON string, written so that runs of plain characters are taken at once (a body of
# 100 dorm visits in a third of the time of the one-character-at-a-time form)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_A_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"')
_PAIR = re.compile(rb"\[\]|\{\}")


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def screen_request(request: Request) -> None:
    """Before every handler: refuse what would crash a library further down."""
    if "\x00" in request.scope["path"]:
        raise NotFoundException("这个地址不存在，请从首页进入。")
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        # a photo's bytes (POST /sync/photos) are never decoded as JSON
        is_image = content_type.startswith("image/")
        if content_type not in _FORMS and not is_image and too_deep(await request.body()):
            raise ClientException(
                status_code=422, detail=f"内容嵌套超过 {MAX_JSON_DEPTH} 层，无法处理。"
            )
