"""违纪处理 (§1.8): 辅导员提出 → 系部学生工作领导小组审议 → 学院审批 → 已处理.

The flow as a table of steps, each checked against the history; the refused steps (wrong
person: 403, wrong state: a Chinese message); the edit lock; the parent contact a decision
prompts (§2.5.2); who sees a case; the counts a home page shows; the Excel export."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from server import clock, discipline, due
from server.models import (
    DisciplineStep,
    Entry,
    EntryRevision,
    Guardian,
    SchoolClass,
    Student,
    StudentStatus,
)
from server.records.discipline import DISCIPLINE
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import form_csrf, user_named
from tests.other_department import other_department

made: list[uuid.UUID] = []  # the cases this module opened, removed at its end


@pytest.fixture(scope="module", autouse=True)
def _remove_cases(sessionmaker):
    yield
    with sessionmaker() as db:
        db.execute(delete(DisciplineStep).where(DisciplineStep.entry_id.in_(made)))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(made)))
        db.execute(delete(Entry).where(Entry.id.in_(made)))
        db.commit()


def students_of(db, username: str, count: int, skip: int = 0) -> list[int]:
    """Enrolled students of the classes this person counsels."""
    user = user_named(db, username)
    return list(
        db.scalars(
            select(Student.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .where(SchoolClass.counselor_id == user.id, Student.status == StudentStatus.enrolled)
            .order_by(Student.id)
            .offset(skip)
            .limit(count)
        )
    )


def case_payload(students: list[int], **changes) -> dict:
    return {
        "student_ids": students,
        "date": clock.today().isoformat(),
        "place": "5号楼 302",
        "facts": "在宿舍使用大功率电器",
        "rule": "学生宿舍管理规定第十二条",
        "evidence": "宿管员记录",
        "handling": "warning",
        **changes,
    }


def open_case(db, student_ids: list[int], username: str = "counselor1", **changes) -> Entry:
    entry_id = new_entry_id()
    m = merge.Mutation(
        id=entry_id, op="create", kind=DISCIPLINE.name, payload=case_payload(student_ids, **changes)
    )
    outcome = merge.apply(db, user_named(db, username), m)
    assert outcome.status == "applied", outcome.reason
    db.commit()
    made.append(entry_id)
    return db.get(Entry, entry_id)


def edit_case(db, entry: Entry, username: str = "counselor1", **changes) -> merge.Outcome:
    m = merge.Mutation(
        id=entry.id, op="update", kind=DISCIPLINE.name, base_revision=entry.revision,
        payload={**entry.payload, **changes},
    )  # fmt: skip
    outcome = merge.apply(db, user_named(db, username), m)
    db.commit()
    db.refresh(entry)
    return outcome


def act(db, username: str, entry: Entry, action: str, decision: str = "", **kw):
    user = user_named(db, username)
    if action == "submit":
        step = discipline.submit(db, user, entry)
    elif action == "review":
        step = discipline.review(
            db, user, entry, decision, kw.get("handling", ""), kw.get("reason", "")
        )
    else:
        step = discipline.approve(
            db, user, entry, decision, kw.get("handling", ""), kw.get("reason", ""),
            kw.get("decided_on"),
        )  # fmt: skip
    db.commit()
    return step


# --- the flow, step by step ------------------------------------------------------------------

# (who, action, decision, extra, state after, handling after)
FLOW = [
    ("counselor1", "submit", "", {}, "review", "warning"),
    ("leader1", "review", "return", {"reason": "事实不清，请补充证据"}, "returned", "warning"),
    ("counselor1", "edit", "", {"evidence": "宿管员记录、照片两张"}, "returned", "warning"),
    ("counselor1", "submit", "", {}, "review", "warning"),
    ("leader1", "review", "change", {"handling": "serious_warning", "reason": "屡教不改"},
     "approval", "serious_warning"),
    ("office1", "approve", "return", {"reason": "请系部说明从重理由"}, "office_returned",
     "serious_warning"),
    ("leader1", "review", "agree", {}, "approval", "serious_warning"),
    ("office1", "approve", "approve", {}, "done", "serious_warning"),
]  # fmt: skip


def test_a_case_goes_counselor_leader_returned_resubmitted_office_decided(db):
    entry = open_case(db, students_of(db, "counselor1", 2))
    assert discipline.case_of(db, entry).state == "draft"
    expected_steps = []
    for who, action, decision, extra, state, handling in FLOW:
        if action == "edit":
            assert edit_case(db, entry, who, **extra).status == "applied"
        else:
            act(db, who, entry, action, decision, **extra)
            expected_steps.append(
                (action, decision or action, who, extra.get("reason", ""), handling)
            )
        case = discipline.case_of(db, entry)
        assert (case.state, case.handling) == (state, handling), (who, action, decision)
        steps = discipline.steps_of(db, entry.id)
        assert [(s.step, s.decision, s.actor.username, s.reason, s.handling) for s in steps] == (
            expected_steps
        )
        assert [s.number for s in steps] == list(range(1, len(steps) + 1))
        assert all(s.at is not None for s in steps)
    final = discipline.steps_of(db, entry.id)[-1]
    assert final.decided_on == clock.today()
    assert discipline.case_of(db, entry).decided_on == clock.today()
    # the resubmission sent the edited text: its step names the revision the leader read
    submissions = [s for s in discipline.steps_of(db, entry.id) if s.step == "submit"]
    assert [s.entry_revision for s in submissions] == [1, 2]


@pytest.mark.parametrize(
    "state, who, action, decision, extra, message",
    [
        ("draft", "counselor1", "review", "agree", {}, "现在不需要系部审议"),
        ("draft", "counselor1", "approve", "approve", {}, "现在不需要学院审批"),
        ("review", "counselor1", "submit", "", {}, "不能再次提交"),
        ("review", "leader1", "review", "change", {"handling": "warning", "reason": "x"}, "相同"),
        ("review", "leader1", "review", "change", {"handling": "demerit"}, "须写明理由"),
        ("review", "leader1", "review", "change", {"reason": "从重"}, "请选择变更后的处理意见"),
        ("review", "leader1", "review", "return", {}, "退回须写明理由"),
        ("review", "leader1", "review", "approve", {}, "请选择"),
        ("review", "office1", "approve", "approve", {}, "现在不需要学院审批"),
        ("approval", "leader1", "review", "agree", {}, "现在不需要系部审议"),
        ("approval", "office1", "approve", "approve",
         {"decided_on": clock.today() + timedelta(days=1)}, "不能晚于今天"),
        ("approval", "office1", "approve", "return", {}, "退回须写明理由"),
        ("done", "office1", "approve", "approve", {}, "已处理"),
        ("done", "counselor1", "submit", "", {}, "已处理"),
    ],
)  # fmt: skip
def test_a_step_the_case_is_not_at_is_refused_with_a_reason(
    db, state, who, action, decision, extra, message
):
    entry = open_case(db, students_of(db, "counselor1", 1, skip=3))
    path = {"draft": [], "review": ["submit"], "approval": ["submit", "agree"],
            "done": ["submit", "agree", "approve"]}[state]  # fmt: skip
    for step in path:
        if step == "submit":
            act(db, "counselor1", entry, "submit")
        elif step == "agree":
            act(db, "leader1", entry, "review", "agree")
        else:
            act(db, "office1", entry, "approve", "approve")
    before = len(discipline.steps_of(db, entry.id))
    with pytest.raises(discipline.DisciplineError, match=message):
        act(db, who, entry, action, decision, **extra)
    db.rollback()
    assert len(discipline.steps_of(db, entry.id)) == before


def test_the_counselor_edits_a_case_only_while_it_is_with_them(db, login):
    entry = open_case(db, students_of(db, "counselor1", 1))
    assert edit_case(db, entry, place="教学楼 A201").status == "applied"  # a draft
    act(db, "counselor1", entry, "submit")
    refused = edit_case(db, entry, place="别处")
    assert refused.status == "rejected" and "只有在草稿或被退回时才能修改" in refused.reason
    assert entry.payload["place"] == "教学楼 A201" and entry.revision == 2
    deleted = merge.apply(
        db, user_named(db, "counselor1"),
        merge.Mutation(id=entry.id, op="delete", kind=DISCIPLINE.name, base_revision=2),
    )  # fmt: skip
    db.commit()
    assert deleted.status == "rejected" and not db.get(Entry, entry.id).deleted
    page = login("counselor1").get(f"/entries/{entry.id}/edit")
    assert page.status_code == 403 and "待系部审议" in page.text
    act(db, "leader1", entry, "review", "return", reason="补充地点")
    assert edit_case(db, entry, place="教学楼 A203").status == "applied"
    assert login("counselor1").get(f"/entries/{entry.id}/edit").status_code == 200


# --- who may open a case, and for whom ---------------------------------------------------------


def _refusal(db, username: str, students: list[int], **changes) -> str:
    m = merge.Mutation(
        id=new_entry_id(), op="create", kind=DISCIPLINE.name,
        payload=case_payload(students, **changes),
    )  # fmt: skip
    outcome = merge.apply(db, user_named(db, username), m)
    db.rollback()
    assert outcome.status == "rejected"
    return outcome.reason


@pytest.mark.parametrize(
    "who, change, reason",
    [
        ("teacher1", {}, "只有辅导员可以提出违纪处理意见"),
        ("counselor1", {"student_ids": []}, "请至少选择一名学生"),
        ("counselor1", {"facts": ""}, "请填写违纪事实"),
        ("counselor1", {"rule": ""}, "请填写违反的校规校纪"),
        ("counselor1", {"handling": None}, "请选择拟处理意见"),
        ("counselor1", {"handling": "dismissal"}, "拟处理意见无效"),
        ("counselor1", {"date": None}, "请填写违纪日期"),
        ("counselor1", {"date": (clock.today() + timedelta(days=1)).isoformat()}, "不能晚于今天"),
    ],
)
def test_a_case_that_is_not_complete_or_not_a_counselors_is_refused(db, who, change, reason):
    assert reason in _refusal(db, who, students_of(db, "counselor1", 1), **change)


def test_a_counselor_opens_cases_only_for_the_students_they_counsel(db, sessionmaker):
    with other_department(sessionmaker) as elsewhere:
        theirs = list(
            db.scalars(select(Student.id).where(Student.class_id == elsewhere.class_id).limit(1))
        )
        assert "不是您所带班级的学生" in _refusal(db, "counselor1", theirs)
        assert "不是您所带班级的学生" in _refusal(
            db, "counselor_x", students_of(db, "counselor1", 1)
        )


def test_a_case_is_seen_by_its_counselor_the_departments_leader_and_the_office(
    db, sessionmaker, login
):
    entry = open_case(db, students_of(db, "counselor1", 1))
    path = f"/discipline/{entry.id}"
    with other_department(sessionmaker):
        for who, status in [("counselor1", 200), ("leader1", 200), ("office1", 200),
                            ("admin", 403), ("teacher1", 403), ("leader_x", 403),
                            ("counselor_x", 403)]:  # fmt: skip
            page = login(who).get(path)
            assert page.status_code == status, who
            assert ("在宿舍使用大功率电器" in page.text) == (status == 200), who
    assert login("office1").get(f"/discipline/{uuid.uuid4()}").status_code == 404


def test_admin_sees_that_a_case_exists_in_the_work_log_but_not_what_it_says(db, login):
    entry = open_case(db, students_of(db, "counselor1", 1), facts="考试时携带手机作弊")
    counselor1 = user_named(db, "counselor1")
    page = login("admin").get(f"/log?staff={counselor1.id}")
    assert "违纪处理" in page.text and "考试时携带手机作弊" not in page.text
    history = login("admin").get(f"/entries/{entry.id}/history")
    assert history.status_code == 200 and "考试时携带手机作弊" not in history.text
    assert "考试时携带手机作弊" in login("leader1").get(f"/log?staff={counselor1.id}").text


# --- the pages: the same flow through the forms -------------------------------------------------


def _post(client, path: str, **fields):
    token = client.cookies.get("csrftoken", "")
    return client.post(path, data={**fields, "_csrf_token": token}, follow_redirects=False)


def test_the_flow_through_the_pages_with_refusals_on_the_way(db, login):
    counselor = login("counselor1")
    form = counselor.get("/records/new/discipline")
    assert form.status_code == 200 and 'name="handling"' in form.text
    (student,) = students_of(db, "counselor1", 1, skip=5)
    entry_id = str(new_entry_id())
    saved = counselor.post(
        "/records/discipline",
        data={**{k: v for k, v in case_payload([student]).items() if k != "student_ids"},
              "student_ids": [str(student)], "entry_id": entry_id,
              "_csrf_token": form_csrf(form.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == f"/discipline/{entry_id}"
    made.append(uuid.UUID(entry_id))
    case = f"/discipline/{entry_id}"
    assert 'data-state="draft"' in counselor.get(case).text

    # the leader cannot review a draft; the office cannot approve it; admin may not act at all
    assert _post(login("leader1"), f"{case}/review", decision="agree").status_code == 409
    assert _post(login("office1"), f"{case}/submit").status_code == 403
    assert _post(login("admin"), f"{case}/approve", decision="approve").status_code == 403

    assert _post(login("counselor1"), f"{case}/submit").status_code == 303
    assert _post(login("counselor1"), f"{case}/review", decision="agree").status_code == 403
    refused = _post(login("leader1"), f"{case}/review", decision="return")
    assert refused.status_code == 409 and "退回须写明理由" in refused.text
    assert (
        _post(
            login("leader1"), f"{case}/review", decision="return", reason="请补充证据"
        ).status_code
        == 303
    )
    page = login("counselor1").get(case)
    assert 'data-state="returned"' in page.text and "请补充证据" in page.text
    assert _post(login("counselor1"), f"{case}/submit").status_code == 303
    assert _post(login("leader1"), f"{case}/review", decision="agree").status_code == 303
    bad_day = _post(login("office1"), f"{case}/approve", decision="approve", decided_on="明天")
    assert bad_day.status_code == 409 and "处理决定日期" in bad_day.text
    assert _post(login("office1"), f"{case}/approve", decision="approve",
                 decided_on=clock.today().isoformat()).status_code == 303  # fmt: skip
    page = login("counselor1").get(case)
    assert 'data-state="done"' in page.text and 'data-steps="5"' in page.text
    assert re.findall(r'data-decision="(\w+)"', page.text) == [
        "submit",
        "return",
        "submit",
        "agree",
        "approve",
    ]


# --- the parent contact a decision prompts ------------------------------------------------------


def _due_reasons(db, username: str) -> dict[int, str]:
    return {
        o.what.id: o.reason
        for o in due.parents_overdue(db, user_named(db, username), clock.today())
    }


def test_a_decision_prompts_a_parent_contact_until_one_is_recorded_after_it(db, login):
    (student,) = students_of(db, "counselor1", 1, skip=7)
    entry = open_case(db, [student])
    act(db, "counselor1", entry, "submit")
    act(db, "leader1", entry, "review", "agree")
    assert _due_reasons(db, "counselor1").get(student) != "违纪处理"  # not decided yet
    act(db, "office1", entry, "approve", "approve")
    assert _due_reasons(db, "counselor1")[student] == "违纪处理"
    page = login("counselor1").get("/due")
    assert f'data-parent-due="{student}" data-due-reason="违纪处理"' in page.text

    guardian = db.scalar(select(Guardian).where(Guardian.student_id == student))
    if guardian is None:
        guardian = Guardian(student_id=student, name="家长", relation="父亲")
        db.add(guardian)
        db.commit()
    contact = merge.Mutation(
        id=new_entry_id(), op="create", kind="parent_contact",
        payload={"student_id": student, "guardian_id": guardian.id, "method": "phone",
                 "reason": "discipline", "summary": "告知处理决定"},
    )  # fmt: skip
    assert merge.apply(db, user_named(db, "counselor1"), contact).status == "applied"
    db.commit()
    made.append(contact.id)
    assert _due_reasons(db, "counselor1").get(student) != "违纪处理"
    assert (
        f'data-parent-due="{student}" data-due-reason' not in login("counselor1").get("/due").text
    )


# --- lists and counts --------------------------------------------------------------------------


def _count(html: str, name: str) -> int:
    return int(re.search(rf'data-list="{name}" data-count="(\d+)"', html).group(1))


def test_every_count_matches_its_list(db, login):
    before = {
        "mine": discipline.my_open_count(db, user_named(db, "counselor1")),
        "review": discipline.to_review_count(db, user_named(db, "leader1")),
        "approve": discipline.to_approve_count(db, user_named(db, "office1")),
    }
    waiting = open_case(db, students_of(db, "counselor1", 1))
    act(db, "counselor1", waiting, "submit")
    approving = open_case(db, students_of(db, "counselor1", 1, skip=1))
    act(db, "counselor1", approving, "submit")
    act(db, "leader1", approving, "review", "agree")

    counselor1, leader1, office1 = (user_named(db, n) for n in ("counselor1", "leader1", "office1"))
    assert discipline.my_open_count(db, counselor1) == before["mine"] + 2
    assert discipline.to_review_count(db, leader1) == before["review"] + 1
    assert discipline.to_approve_count(db, office1) == before["approve"] + 1
    dept = counselor1.department_id
    assert (
        discipline.to_approve_count(db, office1, dept)
        == discipline.to_approve_counts(db, office1)[dept]
    )
    assert discipline.to_review_count(db, counselor1) == 0  # not a leader
    assert discipline.to_approve_count(db, leader1) == 0  # not the office

    assert _count(login("counselor1").get("/discipline").text, "my_open") == (
        discipline.my_open_count(db, counselor1)
    )
    assert _count(login("leader1").get("/discipline").text, "to_review") == (
        discipline.to_review_count(db, leader1)
    )
    office_page = login("office1").get("/discipline").text
    assert _count(office_page, "to_approve") == discipline.to_approve_count(db, office1)
    assert (
        f'data-department="{dept}" data-count="{discipline.to_approve_count(db, office1, dept)}"'
        in office_page
    )
    for who in ("admin", "teacher1"):
        assert login(who).get("/discipline").status_code == 403


# --- the Excel export -----------------------------------------------------------------------------


def test_the_export_has_a_row_per_case_per_student_with_the_steps(db, login):
    two = students_of(db, "counselor1", 2, skip=9)
    entry = open_case(db, two, facts='=HYPERLINK("x")打架')
    act(db, "counselor1", entry, "submit")
    act(db, "leader1", entry, "review", "change", handling="demerit", reason="情节较重")
    act(db, "office1", entry, "approve", "approve")
    answer = login("leader1").get(f"/discipline/export?semester={clock.today().isoformat()}")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content))["违纪处理"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[1]) == discipline.EXPORT_COLUMNS
    numbers = {db.get(Student, i).student_number for i in two}
    mine = [dict(zip(rows[1], r, strict=True)) for r in rows[2:] if r[0] in numbers]
    assert len(mine) == 2
    row = mine[0]
    assert row["拟处理意见"] == "警告" and row["最终处理"] == "记过" and row["状态"] == "已处理"
    assert row["系部意见"] == "变更处理意见：记过（情节较重）" and row["系部审议人"]
    assert row["学院意见"].startswith("批准") and row["决定日期"] == clock.today().isoformat()
    assert row["违纪事实"].startswith("=") and len(row["办理经过"].splitlines()) == 3
    cell = next(c for c in sheet[3 + [r[0] for r in rows[2:]].index(row["学号"])] if c.column == 6)
    assert cell.data_type == "s"  # a formula typed into the facts stays text

    assert login("counselor1").get("/discipline/export").status_code == 403
    assert login("admin").get("/discipline/export").status_code == 403
    office = login("office1").get(
        f"/discipline/export?department={user_named(db, 'leader1').department_id}"
    )
    assert office.status_code == 200
