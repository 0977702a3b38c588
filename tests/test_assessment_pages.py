"""考核's pages (server/routes/assessment.py): the leader edits and files the rules, the office
accepts or returns them, the results follow the version in force; bad input gets a Chinese
reason; the charts are inline SVG with their tables; the office sees one row per
department (no flat list of everyone's cards)."""

from __future__ import annotations

import gzip
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from server import assessment
from server.models import (
    AssessmentConfirmation,
    AssessmentGroupMember,
    AssessmentManualScore,
    AssessmentRules,
    AssessmentSnapshot,
    Department,
)
from tests.conftest import form_csrf, user_named


@pytest.fixture
def clean_rules(sessionmaker):
    """信息工程系 starts and ends on the college's defaults, without a group."""

    def wipe():
        with sessionmaker() as db:
            dept = user_named(db, "leader1").department_id
            for model in (AssessmentSnapshot, AssessmentConfirmation, AssessmentManualScore,
                          AssessmentGroupMember, AssessmentRules):  # fmt: skip
                db.execute(delete(model).where(model.department_id == dept))
            db.commit()

    wipe()
    yield
    wipe()


def post_form(client, page_url: str, action: str, data: dict):
    page = client.get(page_url)
    assert page.status_code == 200, page.text[:500]
    return client.post(action, data={**data, "_csrf_token": form_csrf(page.text)},
                       follow_redirects=False)  # fmt: skip


def rules_form(**weights) -> dict:
    data = {"period": "semester"}
    for item in assessment.COLLEGE_DEFAULT["measures"]:
        if item["measure"] != "manual":
            data[f"weight_{item['measure']}"] = str(weights.get(item["measure"], item["weight"]))
            if "mode" in item:
                data[f"mode_{item['measure']}"] = item["mode"]
    return data | {"manual_label_0": "德育论文 / 课题", "manual_weight_0": "3"}


def talk_weight(html: str) -> str:
    return re.search(r'data-item="quota_talk"[^>]*>', html) and re.search(
        r"<th>每周谈心谈话<br><small>([\d.]+)分</small>", html
    ).group(1)


def test_the_leader_files_changed_rules_and_the_office_accepts_them(login, db, clean_rules):
    leader = login("leader1")
    assert talk_weight(leader.get("/assessment").text) == "15"  # the college's default
    saved = post_form(leader, "/assessment/rules", "/assessment/rules/save",
                      rules_form(quota_talk=25, meetings=0))  # fmt: skip
    assert saved.status_code == 303
    page = leader.get("/assessment/rules")
    assert "细则已保存为草稿" in page.text and 'data-status="draft"' in page.text
    assert talk_weight(leader.get("/assessment").text) == "15"  # a draft is not in force
    filed = post_form(leader, "/assessment/rules", "/assessment/rules/file", {"version": "1"})
    assert filed.status_code == 303
    row = db.scalar(select(AssessmentRules).where(AssessmentRules.status == "filed"))
    office = login("office1")
    assert f"/assessment/rules/{row.id}" in office.get("/assessment/filings").text
    accepted = post_form(office, f"/assessment/rules/{row.id}", f"/assessment/rules/{row.id}/decide",
                         {"decision": "accept"})  # fmt: skip
    assert accepted.status_code == 303
    leader = login("leader1")
    page = leader.get("/assessment").text
    assert talk_weight(page) == "25" and 'data-item="meetings"' not in page  # weight 0: gone
    assert "第 1 版（学工部已备案）" in page


def test_a_return_needs_the_offices_comment(login, db, clean_rules):
    leader = login("leader1")
    post_form(leader, "/assessment/rules", "/assessment/rules/save", rules_form())
    post_form(leader, "/assessment/rules", "/assessment/rules/file", {"version": "1"})
    row = db.scalar(select(AssessmentRules).where(AssessmentRules.status == "filed"))
    office = login("office1")
    url = f"/assessment/rules/{row.id}"
    refused = post_form(office, url, f"{url}/decide", {"decision": "return", "comment": ""})
    assert refused.status_code == 409 and "退回时请写明意见" in refused.text
    returned = post_form(office, url, f"{url}/decide", {"decision": "return", "comment": "请补充"})
    assert returned.status_code == 303
    page = login("leader1").get("/assessment/rules").text
    assert "学工部退回了第 1 版：请补充" in page


@pytest.mark.parametrize(("change", "reason"), [
    ({"weight_meetings": "200"}, "0 到 100"),
    ({"period": "decade"}, "考核周期"),
    ({"manual_label_1": "", "manual_weight_1": "2"}, "请填写名称"),
])  # fmt: skip
def test_a_bad_rules_form_is_refused_in_chinese(login, clean_rules, change, reason):
    leader = login("leader1")
    answer = post_form(leader, "/assessment/rules", "/assessment/rules/save",
                       rules_form() | change)  # fmt: skip
    assert answer.status_code == 422 and reason in answer.text


