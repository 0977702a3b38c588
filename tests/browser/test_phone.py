"""The evening round on a phone (issue 15): 扫下一间 and 下一间 after a visit, online and
offline; a talk written up later with its own time; the student picker found by pinyin
initials with the server stopped."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from server import clock, tonight
from server.models import Entry, SchoolClass, Student
from server.pinyin import keys
from tests.browser.conftest import log_in, poll
from tests.browser.test_door_visit import door_url, room_to_visit
from tests.browser.test_offline import (
    SYNC_TIMEOUT_MS,
    badge,
    phone,
    prepare_for_rounds,
    wait_for_worker,
    watched,
)
from tests.conftest import user_named

__all__ = ["phone"]  # the fixture, used below


def next_after(db, username: str, room_id: int):
    """The room 下一间 should name once `room_id` is visited (server/tonight.py)."""
    this_round = tonight.current_round(db, user_named(db, username))
    db.rollback()
    this_round.visited |= {room_id}
    return this_round.next_room(after=room_id)


def save_visit(page: Page) -> None:
    page.get_by_role("button", name="保存走访记录").click()


def test_after_a_visit_scan_next_opens_the_scanner_and_next_room_its_form(
    page: Page, db, door_labels
):
    room = room_to_visit(db, "counselor1")
    log_in(page, "counselor1")
    page.goto(door_url(door_labels, room))
    save_visit(page)
    expect(page).to_have_url(re.compile(r"/visits/[0-9a-f-]+/saved$"))
    expect(page.locator("[data-flash]")).to_have_text("走访记录已保存。")

    page.get_by_role("link", name="扫下一间").click()
    expect(page).to_have_url(re.compile(r"/scan$"))
    expect(page.locator("[data-scanner]")).to_be_visible()  # the camera opens on arrival

    page.go_back()
    following = next_after(db, "counselor1", room.id)
    assert following is not None, "counselor1's round has more than one room"
    link = page.locator("[data-next-room]")
    expect(link).to_have_text(f"下一间：{following.building.name} {following.number}")
    link.click()
    expect(page).to_have_url(re.compile(r"/d/[\w.-]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(following.number)

    page.goto("/rounds/tonight")
    expect(page.locator(f'[data-room-id="{room.id}"] [data-tick]')).to_be_visible()


def test_a_visit_saved_offline_still_suggests_the_next_room(phone, db, door_labels):
    errors: list[str] = []
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)
    room = room_to_visit(db, "counselor1")
    following = next_after(db, "counselor1", room.id)
    assert following is not None

    phone.set_offline(True)
    page.goto(door_url(door_labels, room))
    expect(page.locator("[data-offline-copy]")).to_be_visible()
    save_visit(page)
    saved = page.locator("[data-saved-offline]")
    expect(saved).to_contain_text("已离线保存")
    expect(saved.get_by_role("link", name="扫下一间")).to_be_visible()
    expect(saved.locator("[data-next-room]")).to_have_text(
        f"下一间：{following.building.name} {following.number}"
    )
    saved.locator("[data-next-room]").click()  # the door form 准备巡查 cached
    expect(page.get_by_role("heading", level=1)).to_contain_text(following.number)

    page.goto("/rounds/tonight")  # the cached list ticks the visit still in the outbox
    expect(page.locator(f'[data-room-id="{room.id}"] [data-tick]')).to_be_visible()

    phone.set_offline(False)
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def own_student(db, username: str) -> Student:
    student = db.scalar(
        select(Student)
        .join(SchoolClass)
        .where(SchoolClass.counselor_id == user_named(db, username).id)
        .order_by(Student.id.desc())
        .limit(1)
    )
    db.rollback()
    return student


def pick_student(page: Page, student: Student, typed: str) -> None:
    page.locator("[data-picker-search]").fill(typed)
    page.locator(f'[data-pick="{student.id}"]').click()
    expect(page.locator(f'[data-chip="{student.id}"]')).to_contain_text(student.name)


def test_a_talk_dated_two_hours_back_shows_that_time_in_the_work_log(page: Page, db):
    student = own_student(db, "counselor1")
    log_in(page, "counselor1")
    page.goto("/records/new/talk")
    pick_student(page, student, student.name)
    two_hours_ago = clock.now() - timedelta(hours=2)
    page.get_by_label("时间").fill(two_hours_ago.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("学业").check()
    page.get_by_label("谈话内容").fill("晚自习后补记的谈话")
    page.get_by_role("button", name="保存谈心谈话").click()
    expect(page.locator("[data-flash]")).to_have_text("已保存。")
    entry_id = uuid.UUID(page.url.split("saved=")[1])

    page.goto(f"/log?week={two_hours_ago.date().isoformat()}")
    expect(page.locator(f"#entry-{entry_id} time")).to_have_text(two_hours_ago.strftime("%H:%M"))
    assert db.get(Entry, entry_id).payload["student_ids"] == [student.id]


def test_the_picker_finds_a_student_by_pinyin_initials_with_the_server_stopped(
    phone, db, live_server
):
    student = own_student(db, "counselor1")
    three_hours_ago = clock.now() - timedelta(hours=3)
    errors: list[str] = []
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)

    live_server.stop()
    try:
        page.goto("/records/new/talk")
        expect(page.locator("[data-offline-copy]")).to_be_visible()
        pick_student(page, student, keys(student.name)[1].upper())
        expect(page.locator('select[name="student_ids"]')).to_have_values([str(student.id)])
        page.get_by_label("生活").check()
        page.get_by_label("谈话内容").fill("离线时按拼音找到的学生")
        # written up three hours later: the outbox carries the typed time as recorded_at
        page.get_by_label("时间").fill(three_hours_ago.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="保存谈心谈话").click()
        expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存")
    finally:
        live_server.start()

    wait_for_worker(page)
    page.goto("/outbox")
    page.get_by_role("button", name="立即同步").click()
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)

    def arrived():
        db.rollback()
        talks = db.scalars(select(Entry).where(Entry.kind == "talk")).all()
        return [t for t in talks if t.payload.get("summary") == "离线时按拼音找到的学生"]

    talks = poll(arrived, what="the offline talk on the server")
    assert [t.payload["student_ids"] for t in talks] == [[student.id]]
    typed = three_hours_ago.strftime("%Y-%m-%d %H:%M")
    assert clock.college_time(talks[0].recorded_at).strftime("%Y-%m-%d %H:%M") == typed
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
