"""考核 in the browser (§4): the leader changes a weight and files the rules, the office
accepts them, the scores follow, the leader exports the sheet; the chart page asks nothing
of any host but 127.0.0.1."""

from __future__ import annotations

import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import delete

from server.models import AssessmentGroupMember, AssessmentManualScore, AssessmentRules
from tests.browser.conftest import log_in, log_out
from tests.conftest import user_named

TALK = '[data-person="counselor1"] [data-item="quota_talk"]'


def _wipe(db) -> None:
    dept = user_named(db, "leader1").department_id
    for model in (AssessmentManualScore, AssessmentGroupMember, AssessmentRules):
        db.execute(delete(model).where(model.department_id == dept))
    db.commit()


def test_a_weight_filed_and_accepted_changes_the_scores_and_the_sheet(page: Page, db, tmp_path):
    _wipe(db)
    try:
        log_in(page, "leader1")
        page.goto("/assessment")
        before = float(page.locator(TALK).get_attribute("data-points"))
        expect(page.locator("table.assessment thead")).to_contain_text("15分")

        page.goto("/assessment/rules")
        page.get_by_label("每周谈心谈话分值").fill("25")
        page.get_by_role("button", name="保存草稿").click()
        expect(page.locator("[data-flash]")).to_contain_text("细则已保存为草稿")
        page.get_by_role("button", name=re.compile("报学工部备案")).click()
        expect(page.locator("[data-filed]")).to_be_visible()
        log_out(page)

        log_in(page, "office1")
        page.goto("/assessment/filings")
        page.locator("[data-waiting] a").first.click()
        page.get_by_role("button", name="备案", exact=True).click()
        expect(page.locator("[data-flash]")).to_contain_text("已备案")
        log_out(page)

        log_in(page, "leader1")
        page.goto("/assessment")
        expect(page.locator("table.assessment thead")).to_contain_text("25分")
        expect(page.locator(TALK)).to_have_attribute(
            "data-points", re.compile(rf"^{round(before * 25 / 15, 1):g}(\.0)?$")
        )
        with page.expect_download() as download:
            page.locator('[data-export="sheet"]').click()
        path = tmp_path / "sheet.xlsx"
        download.value.save_as(path)
        header = next(load_workbook(path)["考核表"].iter_rows(values_only=True))
        assert "每周谈心谈话（25分）" in header and header[-2:] == ("总分", "排名")
    finally:
        _wipe(db)


def test_the_chart_page_asks_only_127_0_0_1(page: Page):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    log_in(page, "leader1")
    asked.clear()
    page.goto("/assessment/charts")
    expect(page.locator("figure.chart svg").first).to_be_visible()
    expect(page.locator('[data-chart-table="completion"]')).to_be_visible()
    assert asked, "the page made no request at all"
    elsewhere = [url for url in asked if not url.startswith("http://127.0.0.1:")]
    assert elsewhere == []
