"""查找学生 in a real browser: as-you-type results for pinyin initials, and the same search
without signal over the students 准备巡查 cached (/students/offline, web/static/students.js)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from server.models import SchoolClass, Student
from tests.browser.conftest import log_in
from tests.browser.test_offline import phone, prepare_for_rounds, watched
from tests.conftest import user_named

__all__ = ["phone"]  # the fixture, used by the tests below

NAME = "郑宇强"


@pytest.fixture
def zheng(sessionmaker):
    """郑宇强, a 在读 student of teacher1's class (counselor1 covers every class)."""
    with sessionmaker() as db:
        teacher1 = user_named(db, "teacher1")
        class_id = db.scalar(
            select(SchoolClass.id).where(SchoolClass.class_teacher_id == teacher1.id).limit(1)
        )
        student = Student(student_number="B9900001", name=NAME, gender="男", class_id=class_id)
        db.add(student)
        db.commit()
        student_id = student.id
    yield student_id
    with sessionmaker() as db:
        db.execute(delete(Student).where(Student.id == student_id))
        db.commit()


def test_typing_zyq_finds_zheng_yuqiang_as_you_type(phone, zheng):
    errors: list[str] = []
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    page.goto("/students")
    page.get_by_label("姓名、学号或拼音").press_sequentially("zyq", delay=50)
    found = page.locator(f'#student-results [data-student-id="{zheng}"]')
    expect(found).to_contain_text(NAME)
    found.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)
    expect(page.get_by_role("link", name="谈心谈话")).to_have_attribute(
        "href", f"/records/new/talk?student={zheng}"
    )
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_after_preparing_rounds_the_search_works_offline(phone, zheng):
    errors: list[str] = []
    page = watched(phone.new_page(), errors)
    log_in(page, "teacher1")
    prepare_for_rounds(page)

    phone.set_offline(True)
    page.goto("/students")  # the search page needs the server: the prepared list answers
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    expect(page.get_by_role("heading", level=1)).to_have_text("离线查找学生")
    page.get_by_label("姓名、学号或拼音").press_sequentially("zyq", delay=50)
    mine = page.locator(f'[data-offline-students] [data-student-id="{zheng}"]')
    expect(mine).to_be_visible()
    expect(page.locator("[data-offline-status]")).to_contain_text("找到")
    # everyone shown matches: no other student's initials start with zyq … unless they do
    for item in page.locator("[data-offline-students] li:visible").all():
        assert (item.get_attribute("data-initials") or "").startswith("zyq")
    page.get_by_label("姓名、学号或拼音").fill("zhengyuqiang")
    expect(mine).to_be_visible()
    page.get_by_label("姓名、学号或拼音").fill("没有这个人")
    expect(page.locator("[data-offline-none]")).to_be_visible()
    phone.set_offline(False)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
