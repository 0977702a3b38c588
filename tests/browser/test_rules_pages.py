"""The rules read as written, in a phone's browser (issue 13): course teachers' phones are
44 px tap-to-call links, the 班会手册 prints without the app's chrome, a group talk waiting in
the outbox counts once on 本周, the new pages' checkboxes are 44 px targets."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from server.models import ClassCourse, CourseTeacher, SchoolClass
from tests.browser.conftest import log_in
from tests.browser.test_offline import phone, prepare_for_rounds, watched
from tests.browser.test_tap_targets import too_small
from tests.conftest import user_named

__all__ = ["phone"]  # the fixture, used below

PHONE = "13900002222"


@pytest.fixture
def teacher(page: Page) -> Page:
    log_in(page, "teacher1")
    return page


@pytest.fixture
def course_teacher_phone(db):
    teacher1 = user_named(db, "teacher1")
    own = db.scalar(select(SchoolClass).where(SchoolClass.class_teacher_id == teacher1.id))
    taught = db.scalar(select(ClassCourse).where(ClassCourse.class_id == own.id).limit(1))
    person = db.get(CourseTeacher, taught.teacher_id)
    before, person.phone = person.phone, PHONE
    db.commit()
    yield own
    db.get(CourseTeacher, taught.teacher_id).phone = before
    db.commit()


def test_course_teachers_phone_is_a_44_px_tap_to_call_link(teacher: Page, course_teacher_phone):
    teacher.goto("/course-teachers")
    call = teacher.locator(f'a[href="tel:{PHONE}"]').first
    expect(call).to_be_visible()
    box = call.bounding_box()
    assert box["height"] >= 43.5 and box["width"] >= 43.5
    assert too_small(teacher) == []


def test_the_class_meeting_handbook_prints_without_the_apps_chrome(
    teacher: Page, course_teacher_phone
):
    teacher.goto(f"/classes/{course_teacher_phone.id}/meetings")
    expect(teacher.get_by_role("heading", name="班会手册")).to_be_visible()
    expect(teacher.locator(".print-only")).to_be_hidden()
    expect(teacher.locator("header.top")).to_be_visible()
    teacher.emulate_media(media="print")
    expect(teacher.locator(".print-only")).to_be_visible()
    expect(teacher.locator(".tabbar")).to_be_hidden()
    expect(teacher.locator("header.top")).to_be_hidden()


def test_the_meeting_form_and_the_task_form_have_no_target_under_44_px(page: Page):
    log_in(page, "leader1")
    page.goto("/records/new/meeting")
    expect(page.locator('input[name="attendee_ids"]').first).to_be_attached()
    assert too_small(page) == []
    page.goto("/tasks")
    expect(page.locator("[data-assign-task]")).to_be_visible()
    assert too_small(page) == []


def test_a_group_talk_waiting_in_the_outbox_counts_once_on_my_week(phone):
    errors: list[str] = []
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)
    page.goto("/week")
    row = page.locator('[data-quota][data-counts="talk"]')
    counted = set(filter(None, row.get_attribute("data-students").split(",")))

    phone.set_offline(True)
    page.goto("/records/new/talk")
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    values = page.locator('select[name="student_ids"] option').evaluate_all(
        "(os) => os.map((o) => o.value)"
    )
    fresh = [v for v in values if v and v not in counted][:3]
    assert len(fresh) == 3
    page.locator('select[name="student_ids"]').select_option(fresh)
    page.get_by_label("学业").check()
    page.get_by_label("谈话内容").fill("集体谈话：期末复习安排")
    page.get_by_role("button", name="保存谈心谈话").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存")

    page.goto("/week")
    # three students in one talk: one group talk, one toward the quota (§1.5 个别谈心)
    expect(page.locator('[data-quota][data-counts="talk"] [data-pending]')).to_have_text(
        "+1 待同步"
    )
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
