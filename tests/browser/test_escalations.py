"""关注上报 end to end in a real browser (issue 12's acceptance): a counselor records a dorm
visit with 需要关注 offline → it syncs → office1's menu badge shows 1 → office1 opens it, sees
the student's name and class, acknowledges, adds a note for the reporter, closes it with an
outcome → the counselor sees 已办结 and the note. The same for a 心理 talk with 转介."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from server.models import Entry, Escalation, SchoolClass, Student
from tests.browser.conftest import log_in, poll
from tests.browser.test_door_visit import door_url, room_to_visit
from tests.browser.test_offline import (
    SYNC_TIMEOUT_MS,
    badge,
    phone,
    prepare_for_rounds,
    watched,
)
from tests.conftest import user_named

__all__ = ["phone"]  # the fixture, used by the test below


@pytest.fixture
def only_this_one(sessionmaker):
    """Other tests' open escalations are set aside while this test runs (so the badge counts
    only the one made here), and put back afterwards."""
    with sessionmaker() as db:
        others = db.scalars(select(Escalation.id).where(Escalation.status == "open")).all()
        db.execute(update(Escalation).where(Escalation.id.in_(others)).values(status="withdrawn"))
        db.commit()
    yield
    with sessionmaker() as db:
        db.execute(update(Escalation).where(Escalation.id.in_(others)).values(status="open"))
        db.commit()


def test_a_visit_with_a_concern_saved_offline_is_handled_to_the_end_by_the_office(
    phone, browser, browser_context_args, db, door_labels, only_this_one
):
    errors: list[str] = []
    counselor = user_named(db, "counselor1")
    room = room_to_visit(db, "counselor1")
    resident = room.residents[0]
    class_name = db.scalar(
        select(SchoolClass.name).join(Student).where(Student.id == resident.student_id)
    )
    db.rollback()
    note = f"室友反映情绪低落 {uuid.uuid4().hex[:6]}"
    reply = "已约谈，心理咨询中心本周跟进"

    # the counselor, on duty, prepares the round and records the visit without signal
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)
    phone.set_offline(True)
    page.goto(door_url(door_labels, room))
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    page.locator('select[name="concern_category"]').select_option(label="心理")
    page.get_by_label("情况说明").fill(note)
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存，联网后自动同步")
    phone.set_offline(False)
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)

    def arrived():
        db.rollback()
        return db.scalar(
            select(Escalation).join(Entry, Escalation.entry_id == Entry.id)
            .where(Entry.author_id == counselor.id, Escalation.note == note)
        )  # fmt: skip

    escalation = poll(arrived, timeout=SYNC_TIMEOUT_MS / 1000, what="the synced escalation")
    assert escalation.state == "pending"

    handle_as_office(browser, browser_context_args, db, escalation, resident.name, class_name,
                     reply, errors)  # fmt: skip

    reporter_sees_it_closed(page, escalation, reply)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_a_mental_health_talk_with_referral_is_handled_to_the_end_by_the_office(
    phone, browser, browser_context_args, db, only_this_one
):
    errors: list[str] = []
    counselor = user_named(db, "counselor1")
    student, class_name = db.execute(
        select(Student, SchoolClass.name).join(SchoolClass)
        .where(SchoolClass.counselor_id == counselor.id).order_by(Student.id).limit(1)
    ).one()  # fmt: skip
    db.rollback()
    summary = f"自述压力大、失眠 {uuid.uuid4().hex[:6]}"
    reply = "已转介心理咨询中心，预约本周四"

    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    page.goto("/records/new/talk")
    page.locator('select[name="student_ids"]').select_option([str(student.id)])
    page.get_by_role("radio", name="心理").check()
    page.get_by_label("谈话内容").fill(summary)
    page.get_by_label("心理问题需要转介").check()
    page.get_by_role("button", name="保存谈心谈话").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")

    def arrived():
        db.rollback()
        return db.scalar(
            select(Escalation).join(Entry, Escalation.entry_id == Entry.id)
            .where(Entry.author_id == counselor.id, Escalation.status == "open",
                   Entry.kind == "talk")
        )  # fmt: skip

    escalation = poll(arrived, what="the talk's escalation")
    handle_as_office(browser, browser_context_args, db, escalation, student.name, class_name,
                     reply, errors)  # fmt: skip
    reporter_sees_it_closed(page, escalation, reply)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def handle_as_office(browser, browser_context_args, db, escalation, student_name, class_name,
                     reply, errors) -> None:  # fmt: skip
    """office1: the badge shows 1; the escalation names the student and the class; 确认,
    a note for the reporter, 办结 with the outcome; the badge is gone."""
    office_name = user_named(db, "office1").name
    db.rollback()
    office_context = browser.new_context(**browser_context_args)
    office = watched(office_context.new_page(), errors)
    log_in(office, "office1")
    office.goto("/")
    expect(office.locator(".tabbar [data-escalation-badge]")).to_have_text("1")
    office.locator(".tabbar").get_by_role("link", name="关注上报").click()
    row = office.locator(f'[data-escalation="{escalation.id}"]')
    expect(row).to_contain_text("待确认")
    row.get_by_role("link", name="待确认").click()
    students = office.locator("[data-students]")
    expect(students).to_contain_text(student_name)
    expect(students).to_contain_text(class_name)
    office.get_by_role("button", name="确认收到").click()
    expect(office.locator("[data-escalation-state]")).to_have_text("已确认")
    expect(office.locator("[data-acknowledged]")).to_contain_text(office_name)
    office.get_by_label("跟进情况").fill(reply)
    office.get_by_label("让上报人").check()
    office.get_by_role("button", name="保存跟进记录").click()
    expect(office.locator("[data-escalation-state]")).to_have_text("跟进中")
    office.get_by_label("办结结果").fill("学生情绪稳定，已纳入重点关注名单")
    office.get_by_role("button", name="办结").click()
    expect(office.locator("[data-escalation-state]")).to_have_text("已办结")
    office.goto("/")
    expect(office.locator(".tabbar [data-escalation-badge]")).to_have_count(0)
    office_context.close()


def reporter_sees_it_closed(page, escalation, reply) -> None:
    """The counselor sees 已办结, the note meant for them and the outcome."""
    page.goto("/escalations/mine")
    mine = page.locator(f'[data-escalation="{escalation.id}"]')
    expect(mine).to_contain_text("已办结")
    mine.get_by_role("link", name="已办结").click()
    expect(page.locator(".steps")).to_contain_text(reply)
    expect(page.locator(".steps")).to_contain_text("学生情绪稳定")
