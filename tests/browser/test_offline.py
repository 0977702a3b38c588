"""Offline (issue 3), in a real browser with the service worker: what a counselor saves in a
corridor without signal stays on the phone, survives a closed page, an expired login and a
stopped server, and reaches the server exactly once.

Each test has its own browser context (its own worker, caches and IndexedDB), so the
outboxes of two tests never mix.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Bed, Entry, Room, SchoolClass, Student
from tests.browser.conftest import log_in, poll
from tests.browser.test_door_visit import DoorRoom, door_url, room_to_visit, visits_to
from tests.conftest import user_named

SW_READY_TIMEOUT_MS = 15_000
SYNC_TIMEOUT_MS = 30_000  # the outbox retries every 15 s at most; `online` starts it at once


# --- helpers ------------------------------------------------------------------------------


def rooms_to_visit(db: Session, username: str, count: int) -> list[DoorRoom]:
    """`count` rooms in the person's duty building where their students live."""
    first = room_to_visit(db, username)
    rooms = [first]
    user = user_named(db, username)
    others = db.execute(
        select(Room.id, Room.number)
        .join(Bed, Bed.room_id == Room.id)
        .join(Student, Bed.student_id == Student.id)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(
            Room.building_id == db.get(Room, first.id).building_id,
            SchoolClass.counselor_id == user.id,
            Room.id != first.id,
        )
        .group_by(Room.id, Room.number)
        .order_by(Room.number)
        .limit(count - 1)
    ).all()
    db.rollback()
    rooms += [DoorRoom(room_id, first.building, number, []) for room_id, number in others]
    assert len(rooms) == count, f"demo data: {username} needs {count} rooms to visit"
    return rooms


def watched(page: Page, errors: list[str]) -> Page:
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return page


def wait_for_worker(page: Page) -> None:
    """Until the service worker is active and controls this page (it claims on activate)."""
    page.wait_for_function(
        "navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)",
        timeout=SW_READY_TIMEOUT_MS,
    )


def prepare_for_rounds(page: Page) -> None:
    page.goto("/")
    wait_for_worker(page)
    page.get_by_role("button", name="准备巡查").click()
    expect(page.locator("[data-prepare-summary]")).to_contain_text(
        re.compile(r"已缓存 [1-9]\d* 个宿舍"), timeout=SYNC_TIMEOUT_MS
    )
    expect(page.locator("[data-prepare-last]")).to_contain_text("上次准备")


def save_visit_offline(page: Page, url: str, talk: str) -> None:
    page.goto(url)
    # the cached copy, marked as such
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    page.get_by_label("谈心记录").fill(talk)
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存，联网后自动同步")


def badge(page: Page):
    return page.locator("[data-outbox-badge]")


def visits_with_talk(db: Session, author_id: int, room: DoorRoom, talk: str) -> list[Entry]:
    return [
        e for e in visits_to(db, author_id, room.id).values() if e.payload["talk_notes"] == talk
    ]


def talk_for(room: DoorRoom) -> str:
    # unique per run: a retried test never counts the visits of an earlier try
    return f"{room.title} 离线走访 {uuid.uuid4().hex[:8]}"


@pytest.fixture
def phone(browser, browser_context_args) -> BrowserContext:
    """A fresh phone: its own service worker, caches and IndexedDB."""
    context = browser.new_context(**browser_context_args)
    yield context
    context.close()


def assert_arrived_once(db: Session, author_id: int, visits: dict[str, DoorRoom]) -> None:
    for talk, room in visits.items():
        arrived = poll(
            lambda room=room, talk=talk: visits_with_talk(db, author_id, room, talk),
            timeout=SYNC_TIMEOUT_MS / 1000,
            what=f"the offline visit to {room.title} on the server",
        )
        assert len(arrived) == 1, f"{room.title}: {len(arrived)} copies of one offline visit"


def sync_again_and_recount(page: Page, db, author_id: int, visits: dict[str, DoorRoom]) -> None:
    """A second replay (the button) must not send anything twice."""
    page.goto("/outbox")
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("[data-sync-state]")).to_have_text("已全部同步。")
    for talk, room in visits.items():
        assert len(visits_with_talk(db, author_id, room, talk)) == 1


