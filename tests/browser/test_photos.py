"""Photos as evidence on a phone (issue 15 acceptance): counselor1 takes two photos on the
door form without signal (one larger than 1600 px), saves; the visit waits in the outbox
with its photos and leaves it only once both are on the server, downscaled to JPEGs of at
most 1600 px and 300 KB. The department leader sees them on the visit's history; a
counselor of another department is refused (403)."""

from __future__ import annotations

import re
import struct
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Entry, Photo
from tests.browser.conftest import log_in, poll
from tests.browser.test_corrections import kept_for_offline
from tests.browser.test_offline import (
    SYNC_TIMEOUT_MS,
    badge,
    phone,  # noqa: F401  (the fixture: a fresh phone per test)
    wait_for_worker,
    watched,
)
from tests.conftest import rooms_of_students_of, user_named
from tests.other_department import other_department
from tests.photo_samples import png

PHONE_MAX_SIDE = 1600  # web/static/photos.js
PHONE_MAX_BYTES = 300 * 1024


@pytest.fixture
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made


def jpeg_size(content: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame segment."""
    assert content[:3] == b"\xff\xd8\xff", "not a JPEG"
    at = 2
    while at < len(content):
        marker, length = content[at + 1], struct.unpack(">H", content[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", content[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no frame header in the JPEG")


def visits_with_talk(db: Session, author_id: int, talk: str) -> list[Entry]:
    db.rollback()
    db.expire_all()
    rows = db.scalars(select(Entry).where(Entry.author_id == author_id, Entry.kind == "dorm_visit"))
    return [e for e in rows if e.payload.get("talk_notes") == talk]


def test_a_visit_with_two_photos_saved_offline_reaches_the_server_with_them(
    phone, browser, browser_context_args, db, settings, elsewhere  # noqa: F811
):
    counselor = user_named(db, "counselor1")
    room = rooms_of_students_of(db, "counselor1")[0]
    form = f"/rooms/{room}/visit"
    talk = f"违章电器 {uuid.uuid4().hex[:8]}"  # unique per run
    errors: list[str] = []

    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    wait_for_worker(page)
    page.goto(form)
    kept_for_offline(page, form)

    phone.set_offline(True)
    page.goto(form)
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    camera = page.locator("[data-photo-input]")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    photos = [("big.png", png(2400, 1200, (30, 90, 200))), ("small.png", png(40, 30))]
    for number, (name, content) in enumerate(photos, start=1):
        camera.set_input_files(files=[{"name": name, "mimeType": "image/png", "buffer": content}])
        expect(page.locator("[data-photo-list] img")).to_have_count(number)
    page.get_by_label("谈心记录").fill(talk)
    page.get_by_role("button", name="保存走访记录").click()

    expect(page).to_have_url(re.compile(r"/outbox\?saved="))
    expect(badge(page)).to_have_text("1 条待同步")
    assert visits_with_talk(db, counselor.id, talk) == [], "the offline save reached the server"

    phone.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    (visit,) = poll(
        lambda: visits_with_talk(db, counselor.id, talk),
        timeout=SYNC_TIMEOUT_MS / 1000,
        what="the visit on the server",
    )
    stored = list(db.scalars(select(Photo).where(Photo.entry_id == visit.id).order_by(Photo.position)))
    assert [p.position for p in stored] == [1, 2], "the item left the outbox with its photos stored"
    for photo in stored:
        content = (settings.photo_dir / photo.file_name).read_bytes()
        assert photo.content_type == "image/jpeg" and len(content) <= PHONE_MAX_BYTES
        assert max(jpeg_size(content)) <= PHONE_MAX_SIDE
    assert jpeg_size((settings.photo_dir / stored[0].file_name).read_bytes()) == (1600, 800)

    # the department leader reads the visit, photos included; another department does not
    leader = browser.new_context(**browser_context_args)
    try:
        leader_page = watched(leader.new_page(), errors)
        log_in(leader_page, "leader1")
        leader_page.goto(f"/entries/{visit.id}/history")
        images = leader_page.locator("[data-entry-photos] img[data-photo]")
        expect(images).to_have_count(2)
        for index in range(2):
            images.nth(index).evaluate("img => img.decode()")  # fails if it did not load
            assert images.nth(index).evaluate("img => img.naturalWidth") > 0
        answer = leader_page.request.get(f"/photos/{stored[0].id}")
        assert answer.status == 200
        assert answer.headers["cache-control"] == "private, no-store"
    finally:
        leader.close()
    outsider = browser.new_context(**browser_context_args)
    try:
        outsider_page = outsider.new_page()
        log_in(outsider_page, "counselor_x")
        for photo in stored:
            assert outsider_page.request.get(f"/photos/{photo.id}").status == 403
    finally:
        outsider.close()
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