@pytest.mark.parametrize("url", [
    "/assessment?period=m2026-13", "/assessment?period=x", "/assessment/sheet.xlsx?period=s1",
    "/assessment?department=abc",
])  # fmt: skip
def test_a_bad_period_or_department_is_a_400_page(login, url):
    answer = login("leader1").get(url)
    assert answer.status_code == 400 and "<!doctype html>" in answer.text.lower()


def test_the_results_link_each_number_to_the_records_behind_it(login, db):
    page = login("leader1").get("/assessment").text
    counselor1 = user_named(db, "counselor1")
    assert 'data-person="counselor1"' in page
    assert f"/log?staff={counselor1.id}&amp;week=" in page and "kind=talk" in page
    person = login("leader1").get(f"/assessment/people/{counselor1.id}").text
    assert "<svg" in person and 'data-chart-table="person-weeks"' in person


def test_the_sheet_export_has_a_row_per_person(login, db):
    answer = login("leader1").get("/assessment/sheet.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    rows = list(book["考核表"].iter_rows(values_only=True))
    staff = assessment.assessed_staff(db, user_named(db, "leader1").department_id)
    assert len(rows) == len(staff) + 1 and rows[0][-2:] == ("总分", "排名")


def test_the_chart_page_is_inline_svg_with_tables_and_nothing_from_elsewhere(login):
    page = login("leader1").get("/assessment/charts")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 2
    for table in ("completion", "escalations"):
        assert f'data-chart-table="{table}"' in page.text
    sources = re.findall(r'(?:src|href|action)="([^"]+)"', page.text)
    assert all(s.startswith(("/", "#", "?")) for s in sources), sources
    # light on phones (make bench measures it over HTTP): well under 150 KB compressed
    assert len(gzip.compress(page.content, 6)) < 150 * 1024


def test_the_office_sees_one_row_per_department(login, db):
    office = login("office1")
    departments = db.scalars(select(Department)).all()
    page = office.get("/assessment/office").text
    assert page.count('data-department="') == len(departments)
    assert "/assessment?department=" in page
    week = office.get("/department/week").text
    assert f'data-departments="{len(departments)}"' in week
    assert "data-person=" not in week  # no card per person
    one = office.get(f"/department/week?department={departments[0].id}").text
    assert "staff-weeks" in one  # the drill-down still lists the people


def test_the_leader_names_the_group_and_members_confirm(login, db, clean_rules):
    leader = login("leader1")
    me = user_named(db, "leader1")
    saved = post_form(
        leader, "/assessment/group", "/assessment/group/save", {"members": str(me.id)}
    )
    assert saved.status_code == 303
    office = login("office1")
    refused = post_form(office, "/assessment/group", "/assessment/group/save",
                        {"members": str(me.id)})  # fmt: skip
    assert refused.status_code == 403
    leader = login("leader1")
    period = assessment.recent_periods(db, "semester", __import__("datetime").date.today())[1]
    done = post_form(leader, "/assessment", "/assessment/confirm", {"period": period.key})
    assert done.status_code == 303
    page = leader.get(f"/assessment?period={period.key}").text
    assert "data-frozen" in page
    again = post_form(leader, "/assessment", "/assessment/confirm", {"period": period.key})
    assert again.status_code == 409 and "已经冻结" in again.text


def test_only_group_members_score_manual_items_on_the_page(login, db, clean_rules):
    counselor1 = user_named(db, "counselor1")
    leader = login("leader1")
    url = f"/assessment/people/{counselor1.id}"
    assert 'data-manual="manual_paper"' not in leader.get(url).text  # not a member yet
    form = {"staff_id": str(counselor1.id), "item": "manual_paper", "points": "2"}
    refused = post_form(leader, url, "/assessment/manual", form)
    assert refused.status_code == 403 and "考核小组成员" in refused.text
    me = user_named(db, "leader1")
    post_form(leader, "/assessment/group", "/assessment/group/save", {"members": str(me.id)})
    assert 'data-manual="manual_paper"' in leader.get(url).text
    too_many = post_form(leader, url, "/assessment/manual", form | {"points": "9"})
    assert too_many.status_code == 422 and "得分应在 0 到 3 之间" in too_many.text
    saved = post_form(leader, url, "/assessment/manual", form)
    assert saved.status_code == 303
    page = leader.get(url).text
    assert re.search(r'data-item="manual_paper" data-points="2(\.0)?"', page)
