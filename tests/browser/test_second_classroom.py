"""第二课堂 in the browser (§2.10): teacher1 proposes a lecture for today, counselor1 approves
it before it happens, teacher1 records it as held."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import delete

from server.clock import today
from server.models import Activity
from tests.browser.conftest import log_in, log_out


def test_a_lecture_is_proposed_approved_and_recorded_as_held(page: Page, db):
    title = f"高水平讲座 {uuid.uuid4().hex[:6]}"
    try:
        log_in(page, "teacher1")
        page.goto("/activities/new")
        page.locator('select[name="category"]').select_option("lecture")
        page.locator('input[name="high_level"]').check()
        page.locator('input[name="title"]').fill(title)
        page.locator('input[name="organiser"]').fill("信息工程系团总支")
        page.locator('input[name="day"]').fill(today().isoformat())
        page.locator('input[name="place"]').fill("学术报告厅")
        page.locator('input[name="class_ids"]').first.check()
        page.locator('input[name="expected"]').fill("100")
        page.locator('textarea[name="safety"]').fill("班干部负责进出场秩序")
        page.get_by_role("button", name="提交审批").click()
        expect(page.locator("h1 [data-status]")).to_have_text("待审批")
        activity_url = page.url
        assert re.search(r"/activities/\d+$", activity_url)
        log_out(page)

        log_in(page, "counselor1")
        page.goto("/activities")
        page.get_by_role("link", name=re.compile(title)).first.click()
        page.get_by_role("button", name="批准").click()
        expect(page.locator("h1 [data-status]")).to_have_text("已批准")
        expect(page.locator('[data-step="approved"]')).to_be_visible()
        log_out(page)

        log_in(page, "teacher1")
        page.goto(activity_url)
        page.locator('input[name="participants"]').fill("96")
        page.locator('textarea[name="summary"]').fill("学生反响热烈")
        page.get_by_role("button", name="已举办").click()
        expect(page.locator("h1 [data-status]")).to_have_text("已举办")
        expect(page.locator("[data-participants]")).to_have_text("96")
    finally:
        db.execute(delete(Activity).where(Activity.title == title))
        db.commit()
