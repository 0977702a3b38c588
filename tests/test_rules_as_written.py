"""The guideline's other rules read as written (issue 13): weekly meetings with their
attendees and chair (§2.1–§2.3), the 班会手册, 年级讲评 and the leaders' tasks (§1.4),
综合素质测评 (§1.6), approved leave meeting the roster (§1.9, §2.4), the parent-contact
intervals as the college's settings (§2.5), course teachers' phones (§2.6.2).

Rules are tested on a made-up class inside a rolled-back transaction; pages with the demo
people, removing what they made."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from server import clock, duty, meetings, quality_assessment, tasks
from server.clock import today
from server.models import (
    Building,
    ClassCourse,
    CourseTeacher,
    Department,
    DutyShift,
    Entry,
    EntryRevision,
    LeaderTask,
    LeaveStatus,
    QualityAssessment,
    QualitySubmission,
    Role,
    SchoolClass,
    Semester,
    Slot,
    StaffLeave,
    Student,
    User,
    UserRole,
)
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import form_csrf, user_named
from tests.other_department import other_department

MONDAY = clock.monday_of(today())


def write(db, user, payload: dict, kind: str = "meeting"):
    outcome = merge.apply(
        db, user, merge.Mutation(id=new_entry_id(), op="create", kind=kind, payload=payload)
    )
    db.flush()
    return outcome


def meeting(meeting_type: str, day, **more) -> dict:
    return {"meeting_type": meeting_type, "date": day.isoformat(), **more}


def term_from(db, first):
    """This semester from `first` (the semesters table is rolled back with the test)."""
    db.execute(delete(Semester))
    db.add(Semester(name="本学期", first_day=first, last_day=first + timedelta(days=140),
                    holidays=[]))  # fmt: skip
    db.flush()


def outsider_of(db) -> User:
    """A staff member of another department (made in the rolled-back transaction)."""
    other = Department(name=f"外系{new_entry_id().hex[:6]}")
    db.add(other)
    db.flush()
    person = User(username=f"ro_{new_entry_id().hex[:8]}", name="外系老师", password_hash="-",
                  department_id=other.id)  # fmt: skip
    person.role_rows = [UserRole(role=Role.counselor)]
    db.add(person)
    db.flush()
    return person


def leader_of(db, department_id) -> User:
    leader = User(username=f"rl{department_id}_{new_entry_id().hex[:6]}", name="系部负责人丁",
                  password_hash="-", department_id=department_id)  # fmt: skip
    leader.role_rows = [UserRole(role=Role.leader)]
    db.add(leader)
    db.flush()
    return leader


# --- weekly meetings (§2.1–§2.3) ----------------------------------------------------------------


def test_meeting_attendees_are_picked_from_the_departments_staff(db, made_up_class):
    people, students, room, department = made_up_class
    chair = leader_of(db, department.id)
    outsider = outsider_of(db)
    refused = write(db, chair, meeting("staff", today(), chair_id=chair.id,
                                       attendee_ids=[people["teacher"].id, outsider.id]))  # fmt: skip
    assert refused.status == "rejected" and refused.reason == "参会人员只能从本系部的老师中选择。"
    held = write(db, chair, meeting("staff", today(), chair_id=chair.id,
                                    attendee_ids=[people["teacher"].id]))  # fmt: skip
    assert held.status == "applied"
    payload = db.get(Entry, held.id).payload
    # the chair attended: added to the attendees
    assert payload["attendee_ids"] == sorted([chair.id, people["teacher"].id])
    assert payload["chair_id"] == chair.id


def test_a_department_meeting_needs_a_chair_from_the_department(db, made_up_class):
    people, students, room, department = made_up_class
    outsider = outsider_of(db)
    for meeting_type in ("staff", "cadre", "grade_review"):
        refused = write(db, people["counselor"], meeting(meeting_type, today(), grade=2025))
        assert (refused.status, refused.reason) == ("rejected", "请选择主持人。")
    refused = write(db, people["counselor"], meeting("cadre", today(), chair_id=outsider.id))
    assert refused.reason == "主持人只能从本系部的老师中选择。"


def test_grade_review_is_a_meeting_of_one_grade(db, made_up_class):
    """年级讲评 (§1.4) is recorded as a meeting of the grade (入学年份)."""
    people, students, room, department = made_up_class
    chair = people["counselor"]
    refused = write(db, chair, meeting("grade_review", today(), chair_id=chair.id))
    assert refused.reason == "年级讲评请填写年级（入学年份）。"
    bad = write(db, chair, meeting("grade_review", today(), chair_id=chair.id, grade=1999))
    assert bad.status == "rejected" and "年级" in bad.reason
    held = write(db, chair, meeting("grade_review", today(), chair_id=chair.id, grade=2025,
                                    theme="期中讲评"))  # fmt: skip
    assert held.status == "applied"
    assert db.get(Entry, held.id).payload["grade"] == 2025


def test_weekly_staff_and_cadre_meetings_missing_weeks_are_listed(db):
    """§2.1, §2.2: each week of the semester before this one without a meeting is listed."""
    term_from(db, MONDAY - timedelta(days=21))  # three whole weeks before this one
    chair = outsider_of(db)  # a department of its own: no meetings of other tests in it
    chair.role_rows.append(UserRole(role=Role.leader))
    db.flush()
    write(db, chair, meeting("staff", MONDAY - timedelta(days=12), chair_id=chair.id))  # week 2
    write(db, chair, meeting("staff", today(), chair_id=chair.id))  # this week
    missing = meetings.weeks_without(db, chair.department_id, today())
    staff, cadre = missing.department
    weeks = [MONDAY - timedelta(days=21), MONDAY - timedelta(days=7)]
    assert (staff.label, staff.weeks, staff.this_week) == ("工作例会", weeks, True)
    assert (cadre.label, len(cadre.weeks), cadre.this_week) == ("学生干部例会", 3, False)
    assert missing.count == 5


def test_weekly_class_committee_meeting_missing_weeks_per_class(db, made_up_class):
    """§2.3: each class holds a class-committee meeting every week."""
    people, students, room, department = made_up_class
    term_from(db, MONDAY - timedelta(days=14))
    taught = db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == people["teacher"].id)
    )
    write(db, people["teacher"], meeting("committee", MONDAY - timedelta(days=10),
                                         class_id=taught.id))  # fmt: skip
    row = next(m for m in meetings.weeks_without(db, department.id, today()).classes
               if m.school_class.id == taught.id)  # fmt: skip
    assert row.weeks == [MONDAY - timedelta(days=7)] and not row.this_week


def test_this_weeks_class_committee_meeting_shows_for_teacher_and_counselor(db, made_up_class):
    people, students, room, department = made_up_class
    taught = db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == people["teacher"].id)
    )
    for who in ("teacher", "counselor"):
        (row,) = [
            r for r in meetings.my_committee_week(db, people[who]) if r.school_class.id == taught.id
        ]
        assert row.meeting is None
    held = write(db, people["teacher"], meeting("committee", today(), class_id=taught.id))
    for who in ("teacher", "counselor"):
        (row,) = [
            r for r in meetings.my_committee_week(db, people[who]) if r.school_class.id == taught.id
        ]
        assert row.meeting is not None and row.meeting.id == held.id
    # a committee meeting of last week is not this week's
    assert meetings.my_committee_week(db, people["covering"]) == [] or all(
        r.meeting is None for r in meetings.my_committee_week(db, people["covering"])
    )


def test_class_meeting_handbook_lists_the_class_meetings_in_date_order(db, made_up_class):
    people, students, room, department = made_up_class
    taught = db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == people["teacher"].id)
    )
    late = write(db, people["teacher"], meeting("class_meeting", today(), class_id=taught.id,
                                                theme="诚信考试"))  # fmt: skip
    early = write(db, people["teacher"], meeting("committee", today() - timedelta(days=3),
                                                 class_id=taught.id))  # fmt: skip
    write(db, people["counselor"], meeting("cadre", today(), chair_id=people["counselor"].id))
    assert [e.id for e in meetings.handbook(db, taught)] == [early.id, late.id]


def test_the_staff_meeting_is_chaired_by_the_departments_leader(db, made_up_class):
    """§2.1: 学生工作例会 "由系部学生工作负责人主持"."""
    people, students, room, department = made_up_class
    refused = write(
        db, people["counselor"], meeting("staff", today(), chair_id=people["counselor"].id)
    )
    assert refused.reason == "工作例会由系部学生工作负责人主持：请选择本系部的负责人。"
    leader = leader_of(db, department.id)
    assert (
        write(db, people["counselor"], meeting("staff", today(), chair_id=leader.id)).status
        == "applied"
    )


# --- pages: 本周, the leader's weeks, the handbook --------------------------------------------


@pytest.fixture
def demo_meetings(sessionmaker):
    made = []
    yield made
    with sessionmaker() as db:
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(made)))
        db.execute(delete(Entry).where(Entry.id.in_(made)))
        db.commit()


def test_my_week_shows_this_weeks_class_committee_meeting(login, sessionmaker, demo_meetings):
    with sessionmaker() as db:
        teacher1 = user_named(db, "teacher1")
        own = db.scalar(select(SchoolClass).where(SchoolClass.class_teacher_id == teacher1.id))
        counselor1 = user_named(db, "counselor1")
    client = login("teacher1")
    page = client.get("/week").text
    assert f'data-committee-class="{own.id}" data-held="no"' in page
    form = client.get("/records/new/meeting").text
    assert f'name="attendee_ids" value="{counselor1.id}"' in form  # staff picked, not typed
    entry_id = new_entry_id()
    demo_meetings.append(entry_id)
    saved = client.post("/records/meeting", data={
        "_csrf_token": form_csrf(form), "entry_id": str(entry_id), "meeting_type": "committee",
        "class_id": str(own.id), "date": today().isoformat(), "attendee_ids": [str(counselor1.id)],
        "chair_id": "", "attendees": "班长、学习委员", "theme": "", "grade": "",
        "last_week": "", "this_week": "准备期中考试",
    }, follow_redirects=False)  # fmt: skip
    assert saved.status_code in (302, 303), saved.text
    assert f'data-committee-class="{own.id}" data-held="yes"' in client.get("/week").text
    handbook = client.get(f"/classes/{own.id}/meetings").text
    assert f'data-handbook-meeting="{entry_id}"' in handbook and "准备期中考试" in handbook
    assert counselor1.name in handbook and "班长、学习委员" in handbook


def test_a_meeting_form_with_an_attendee_from_another_department_is_refused(login, sessionmaker):
    with other_department(sessionmaker) as elsewhere, sessionmaker() as db:
        leader1 = user_named(db, "leader1").id
        client = login("leader1")
        form = client.get("/records/new/meeting").text
        refused = client.post("/records/meeting", data={
            "_csrf_token": form_csrf(form), "entry_id": str(new_entry_id()), "meeting_type": "staff",
            "date": today().isoformat(), "attendee_ids": [str(elsewhere.people["counselor_x"])],
            "chair_id": str(leader1),
        })  # fmt: skip
        assert refused.status_code == 422 and "参会人员只能从本系部的老师中选择" in refused.text


def test_the_leader_sees_the_weeks_without_a_meeting(login):
    page = login("leader1").get("/department/meetings")
    assert page.status_code == 200
    assert 'data-meeting="工作例会"' in page.text and 'data-meeting="学生干部例会"' in page.text
    assert "data-class-committee=" in page.text
    assert login("teacher1").get("/department/meetings").status_code == 403


def test_the_handbook_is_printable(login, client):
    """班会手册: the page carries the print rules (app.css @media print for .handbook)."""
    css = client.get("/static/app.css").text
    assert (
        ".handbook-meeting { break-inside: avoid" in css
        and ".print-only { display: block; }" in css
    )


# --- 主管领导布置的工作 (§1.4) -----------------------------------------------------------------


def test_leader_task_shows_on_the_assignees_home_until_done(db, made_up_class):
    people, students, room, department = made_up_class
    leader = leader_of(db, department.id)
    task = tasks.assign(db, leader, "整理贫困生档案", "按学院模板", today() + timedelta(days=3),
                        [people["teacher"].id, people["counselor"].id])  # fmt: skip
    assert [p.task.id for p in tasks.open_for(db, people["teacher"])] == [task.id]
    (part,) = tasks.open_for(db, people["teacher"])
    with pytest.raises(tasks.TaskError, match="请填写完成情况"):
        tasks.mark_done(db, people["teacher"], part.id, "  ")
    tasks.mark_done(db, people["teacher"], part.id, "已交系部")
    assert tasks.open_for(db, people["teacher"]) == []
    assert [p.note for p in tasks.done_by(db, people["teacher"])] == ["已交系部"]
    assert len(tasks.open_for(db, people["counselor"])) == 1  # each person's part is their own
    with pytest.raises(tasks.TaskError, match="已经标记完成"):
        tasks.mark_done(db, people["teacher"], part.id, "再交一次")


def test_only_the_assignee_marks_their_part_of_a_task_done(db, made_up_class):
    people, students, room, department = made_up_class
    leader = leader_of(db, department.id)
    tasks.assign(db, leader, "家访", "", today(), [people["teacher"].id])
    (part,) = tasks.open_for(db, people["teacher"])
    with pytest.raises(PermissionError):
        tasks.mark_done(db, people["counselor"], part.id, "替他完成")
    with pytest.raises(LookupError):
        tasks.mark_done(db, people["teacher"], 0, "不存在")


@pytest.mark.parametrize(
    "title, due_days, who, reason",
    [
        ("", 1, "teacher", "请填写工作内容"),
        ("x" * 201, 1, "teacher", "工作内容太长"),
        ("家访", -1, "teacher", "完成期限不能早于今天"),
        ("家访", 1, None, "请至少选择一位老师"),
        ("家访", 1, "outsider", "只能给本系部的老师布置工作"),
    ],
)
def test_a_task_with_bad_content_is_refused(db, made_up_class, title, due_days, who, reason):
    people, students, room, department = made_up_class
    leader = leader_of(db, department.id)
    outsider = outsider_of(db)
    ids = [] if who is None else [outsider.id if who == "outsider" else people[who].id]
    with pytest.raises(tasks.TaskError, match=reason):
        tasks.assign(db, leader, title, "", today() + timedelta(days=due_days), ids)


def test_counselors_do_not_assign_tasks(db, made_up_class):
    people, students, room, department = made_up_class
    with pytest.raises(tasks.TaskError, match="只有系部负责人和学工处"):
        tasks.assign(db, people["counselor"], "家访", "", today(), [people["teacher"].id])


def test_a_task_on_the_pages_assigned_shown_on_home_and_done(login, sessionmaker):
    with sessionmaker() as db:
        teacher1 = user_named(db, "teacher1")
    leader = login("leader1")
    page = leader.get("/tasks").text
    bad = leader.post("/tasks/assign", data={"_csrf_token": form_csrf(page), "title": "统计",
                                             "due": "明天", "staff_ids": [str(teacher1.id)]})  # fmt: skip
    assert bad.status_code == 422 and "完成期限" in bad.text
    made = leader.post("/tasks/assign", data={
        "_csrf_token": form_csrf(page), "title": "上报心理普查名单", "detail": "",
        "due": (today() + timedelta(days=2)).isoformat(), "staff_ids": [str(teacher1.id)],
    }, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    try:
        teacher = login("teacher1")
        home = teacher.get("/").text
        assert 'data-card="领导布置的工作（待完成）"' in home
        mine = teacher.get("/tasks").text
        assert "上报心理普查名单" in mine
        with sessionmaker() as db:
            part = db.scalar(
                select(LeaderTask).where(LeaderTask.title == "上报心理普查名单")
            ).assignees[0]
        empty = teacher.post(
            f"/tasks/parts/{part.id}/done", data={"_csrf_token": form_csrf(mine), "note": ""}
        )
        assert empty.status_code == 422 and "请填写完成情况" in empty.text
        other = login("counselor1")
        assert (
            other.post(
                f"/tasks/parts/{part.id}/done",
                data={"_csrf_token": form_csrf(other.get("/tasks").text), "note": "x"},
            ).status_code
            == 403
        )
        teacher = login("teacher1")
        done = teacher.post(f"/tasks/parts/{part.id}/done", data={
            "_csrf_token": form_csrf(teacher.get("/tasks").text), "note": "已上报 3 人"},
            follow_redirects=False)  # fmt: skip
        assert done.status_code == 303
        assert (
            f'data-task-staff="{teacher1.id}" data-done="yes"'
            in login("leader1").get("/tasks").text
        )
    finally:
        with sessionmaker() as db:
            db.execute(delete(LeaderTask).where(LeaderTask.title == "上报心理普查名单"))
            db.commit()


# --- 综合素质测评 (§1.6) --------------------------------------------------------------------------

YEAR = quality_assessment.school_year(today())


def taught_class(db, people) -> SchoolClass:
    return db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == people["teacher"].id)
    )


def test_quality_assessment_recorded_and_submitted_to_the_department(db, made_up_class):
    people, students, room, department = made_up_class
    school_class = taught_class(db, people)
    rows = {s.id: ("85", "良好") for s in students.values()}
    assert quality_assessment.save(db, school_class, YEAR, rows) == 6
    status = {
        r.school_class.id: r for r in quality_assessment.department_status(db, department.id, YEAR)
    }
    assert (status[school_class.id].recorded, status[school_class.id].submitted) == (6, None)
    quality_assessment.submit(db, people["teacher"], school_class, YEAR)
    status = {
        r.school_class.id: r for r in quality_assessment.department_status(db, department.id, YEAR)
    }
    assert status[school_class.id].submitted.submitted_by_id == people["teacher"].id
    with pytest.raises(quality_assessment.AssessmentError, match="已提交系部，不能再修改"):
        quality_assessment.save(db, school_class, YEAR, rows)
    with pytest.raises(quality_assessment.AssessmentError, match="已经提交"):
        quality_assessment.submit(db, people["teacher"], school_class, YEAR)


def test_quality_assessment_cannot_be_submitted_with_students_missing(db, made_up_class):
    people, students, room, department = made_up_class
    school_class = taught_class(db, people)
    quality_assessment.save(db, school_class, YEAR, {students["s1"].id: ("90", "优秀")})
    with pytest.raises(quality_assessment.AssessmentError, match="还有 5 名学生没有测评结果"):
        quality_assessment.submit(db, people["teacher"], school_class, YEAR)


@pytest.mark.parametrize(
    "score, level, reason",
    [
        ("101", "优秀", "超出范围"),
        ("abc", "优秀", "无法识别"),
        ("80", "中上", "等级“中上”无法识别"),
        ("", "良好", "无法识别"),
    ],
)
def test_quality_assessment_bad_score_or_level_is_refused_and_nothing_saved(
    db, made_up_class, score, level, reason
):
    people, students, room, department = made_up_class
    school_class = taught_class(db, people)
    rows = {students["s1"].id: ("88", "良好"), students["s2"].id: (score, level)}
    with pytest.raises(quality_assessment.AssessmentError, match=reason) as refused:
        quality_assessment.save(db, school_class, YEAR, rows)
    assert students["s2"].name in str(refused.value)
    assert quality_assessment.results(db, school_class, YEAR) == {}


def test_only_the_class_teacher_records_quality_assessment(db, made_up_class):
    people, students, room, department = made_up_class
    school_class = taught_class(db, people)
    assert (
        quality_assessment.class_to_record(db, people["teacher"], school_class.id) is school_class
    )
    with pytest.raises(PermissionError, match="由班主任录入"):
        quality_assessment.class_to_record(db, people["counselor"], school_class.id)
    uncovered = db.scalar(
        select(SchoolClass).where(SchoolClass.counselor_id == people["covering"].id)
    )
    # §1.10: a counselor covering a class without a class teacher does its work
    assert quality_assessment.class_to_record(db, people["covering"], uncovered.id) is uncovered


@pytest.mark.parametrize(
    "text, year", [("2025-2026", "2025-2026"), ("２０２５—２０２６学年", "2025-2026")]
)
def test_a_school_year_is_two_years_in_a_row(text, year):
    assert quality_assessment.parse_year(text) == year
    with pytest.raises(quality_assessment.AssessmentError):
        quality_assessment.parse_year("2025-2027")


def test_quality_assessment_on_the_pages(login, sessionmaker):
    with sessionmaker() as db:
        teacher1 = user_named(db, "teacher1")
        own = db.scalar(select(SchoolClass).where(SchoolClass.class_teacher_id == teacher1.id))
        kids = db.scalars(select(Student.id).where(Student.class_id == own.id,
                                                   Student.status == "enrolled")).all()  # fmt: skip
    client = login("teacher1")
    try:
        page = client.get(f"/quality/classes/{own.id}")
        assert page.status_code == 200
        assert client.get(f"/quality/classes/{own.id}?year=明年").status_code == 400
        token = form_csrf(page.text)
        bad = client.post(
            f"/quality/classes/{own.id}/results",
            data={
                "_csrf_token": token,
                "year": YEAR,
                f"score_{kids[0]}": "120",
                f"level_{kids[0]}": "优秀",
            },
        )
        assert bad.status_code == 422 and "超出范围" in bad.text
        early = client.post(
            f"/quality/classes/{own.id}/submit", data={"_csrf_token": token, "year": YEAR}
        )
        assert early.status_code == 409 and "没有测评结果" in early.text
        fields = {"_csrf_token": token, "year": YEAR}
        for k in kids:
            fields |= {f"score_{k}": "80", f"level_{k}": "良好"}
        assert client.post(f"/quality/classes/{own.id}/results", data=fields,
                           follow_redirects=False).status_code == 303  # fmt: skip
        leader = login("leader1").get("/department/quality").text
        assert f'data-quality-status="{own.id}" data-submitted="no"' in leader
        client = login("teacher1")
        assert client.post(f"/quality/classes/{own.id}/submit", data={"_csrf_token": token, "year": YEAR},
                           follow_redirects=False).status_code == 303  # fmt: skip
        leader = login("leader1").get("/department/quality").text
        assert f'data-quality-status="{own.id}" data-submitted="yes"' in leader
        assert login("counselor1").get(f"/quality/classes/{own.id}").status_code == 403
    finally:
        with sessionmaker() as db:
            db.execute(delete(QualitySubmission))
            db.execute(delete(QualityAssessment))
            db.commit()


# --- approved leave meets the roster (§1.9, §2.4) ----------------------------------------------


def test_duty_shift_on_approved_leave_is_flagged_with_a_substitute(db, made_up_class):
    people, students, room, department = made_up_class
    day = today() + timedelta(days=2)
    shifts = [
        duty.Shift(day, Slot.evening, room.building_id, people["counselor"].id),
        duty.Shift(day, Slot.evening, room.building_id + 10**6, people["teacher"].id),
        duty.Shift(day + timedelta(days=1), Slot.evening, room.building_id, people["counselor"].id),
    ]
    db.add(StaffLeave(staff_id=people["counselor"].id, department_id=department.id, reason="病假",
                      start=day, end=day, status=LeaveStatus.approved))  # fmt: skip
    db.flush()
    (clash,) = duty.leave_clashes(db, department.id, shifts)
    assert (clash.date, clash.slot, clash.staff_id) == (day, Slot.evening, people["counselor"].id)
    # not the one on leave, not teacher (on duty in the same round): someone free that evening
    assert clash.substitute_id not in (None, people["counselor"].id, people["teacher"].id)
    names = {u.id: u.name for u in db.scalars(select(User))}
    assert "已批准请假" in clash.text(names, {room.building_id: "周测楼"})
    assert "建议由" in clash.text(names, {room.building_id: "周测楼"})


def test_leave_not_approved_does_not_flag_a_shift(db, made_up_class):
    people, students, room, department = made_up_class
    day = today() + timedelta(days=2)
    for status in (LeaveStatus.requested, LeaveStatus.rejected):
        db.add(StaffLeave(staff_id=people["counselor"].id, department_id=department.id,
                          reason="事假", start=day, end=day, status=status))  # fmt: skip
    db.flush()
    shifts = [duty.Shift(day, Slot.morning, room.building_id, people["counselor"].id)]
    assert duty.leave_clashes(db, department.id, shifts) == []


def test_saved_shift_on_approved_leave_is_on_the_leaders_list(login, sessionmaker):
    with sessionmaker() as db:
        counselor1 = user_named(db, "counselor1")
        building = db.scalar(select(Building.id).order_by(Building.id))
        day = today() + timedelta(days=3)
        shift = DutyShift(date=day, slot=Slot.morning, department_id=counselor1.department_id,
                          building_id=building, staff_id=counselor1.id)  # fmt: skip
        leave = StaffLeave(staff_id=counselor1.id, department_id=counselor1.department_id,
                           reason="病假", start=day, end=day, status=LeaveStatus.approved)  # fmt: skip
        db.add_all([shift, leave])
        db.commit()
        ids = shift.id, leave.id
    try:
        leader = login("leader1")
        page = leader.get("/duty/leave-clashes").text
        assert f'data-leave-clash="{counselor1.id}"' in page and "建议代班" in page
        assert 'data-card="请假与值班冲突"' in leader.get("/").text
        start = day.isoformat()
        roster = leader.get(f"/duty/roster?start={start}&end={start}").text
        loaded = leader.post("/duty/roster/draft", data={
            "_csrf_token": form_csrf(roster), "department_id": str(counselor1.department_id),
            "start": start, "end": start, "staff": [str(counselor1.id)],
            "buildings": [str(building)], "slots": ["morning"], "holidays": "", "action": "load",
        })  # fmt: skip
        assert loaded.status_code == 200, loaded.text[:500]
        assert "data-leave-clashes=" in loaded.text and counselor1.name in loaded.text
    finally:
        with sessionmaker() as db:
            db.execute(delete(DutyShift).where(DutyShift.id == ids[0]))
            db.execute(delete(StaffLeave).where(StaffLeave.id == ids[1]))
            db.commit()


# --- the parent-contact intervals are the college's settings (§2.5) -----------------------------


def test_parent_contact_intervals_are_labelled_as_the_colleges_settings(login):
    due = login("counselor1").get("/due").text
    assert "data-cadence-note" in due and "学院（或本系部）的设定" in due
    assert "经常联系" in due and "加强联系" in due and "保持联系" in due
    rules = login("leader1").get("/department/rules").text
    assert "天数是学院的设定，不是《工作规范》的原文" in rules and "学院设定 14 天" in rules
    assert "经常联系；学院设定 14 天" in rules


# --- course teachers' phones with tap-to-call (§2.6.2) ------------------------------------------


def test_course_teachers_phone_numbers_tap_to_call(login, sessionmaker):
    with sessionmaker() as db:
        teacher1 = user_named(db, "teacher1")
        own = db.scalar(select(SchoolClass).where(SchoolClass.class_teacher_id == teacher1.id))
        taught = db.scalar(select(ClassCourse).where(ClassCourse.class_id == own.id).limit(1))
        course_teacher = db.get(CourseTeacher, taught.teacher_id)
        before = course_teacher.phone
        course_teacher.phone = "13900001111"
        db.commit()
    try:
        page = login("teacher1").get("/course-teachers").text
        assert '<a class="button" href="tel:13900001111" data-call>拨打 13900001111</a>' in page
        assert f'data-course-teachers="{own.id}"' in page
    finally:
        with sessionmaker() as db:
            db.get(CourseTeacher, taught.teacher_id).phone = before
            db.commit()
