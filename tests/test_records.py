"""The guideline's records (§2.5, §2.6, §2.8, §1.9): forms, scope, what is due, staff leave."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server import due
from server.clock import today
from server.models import (
    ClassCourse,
    Entry,
    Escalation,
    Guardian,
    LeaveStatus,
    SchoolClass,
    StaffLeave,
    Student,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import form_csrf, user_named
from tests.sync_helpers import push

SHANGHAI = ZoneInfo("Asia/Shanghai")


def student_of(db, username: str) -> Student:
    user = user_named(db, username)
    return db.scalar(
        select(Student)
        .join(SchoolClass)
        .where((SchoolClass.class_teacher_id == user.id) | (SchoolClass.counselor_id == user.id))
        .order_by(Student.id)
        .limit(1)
    )


def student_outside(db, username: str) -> Student:
    user = user_named(db, username)
    return db.scalar(
        select(Student)
        .join(SchoolClass)
        .where(SchoolClass.class_teacher_id != user.id, SchoolClass.counselor_id != user.id)
        .order_by(Student.id)
        .limit(1)
    )


def save(client, kind: str, fields: dict, *, htmx: bool = False):
    page = client.get(f"/records/new/{kind}")
    assert page.status_code == 200
    entry_id = uuid.UUID(re.search(r'name="entry_id" value="([^"]+)"', page.text).group(1))
    data = {"_csrf_token": form_csrf(page.text), "entry_id": str(entry_id), **fields}
    headers = {"HX-Request": "true"} if htmx else {}
    return entry_id, client.post(
        f"/records/{kind}", data=data, headers=headers, follow_redirects=False
    )


# --- the forms, online --------------------------------------------------------------------


def test_a_talk_with_two_students_is_saved_once(login, db):
    client = login("teacher1")
    students = db.scalars(
        select(Student.id)
        .join(SchoolClass)
        .where(SchoolClass.class_teacher_id == user_named(db, "teacher1").id)
        .order_by(Student.id)
        .limit(2)
    ).all()
    fields = {"student_ids": [str(s) for s in students], "category": "study",
              "summary": "期中复习计划", "place": "办公室", "follow_up": ""}  # fmt: skip
    entry_id, response = save(client, "talk", fields)
    assert response.status_code == 303
    assert response.headers["location"] == f"/records?saved={entry_id}"
    # the same form posted again (a double tap, a retry) stores nothing new
    page_again = client.get("/records/new/talk")
    again = client.post(
        "/records/talk",
        data={"_csrf_token": form_csrf(page_again.text), "entry_id": str(entry_id), **fields},
        follow_redirects=False,
    )
    assert again.status_code == 303
    db.rollback()
    stored = db.scalars(select(Entry).where(Entry.id == entry_id)).all()
    assert [e.payload["student_ids"] for e in stored] == [sorted(students)]
    assert stored[0].payload["summary"] == "期中复习计划"


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"category": "study", "summary": "x"}, "请至少选择一名学生"),
        ({"student_ids": "{own}", "summary": "x"}, "请选择谈话类别"),
        ({"student_ids": "{own}", "category": "study", "summary": ""}, "请填写谈话内容"),
        ({"student_ids": "{own}", "category": "chat", "summary": "x"}, "谈话类别无效"),
        ({"student_ids": "{foreign}", "category": "study", "summary": "x"}, "不在您工作范围内"),
        ({"student_ids": "{own}", "category": "study", "summary": "x", "needs_referral": "on"},
         "只有心理类谈话可以申请转介"),
        ({"student_ids": "{own}", "category": "study", "summary": "x", "follow_up": "2026-13-01"},
         "回访日期格式不正确"),
        ({"student_ids": "{own}", "category": "study", "summary": "x" * 2001}, "太长"),
    ],
)  # fmt: skip
def test_a_refused_talk_comes_back_with_the_reason_and_what_was_typed(login, db, fields, reason):
    client = login("teacher1")
    own, foreign = student_of(db, "teacher1").id, student_outside(db, "teacher1").id
    fields = {k: v.format(own=own, foreign=foreign) for k, v in fields.items()}
    entry_id, response = save(client, "talk", fields, htmx=True)
    assert response.status_code == 422
    assert "未保存" in response.text and reason in response.text
    assert 'name="_kind" value="talk"' in response.text, "the form partial, ready to correct"
    db.rollback()
    assert db.get(Entry, entry_id) is None


def test_a_mental_talk_needing_referral_is_escalated(login, db):
    client = login("counselor1")
    student = student_of(db, "counselor1")
    fields = {"student_ids": str(student.id), "category": "mental", "needs_referral": "on",
              "summary": "情绪持续低落，建议心理中心评估"}  # fmt: skip
    entry_id, response = save(client, "talk", fields)
    assert response.status_code == 303
    db.rollback()
    escalation = db.scalar(select(Escalation).where(Escalation.entry_id == entry_id))
    assert (escalation.category, escalation.status) == ("mental", "open")
    assert "心理中心" in escalation.note


def test_a_parent_contact_names_a_guardian_of_that_student(login, db):
    client = login("counselor1")
    student = student_of(db, "counselor1")
    other = db.scalar(select(Guardian).where(Guardian.student_id != student.id).limit(1))
    own = db.scalar(select(Guardian).where(Guardian.student_id == student.id).limit(1))
    fields = {"student_id": str(student.id), "method": "phone", "reason": "grades",
              "summary": "期中成绩下滑"}  # fmt: skip
    _, refused = save(client, "parent_contact", {**fields, "guardian_id": str(other.id)})
    assert refused.status_code == 422 and "请选择这名学生的家长" in refused.text
    entry_id, saved = save(client, "parent_contact", {**fields, "guardian_id": str(own.id)})
    assert saved.status_code == 303
    db.rollback()
    entry = db.get(Entry, entry_id)
    assert entry.payload["guardian_id"] == own.id and entry.class_id == student.class_id


@pytest.mark.parametrize("kind", ["lecture_observation", "teacher_contact"])
def test_course_records_are_limited_to_my_classes_courses(login, db, kind):
    client = login("teacher1")
    teacher = user_named(db, "teacher1")
    mine = db.scalar(
        select(ClassCourse.id)
        .join(SchoolClass, ClassCourse.class_id == SchoolClass.id)
        .where(SchoolClass.class_teacher_id == teacher.id)
        .limit(1)
    )
    other = db.scalar(
        select(ClassCourse.id)
        .join(SchoolClass, ClassCourse.class_id == SchoolClass.id)
        .where(SchoolClass.class_teacher_id != teacher.id)
        .limit(1)
    )
    fields = {"date": today().isoformat(), "period": "3-4", "method": "phone", "summary": "沟通",
              "notes": "听课认真"}  # fmt: skip
    _, refused = save(client, kind, {**fields, "class_course_id": str(other)})
    assert refused.status_code == 422 and "不在您的工作范围内" in refused.text
    _, saved = save(client, kind, {**fields, "class_course_id": str(mine)})
    assert saved.status_code == 303


def test_a_class_meeting_needs_its_class_and_theme(login, db):
    client = login("teacher1")
    own_class = db.scalar(
        select(SchoolClass.id).where(SchoolClass.class_teacher_id == user_named(db, "teacher1").id)
    )
    fields = {"meeting_type": "class_meeting", "date": today().isoformat(), "theme": ""}
    _, no_class = save(client, "meeting", fields)
    assert no_class.status_code == 422 and "请选择班级" in no_class.text
    _, no_theme = save(client, "meeting", {**fields, "class_id": str(own_class)})
    assert no_theme.status_code == 422 and "请填写主题" in no_theme.text
    _, saved = save(client, "meeting", {**fields, "class_id": str(own_class), "theme": "诚信考试"})
    assert saved.status_code == 303


def test_a_plan_is_a_document_with_its_period(login):
    client = login("counselor1")
    _, refused = save(client, "plan", {"plan_type": "weekly_plan", "period": "", "text": "x"})
    assert refused.status_code == 422 and "请填写时段" in refused.text
    _, saved = save(
        client, "plan", {"plan_type": "weekly_plan", "period": "第12周", "text": "走访"}
    )
    assert saved.status_code == 303


# --- the same rules through the outbox's sync ----------------------------------------------


def test_a_talk_about_someone_elses_student_is_rejected_through_sync(login, db):
    client = login("teacher1")
    foreign = student_outside(db, "teacher1")
    answer = push(
        client,
        [{"id": str(new_entry_id()), "op": "create", "kind": "talk", "mutation_no": 1,
          "form": {"student_ids": [str(foreign.id)], "category": "study", "summary": "x"}}],
    )  # fmt: skip
    assert answer.status_code == 200
    (result,) = answer.json()["results"]
    assert result["status"] == "rejected"
    assert "不在您工作范围内" in result["reason"]


# --- what is due ----------------------------------------------------------------------------


def written(db, user, kind: str, payload: dict, on: date) -> None:
    when = datetime.combine(on, time(10), tzinfo=SHANGHAI)
    m = merge.Mutation(id=new_entry_id(), op="create", kind=kind, payload=payload, recorded_at=when,
                       received_at=when)  # fmt: skip
    assert merge.apply(db, user, m).status == "applied"


@pytest.mark.parametrize(
    "grade, every",
    [("s1", 14), ("s2", 30), ("s3", 140)],
    ids=["special every 2 weeks", "key every month", "general every semester"],
)
def test_parents_are_due_by_contact_grade(db, made_up_class, grade, every):
    people, students, _, _ = made_up_class
    counselor, student = people["counselor"], students[grade]
    guardian = Guardian(student_id=student.id, name="家长", relation="母亲")
    db.add(guardian)
    db.flush()
    contacted = today() - timedelta(days=200)
    # contacted by the class teacher: a colleague's contact counts for the counselor too
    written(db, people["teacher"], "parent_contact",
            {"student_id": student.id, "guardian_id": guardian.id, "method": "phone",
             "reason": "praise", "summary": "表扬"}, contacted)  # fmt: skip

    def listed(on: date) -> bool:
        return student.id in {o.what.id for o in due.parents_overdue(db, counselor, on)}

    assert not listed(contacted + timedelta(days=every - 1))
    assert listed(contacted + timedelta(days=every))
    never = students["s4"]
    assert never.id in {o.what.id for o in due.parents_overdue(db, counselor, contacted)}


def test_each_course_teacher_is_due_a_month_after_the_last_contact(db, made_up_class):
    people, *_ = made_up_class
    teacher = people["teacher"]
    (taught,) = [o.what for o in due.course_teachers_overdue(db, teacher, today())]
    contacted = today() - timedelta(days=100)
    written(db, teacher, "teacher_contact",
            {"class_course_id": taught.id, "method": "in_person", "summary": "沟通学情"},
            contacted)  # fmt: skip

    def listed(on: date) -> bool:
        return taught.id in {o.what.id for o in due.course_teachers_overdue(db, teacher, on)}

    assert not listed(contacted + timedelta(days=29))
    assert listed(contacted + timedelta(days=30))
    # the counselor is not the class teacher of this class: nothing due for them
    assert due.course_teachers_overdue(db, people["counselor"], today()) == []


def test_a_follow_up_is_due_until_a_later_talk_with_the_student(db, made_up_class):
    people, students, _, _ = made_up_class
    counselor = people["counselor"]
    follow_up = today() + timedelta(days=3)
    written(db, counselor, "talk",
            {"student_ids": [students["s1"].id], "category": "life", "summary": "想家",
             "follow_up": follow_up.isoformat()}, today())  # fmt: skip
    assert due.follow_ups_due(db, counselor, follow_up - timedelta(days=1)) == []
    assert len(due.follow_ups_due(db, counselor, follow_up)) == 1
    written(db, counselor, "talk",
            {"student_ids": [students["s1"].id], "category": "life", "summary": "好多了"},
            today() + timedelta(days=1))  # fmt: skip
    assert due.follow_ups_due(db, counselor, follow_up) == []


# --- staff leave (§1.9) ---------------------------------------------------------------------


def test_leave_is_requested_then_decided_by_the_leader(client, db, login):
    login("counselor1")
    page = client.get("/leave")
    start = today() + timedelta(days=30)
    bad = client.post(
        "/leave/requests",
        data={"_csrf_token": form_csrf(page.text), "start": start.isoformat(),
              "end": (start - timedelta(days=1)).isoformat(), "reason": "探亲"},
    )  # fmt: skip
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.text
    asked = client.post(
        "/leave/requests",
        data={"_csrf_token": form_csrf(page.text), "start": start.isoformat(),
              "end": start.isoformat(), "reason": "探亲"},
        follow_redirects=False,
    )  # fmt: skip
    assert asked.status_code == 303
    db.rollback()
    leave = db.scalar(
        select(StaffLeave).where(StaffLeave.reason == "探亲").order_by(StaffLeave.id.desc())
    )
    assert leave.status == LeaveStatus.requested

    client.cookies.clear()
    login("teacher1")
    refused = client.post(
        f"/leave/{leave.id}/decide",
        data={"_csrf_token": form_csrf(client.get("/").text), "decision": "approve"},
    )
    assert refused.status_code == 403

    client.cookies.clear()
    login("leader1")
    listed = client.get("/department/leave")
    assert "探亲" in listed.text
    client.post(
        f"/leave/{leave.id}/decide",
        data={"_csrf_token": form_csrf(listed.text), "decision": "approve"},
        follow_redirects=False,
    )
    db.rollback()
    assert db.get(StaffLeave, leave.id).status == LeaveStatus.approved


def test_the_leader_sees_each_persons_week(login):
    page = login("leader1").get("/department/week")
    assert page.status_code == 200
    assert 'data-person="counselor1"' in page.text and "谈心谈话（不同学生）" in page.text


# --- editing: the author only, every revision kept ------------------------------------------


def test_the_author_edits_a_record_and_the_history_keeps_both(login, db):
    client = login("counselor1")
    student = student_of(db, "counselor1")
    fields = {"student_ids": str(student.id), "category": "life", "summary": "初次谈话"}
    entry_id, _ = save(client, "talk", fields)
    listed = client.get("/records")
    assert f"/entries/{entry_id}/edit" in listed.text

    form = client.get(f"/entries/{entry_id}/edit")
    assert "初次谈话" in form.text and 'name="base_revision" value="1"' in form.text
    edited = client.post(
        f"/entries/{entry_id}/revisions",
        data={"_csrf_token": form_csrf(form.text), "base_revision": "1", **fields,
              "summary": "补充：已联系宿管"},
        follow_redirects=False,
    )  # fmt: skip
    assert edited.status_code == 303
    db.rollback()
    entry = db.get(Entry, entry_id)
    assert (entry.revision, entry.payload["summary"]) == (2, "补充：已联系宿管")
    history = client.get(f"/entries/{entry_id}/history")
    assert "初次谈话" in history.text and "补充：已联系宿管" in history.text


def test_an_edit_from_an_old_revision_keeps_the_servers_version(login, db):
    client = login("counselor1")
    student = student_of(db, "counselor1")
    fields = {"student_ids": str(student.id), "category": "life", "summary": "第一版"}
    entry_id, _ = save(client, "talk", fields)
    form = client.get(f"/entries/{entry_id}/edit")
    token = form_csrf(form.text)
    first = {"_csrf_token": token, "base_revision": "1", **fields, "summary": "手机甲的修改"}
    assert client.post(f"/entries/{entry_id}/revisions", data=first).status_code in (200, 303)
    late = {"_csrf_token": token, "base_revision": "1", **fields, "summary": "手机乙的修改"}
    answer = client.post(
        f"/entries/{entry_id}/revisions", data=late, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 422 and "已在别处被修改" in answer.text
    assert "手机乙的修改" in answer.text, "what was typed stays in the form"
    db.rollback()
    assert db.get(Entry, entry_id).payload["summary"] == "手机甲的修改"


def test_only_the_author_may_edit(client, login, db):
    login("counselor1")
    student = student_of(db, "counselor1")
    entry_id, _ = save(client, "talk", {"student_ids": str(student.id), "category": "life",
                                        "summary": "辅导员的谈话"})  # fmt: skip
    client.cookies.clear()
    login("leader1")
    assert client.get(f"/entries/{entry_id}/edit").status_code == 403
    assert "辅导员的谈话" in client.get(f"/entries/{entry_id}/history").text, "leaders read it"


def test_the_due_page_lists_a_follow_up_that_has_come(login, db):
    client = login("counselor1")
    student = student_of(db, "counselor1")
    fields = {"student_ids": str(student.id), "category": "life", "summary": "回访测试：想家",
              "follow_up": today().isoformat()}  # fmt: skip
    save(client, "talk", fields)
    page = client.get("/due")
    assert page.status_code == 200
    assert "生活：回访测试：想家" in page.text
    assert "data-parent-due" in page.text, "demo students never contacted are due"


@pytest.mark.parametrize(
    "kind, payload, reason",
    [
        ("parent_contact", {"student_id": [1, 2], "guardian_id": 1}, "学生编号必须是整数"),
        ("parent_contact", {"student_id": True, "guardian_id": 1}, "学生编号必须是整数"),
        ("talk", {"student_ids": {"a": 1}, "category": "study", "summary": "x"}, "学生格式不正确"),
        (
            "lecture_observation",
            {"class_course_id": "1", "date": "2026-01-01"},
            "课程编号必须是整数",
        ),
        ("meeting", {"meeting_type": "class_meeting", "class_id": [1]}, "班级编号必须是整数"),
    ],
)
def test_a_record_of_the_wrong_shape_is_rejected_through_sync_never_a_crash(
    login, kind, payload, reason
):
    answer = push(
        login("counselor1"),
        [{"id": str(new_entry_id()), "op": "create", "kind": kind, "mutation_no": 1,
          "payload": payload}],
    )  # fmt: skip
    assert answer.status_code == 200
    (result,) = answer.json()["results"]
    assert result["status"] == "rejected" and reason in result["reason"]
