"""本周 with the outbox (issue 5): a talk recorded offline shows as pending, not done; once
synced it counts as done."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Entry
from tests.browser.conftest import log_in, poll
from tests.browser.test_offline import SYNC_TIMEOUT_MS, badge, phone, prepare_for_rounds, watched
from tests.conftest import user_named

__all__ = ["phone"]  # the fixture, used by the test below

SUMMARY = "离线谈心：期末复习压力大，约好下周再聊"


def talk_row(page):
    return page.locator('[data-quota][data-counts="talk"]')


def test_a_talk_recorded_offline_is_pending_then_done(phone, db):
    counselor_id = user_named(db, "counselor1").id
    errors: list[str] = []
    page = watched(phone.new_page(), errors)
    log_in(page, "counselor1")
    prepare_for_rounds(page)

    page.goto("/week")
    row = talk_row(page)
    done_before = int(row.get_attribute("data-done"))
    counted = set(filter(None, row.get_attribute("data-students").split(",")))

    phone.set_offline(True)
    page.goto("/records/new/talk")
    expect(page.locator("[data-offline-copy]")).to_contain_text("离线 · 数据截至")
    options = page.locator('select[name="student_ids"] option')
    student = next(
        value
        for value in options.evaluate_all("(os) => os.map((o) => o.value)")
        if value not in counted
    )
    page.locator('select[name="student_ids"]').select_option([student])
    page.get_by_label("学业").check()
    page.get_by_label("谈话内容").fill(SUMMARY)
    page.get_by_role("button", name="保存谈心谈话").click()
    expect(page.locator("[data-saved-offline]")).to_contain_text("已离线保存")

    # offline, the cached 本周 shows the talk as pending, not done
    page.goto("/week")
    row = talk_row(page)
    expect(row.locator("[data-pending]")).to_have_text("+1 待同步")
    expect(row.locator("[data-field=done]")).to_have_text(str(done_before))

    phone.set_offline(False)
    expect(badge(page)).to_be_hidden(timeout=SYNC_TIMEOUT_MS)

    def arrived():
        db.rollback()
        return db.scalars(
            select(Entry).where(Entry.author_id == counselor_id, Entry.kind == "talk")
        ).all()

    talks = poll(
        lambda: [e for e in arrived() if e.payload["summary"] == SUMMARY],
        what="the offline talk on the server",
    )
    assert len(talks) == 1 and talks[0].payload["student_ids"] == [int(student)]

    page.reload()
    row = talk_row(page)
    expect(row.locator("[data-field=done]")).to_have_text(str(done_before + 1))
    expect(row.locator("[data-pending]")).to_be_hidden()
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
