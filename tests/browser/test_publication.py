"""公示 in a real browser (§2.9): a leader opens a round and publishes it; the link opens in a
fresh browser without logging in and shows the ranking; the leader revokes it and the link
then says it is gone. The service worker of the leader's browser never keeps the page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete, select

from server import clock
from server.models import Bed, Entry, EvaluationPublication, EvaluationRound, Room, Student
from tests.browser.conftest import log_in
from tests.conftest import rooms_of_students_of, user_named

VISIT_DAY = date(2026, 4, 8)  # a Wednesday of a past week no other test writes visits in


@pytest.fixture
def visited_room(sessionmaker):
    """A five-star visit in one of teacher1's rooms that week; removed afterwards, with the
    rounds opened during the test."""
    with sessionmaker() as db:
        teacher = user_named(db, "teacher1")
        room_id = rooms_of_students_of(db, "teacher1")[0]
        room = db.get(Room, room_id)
        names = list(db.scalars(select(Student.name).join(Bed).where(Bed.room_id == room_id)))
        moment = datetime.combine(VISIT_DAY, time(20), clock.COLLEGE_TZ).astimezone(UTC)
        entry = Entry(
            id=uuid.uuid4(), kind="dorm_visit", author_id=teacher.id,
            department_id=teacher.department_id, room_id=room_id,
            payload={"room_id": room_id, "presence": {}, "stars": 5, "issues": [],
                     "issue_other": "", "talk_notes": "", "concern": None},
            recorded_at=moment, received_at=moment,
        )  # fmt: skip
        db.add(entry)
        rounds_before = set(db.scalars(select(EvaluationRound.id)))
        db.commit()
        yield {"number": room.number, "building": room.building.name, "names": names}
        made = [i for i in db.scalars(select(EvaluationRound.id)) if i not in rounds_before]
        db.execute(delete(EvaluationPublication).where(EvaluationPublication.round_id.in_(made)))
        db.execute(delete(EvaluationRound).where(EvaluationRound.id.in_(made)))
        db.execute(delete(Entry).where(Entry.id == entry.id))
        db.commit()


def test_a_published_round_opens_without_login_until_it_is_revoked(
    page: Page, browser: Browser, live_server, visited_room
):
    log_in(page, "leader1")
    page.goto("/evaluations")
    page.get_by_role("link", name="开展评比").click()
    page.locator('input[name="week_day"]').fill(VISIT_DAY.isoformat())
    page.locator('input[name="name"]').fill("四月第二周卫生评比")
    page.get_by_role("button", name="开展评比").click()

    ranking = page.locator("[data-ranking]")
    row = ranking.locator("tr", has_text=f"{visited_room['building']} {visited_room['number']}")
    expect(row).to_contain_text("5星")
    page.get_by_role("button", name="公示").click()
    link = page.locator("[data-public-link]")
    expect(link).to_be_visible()
    url = link.inner_text()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/p/[A-Za-z0-9_-]{{43}}", url), url

    # a fresh browser: no cookies, no service worker, nobody logged in
    stranger = browser.new_context(locale="zh-CN")
    try:
        board = stranger.new_page()
        board.goto(url)
        expect(board).to_have_url(url)  # not sent to the login page
        expect(board.get_by_role("heading", name="四月第二周卫生评比")).to_be_visible()
        public_row = (
            board.locator("[data-ranking] tbody tr")
            .filter(has=board.get_by_role("cell", name=visited_room["building"], exact=True))
            .filter(has=board.get_by_role("cell", name=visited_room["number"], exact=True))
        )
        expect(public_row).to_contain_text("★★★★★")
        body = board.locator("body").inner_text()
        assert not [name for name in visited_room["names"] if name in body]

        # the leader's own browser (its service worker controls the page) keeps no copy
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.goto(url)
        expect(page.locator("[data-ranking]")).to_be_visible()
        page.go_back()
        kept = page.evaluate(
            """async () => {
                const urls = [];
                for (const name of await caches.keys()) {
                    for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
                }
                return urls;
            }"""
        )
        assert not [u for u in kept if "/p/" in u], kept

        page.get_by_role("button", name="撤回公示").click()
        expect(page.locator("[data-public-link]")).to_have_count(0)
        response = board.reload()
        assert response.status == 404
        expect(board.locator("[data-gone]")).to_contain_text("公示已被撤回")
        expect(board.locator("[data-ranking]")).to_have_count(0)
    finally:
        stranger.close()
