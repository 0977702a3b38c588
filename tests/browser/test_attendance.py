"""检查上课 on a phone (issue 4 acceptance): teacher1, on a 390×844 screen and without signal,
taps three students to absent / late / leave, sees the counts follow, saves; back online, the
check reaches the server once with those three marks.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import attendance
from server.clock import today
from server.models import Entry, SchoolClass
from tests.browser.conftest import log_in, poll
from tests.browser.test_offline import (
    SYNC_TIMEOUT_MS,
    badge,
    phone,  # noqa: F401  (the fixture: a fresh phone per test)
    prepare_for_rounds,
    watched,
)
from tests.conftest import user_named


def checks_with_note(db: Session, class_id: int, note: str) -> list[Entry]:
    db.rollback()  # a fresh snapshot each time
    rows = db.scalars(
        select(Entry).where(Entry.kind == attendance.KIND, Entry.class_id == class_id)
    )
    return [e for e in rows if e.payload.get("note") == note]


def tap(page: Page, student_id: int, times: int) -> None:
    button = page.locator("ul.roster li").filter(
        has=page.locator(f'input[name="mark_{student_id}"]')
    )
    for _ in range(times):
        button.get_by_role("button").click()


def count(page: Page, name: str):
    return page.locator(f'[data-count="{name}"]')


def test_teacher1_checks_a_class_offline_and_it_arrives_once(phone, db):  # noqa: F811
    teacher = user_named(db, "teacher1")
    school_class = db.scalar(select(SchoolClass).where(SchoolClass.class_teacher_id == teacher.id))
    students = attendance.roster(db, school_class.id)
    absent, late, leave = students[5], students[6], students[7]
    note = f"离线查课 {uuid.uuid4().hex[:8]}"  # unique per run: a retry never counts an old one
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    assert page.viewport_size == {"width": 390, "height": 844}
    log_in(page, "teacher1")
    prepare_for_rounds(page)
    expect(page.locator("[data-prepare-summary]")).to_contain_text("1 个班级的查课表")

    phone.set_offline(True)
    page.goto(f"/classes/{school_class.id}/attendance/new")
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    expect(count(page, "expected")).to_have_text(str(len(students)))
    expect(count(page, "attended")).to_have_text(str(len(students)))

    tap(page, absent.id, 1)  # 缺勤
    tap(page, late.id, 2)  # 迟到
    tap(page, leave.id, 3)  # 请假
    expect(count(page, "absent")).to_have_text("1")
    expect(count(page, "late")).to_have_text("1")
    expect(count(page, "leave")).to_have_text("1")
    expect(count(page, "attended")).to_have_text(str(len(students) - 2))
    expect(page.locator(f'input[name="mark_{late.id}"]')).to_have_value("late")

    page.get_by_label("节次").select_option(label="第5-6节")
    page.get_by_label("备注").fill(note)
    page.get_by_role("button", name="保存查课记录").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存，联网后自动同步")
    expect(badge(page)).to_have_text("1 条待同步")
    assert checks_with_note(db, school_class.id, note) == [], "the offline save reached the server"

    phone.set_offline(False)
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    arrived = poll(
        lambda: checks_with_note(db, school_class.id, note),
        timeout=SYNC_TIMEOUT_MS / 1000,
        what="the offline attendance check on the server",
    )
    assert len(arrived) == 1, f"{len(arrived)} copies of one offline check"
    (check,) = arrived
    assert check.author_id == teacher.id
    assert check.payload["marks"] == {
        str(absent.id): "absent",
        str(late.id): "late",
        str(leave.id): "leave",
    }
    assert check.payload["period"] == "5-6"
    assert check.payload["date"] == today().isoformat()
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
