"""Editing a record offline (issue 5): the edit waits in the outbox as an update based on the
revision the form showed, and arrives as the record's next revision."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from server.models import Entry
from tests.browser.conftest import log_in, poll
from tests.browser.test_offline import SYNC_TIMEOUT_MS, badge, phone, wait_for_worker, watched

__all__ = ["phone"]  # the fixture, used by the test below


def test_an_edit_made_offline_arrives_as_the_next_revision(phone, db):
    errors: list[str] = []
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    page.goto("/records/new/talk")
    wait_for_worker(page)
    page.locator('select[name="student_ids"] option').first.wait_for(state="attached")
    first_student = page.locator('select[name="student_ids"] option').first.get_attribute("value")
    page.locator('select[name="student_ids"]').select_option([first_student])
    page.get_by_label("生活").check()
    page.get_by_label("谈话内容").fill("第一次谈话：适应宿舍生活")
    page.get_by_role("button", name="保存谈心谈话").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    entry_id = uuid.UUID(page.url.split("saved=")[1])

    page.goto(f"/entries/{entry_id}/edit")  # opened once online: the worker keeps the page
    expect(page.get_by_label("谈话内容")).to_have_value("第一次谈话：适应宿舍生活")

    phone.set_offline(True)
    page.reload()
    expect(page.locator("[data-offline-copy]")).to_be_visible()
    page.get_by_label("谈话内容").fill("补记：已和宿管沟通，下周回访")
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存")
    page.goto("/outbox")
    expect(page.locator("[data-outbox-items] [data-field=label]")).to_have_text(
        ["谈心谈话（修改）"]
    )

    phone.set_offline(False)
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)

    def edited():
        db.rollback()
        entry = db.get(Entry, entry_id)
        return entry if entry is not None and entry.revision == 2 else None

    entry = poll(edited, what="the offline edit on the server")
    assert entry.payload["summary"] == "补记：已和宿管沟通，下周回访"
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
