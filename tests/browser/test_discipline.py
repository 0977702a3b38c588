"""违纪处理 (§1.8) through the pages, three people on three phones: the counselor proposes,
the department leader returns it, the counselor edits and resubmits, the leader agrees, the
office approves — the history shows every step, and the counselor's due list asks for a
parent contact (§2.5.2)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete

from server import clock
from server.models import DisciplineStep, Entry, EntryRevision
from tests.browser.conftest import log_in

CASE_URL = re.compile(r"/discipline/([0-9a-f-]{36})$")


@pytest.fixture
def person(browser, browser_context_args):
    """person("leader1") → a page on a phone of that person's, logged in."""
    contexts = []

    def open_as(username: str) -> Page:
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        page = context.new_page()
        log_in(page, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_a_case_through_return_resubmission_review_and_approval(person, db):
    counselor = person("counselor1")
    counselor.goto("/discipline")
    counselor.get_by_role("link", name="提出违纪处理").click()
    students = counselor.locator('select[name="student_ids"] option')
    students.first.wait_for(state="attached")
    student_id = students.nth(11).get_attribute("value")
    student_name = students.nth(11).inner_text().split()[0]
    counselor.locator('select[name="student_ids"]').select_option([student_id])
    counselor.get_by_label("违纪日期").fill(clock.today().isoformat())
    counselor.get_by_label("地点").fill("5号楼 302")
    counselor.get_by_label("违纪事实").fill("熄灯后在宿舍使用电热锅")
    counselor.get_by_label("违反的规定").fill("学生宿舍管理规定第十二条")
    counselor.get_by_label("证据").fill("宿管员记录")
    counselor.get_by_label("警告", exact=True).check()
    counselor.get_by_role("button", name="保存违纪处理").click()
    expect(counselor).to_have_url(CASE_URL)
    case_id = uuid.UUID(CASE_URL.search(counselor.url).group(1))
    case_url = f"/discipline/{case_id}"
    try:
        expect(counselor.locator("[data-case-state]")).to_have_text("草稿（未提交）")
        counselor.get_by_role("button", name="提交系部审议").click()
        expect(counselor.locator("[data-case-state]")).to_have_text("待系部审议")

        leader = person("leader1")
        leader.goto("/discipline")
        waiting = leader.locator(f'[data-list="to_review"] [data-case="{case_id}"]')
        expect(waiting).to_contain_text(student_name)
        waiting.get_by_role("link").click()
        leader.get_by_label("退回辅导员").check()
        leader.get_by_label("理由").fill("请补充证人")
        leader.get_by_role("button", name="记录审议意见").click()
        expect(leader.locator("[data-case-state]")).to_have_text("系部退回辅导员")

        counselor.goto(case_url)
        expect(counselor.locator("[data-step]").last).to_contain_text("请补充证人")
        counselor.get_by_role("link", name="修改内容").click()
        counselor.get_by_label("证据").fill("宿管员记录；同寝室同学证言")
        counselor.get_by_role("button", name="保存修改").click()
        expect(counselor).to_have_url(re.compile(re.escape(case_url) + "$"))
        expect(counselor.locator(".facts")).to_contain_text("同寝室同学证言")
        counselor.get_by_role("button", name="重新提交系部审议").click()
        expect(counselor.locator("[data-case-state]")).to_have_text("待系部审议")

        leader.goto(case_url)
        leader.get_by_label("同意").check()
        leader.get_by_role("button", name="记录审议意见").click()
        expect(leader.locator("[data-case-state]")).to_have_text("待学院审批")

        office = person("office1")
        office.goto("/discipline")
        office.locator(f'[data-list="to_approve"] [data-case="{case_id}"] a').click()
        office.get_by_label("批准").check()
        office.get_by_role("button", name="记录审批决定").click()
        expect(office.locator("[data-case-state]")).to_have_text("已处理")

        counselor.goto(case_url)
        expect(counselor.locator("[data-case-state]")).to_have_text("已处理")
        expect(counselor.locator("[data-decided-on]")).to_have_text(clock.today().isoformat())
        steps = counselor.locator("[data-step]")
        expect(steps).to_have_count(5)
        assert [steps.nth(i).get_attribute("data-decision") for i in range(5)] == [
            "submit", "return", "submit", "agree", "approve"
        ]  # fmt: skip
        expect(steps.nth(1)).to_contain_text("系部学生工作领导小组审议")
        expect(steps.nth(4)).to_contain_text("学院审批")

        counselor.goto("/due")
        prompt = counselor.locator(f'[data-parent-due="{student_id}"]')
        expect(prompt).to_have_attribute("data-due-reason", "违纪处理")
        expect(prompt).to_contain_text(student_name)
    finally:
        db.execute(delete(DisciplineStep).where(DisciplineStep.entry_id == case_id))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id == case_id))
        db.execute(delete(Entry).where(Entry.id == case_id))
        db.commit()