# --- the acceptance scenarios --------------------------------------------------------------


def test_prepared_rounds_offline_two_visits_reach_the_server_once(phone, db, door_labels):
    """Prepare → offline → two door URLs → two saves → page closed and reopened → badge 2 →
    online → both on the server exactly once → badge 0."""
    author_id = user_named(db, "counselor1").id
    rooms = rooms_to_visit(db, "counselor1", 2)
    visits = {talk_for(room): room for room in rooms}
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)

    phone.set_offline(True)
    for talk, room in visits.items():
        save_visit_offline(page, door_url(door_labels, room), talk)
    for talk, room in visits.items():
        assert visits_with_talk(db, author_id, room, talk) == [], "offline save reached the server"

    page.close()
    page = watched(phone.new_page(), errors)
    page.goto("/outbox")
    expect(badge(page)).to_have_text("2 条待同步")
    expect(page.locator("[data-outbox-items] li")).to_have_count(2)
    expect(page.locator("[data-outbox-items] [data-field=status]")).to_have_text(["待同步"] * 2)

    phone.set_offline(False)
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    expect(badge(page)).to_have_attribute("data-count", "0")
    assert_arrived_once(db, author_id, visits)
    expect(page.locator("[data-outbox-empty]")).to_be_visible()
    expect(page.locator("[data-last-sync]")).to_contain_text("上次同步")
    sync_again_and_recount(page, db, author_id, visits)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_server_stopped_instead_of_offline(phone, db, door_labels, live_server):
    """The same with the server process down: the phone has a network, nobody answers."""
    author_id = user_named(db, "counselor1").id
    rooms = rooms_to_visit(db, "counselor1", 2)
    visits = {talk_for(room): room for room in rooms}
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)

    live_server.stop()
    try:
        for talk, room in visits.items():
            save_visit_offline(page, door_url(door_labels, room), talk)
        page.close()
        page = watched(phone.new_page(), errors)
        page.goto("/outbox")
        expect(badge(page)).to_have_text("2 条待同步")
        page.get_by_role("button", name="立即同步").click()
        expect(page.locator("[data-sync-state]")).to_have_text("连不上服务器，联网后会自动重试。")
        expect(badge(page)).to_have_text("2 条待同步")
    finally:
        live_server.start()

    page.get_by_role("button", name="立即同步").click()
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    assert_arrived_once(db, author_id, visits)
    sync_again_and_recount(page, db, author_id, visits)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_login_expired_while_offline_keeps_the_outbox_until_login(phone, db, door_labels):
    author_id = user_named(db, "counselor1").id
    (room,) = rooms_to_visit(db, "counselor1", 1)
    talk = talk_for(room)
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)

    phone.set_offline(True)
    # the session ends while the phone is away (it expired, or was logged out elsewhere);
    # cleared before the save, because a service worker Chromium restarts can run a moment
    # before the offline emulation reaches it, and its replay must then meet no session
    phone.clear_cookies()
    save_visit_offline(page, door_url(door_labels, room), talk)
    page.goto("/outbox")
    phone.set_offline(False)

    # the replay is refused with 401: the entry stays, the user is asked to log in
    login_again = page.locator("[data-login-expired]")
    expect(login_again).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(badge(page)).to_have_text("1 条待同步")
    assert visits_with_talk(db, author_id, room, talk) == []

    login_again.get_by_role("link", name="重新登录").click()
    log_in(page, "counselor1")
    expect(page).to_have_url(re.compile(r"/outbox$"))
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    expect(login_again).to_be_hidden()
    assert_arrived_once(db, author_id, {talk: room})
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)


def test_door_not_prepared_offline_shows_a_plain_page(phone, db, door_labels):
    (room,) = rooms_to_visit(db, "counselor1", 1)
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    page.goto("/")
    wait_for_worker(page)  # the app is installed, but 准备巡查 was never tapped

    phone.set_offline(True)
    response = page.goto(door_url(door_labels, room))
    assert response is not None and response.ok, "the worker answers, not the browser"
    expect(page.get_by_role("heading", level=1)).to_have_text("走访表未缓存")
    expect(page.locator("main")).to_contain_text("准备巡查")
    expect(page.get_by_role("button", name="保存走访记录")).to_have_count(0)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
