"""Pinyin keys of a name, for search: 郑宇强 → ("zhengyuqiang", "zyq").

Stored on students (`Student.pinyin_full`, `Student.pinyin_initials`, filled when a student
is written) so a search over a department of thousands is one indexed query; the same keys
travel in 准备巡查's offline student list, where web/static/students.js filters them.
Polyphonic characters get pypinyin's usual reading (its phrase table for names is good
enough for search; a wrong reading only means typing the name or 学号 instead).
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

MAX_NAME = 50  # Student.name's length


def _letters(parts: list[str]) -> str:
    # ü is written v on a keyboard; anything else that is not a–z (digits, '·', spaces) goes
    return "".join(ch for ch in "".join(parts).lower().replace("ü", "v") if "a" <= ch <= "z")


def keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials), lowercase, without tones, spaces or punctuation. Latin letters
    in a name are kept as they are (a name "Anna" gives ("anna", "anna"))."""
    name = (name or "")[:MAX_NAME]
    full = _letters(lazy_pinyin(name, style=Style.NORMAL, errors="default"))
    initials = _letters(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default"))
    return full, initials
