"""Class attendance checks (检查学生上课, §1.5) and course roles (§2.11)."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server import attendance, clock
from server.clock import today
from server.models import ClassCourse, CourseRole, Entry, SchoolClass, Student
from tests.conftest import csrf_token, form_csrf, user_named
from tests.sync_helpers import new_device, push

# --- helpers ------------------------------------------------------------------------------


def class_of(db, username: str) -> SchoolClass:
    """The class this person is class teacher of (teacher1 has one in the demo college)."""
    return db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == user_named(db, username).id)
    )


def other_class(db, username: str) -> SchoolClass:
    """A class of the same counselor that is not this class teacher's."""
    mine = class_of(db, username)
    return db.scalar(
        select(SchoolClass)
        .where(SchoolClass.counselor_id == mine.counselor_id, SchoolClass.id != mine.id)
        .order_by(SchoolClass.id)
        .limit(1)
    )


def students_of(db, school_class: SchoolClass) -> list[Student]:
    return attendance.roster(db, school_class.id)


def a_course_of(db, school_class: SchoolClass) -> int:
    return db.scalar(
        select(ClassCourse.course_id)
        .where(ClassCourse.class_id == school_class.id)
        .order_by(ClassCourse.course_id)
        .limit(1)
    )


def check_form(client, school_class: SchoolClass) -> tuple[str, dict]:
    page = client.get(f"/classes/{school_class.id}/attendance/new")
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(entry_id|class_id|_csrf_token)" value="([^"]+)"', page.text))
    return page.text, fields


def form_for(db, fields: dict, school_class: SchoolClass, marks: dict[int, str], **extra) -> dict:
    return {
        **fields,
        "course_id": str(a_course_of(db, school_class)),
        "period": "3-4",
        "date": today().isoformat(),
        **{f"mark_{s.id}": "present" for s in students_of(db, school_class)},
        **{f"mark_{student_id}": mark for student_id, mark in marks.items()},
        "note": "",
        **extra,
    }


def record(db, school_class: SchoolClass, on: date, marks: dict[int, str], period="1-2"):
    """A check stored as it would be after merge (for history tests on fixed dates)."""
    db.add(
        Entry(
            id=uuid.uuid4(),
            kind=attendance.KIND,
            author_id=school_class.class_teacher_id,
            department_id=school_class.department_id,
            class_id=school_class.id,
            payload={
                "class_id": school_class.id,
                "course_id": None,
                "period": period,
                "date": on.isoformat(),
                "marks": {str(k): v for k, v in marks.items()},
                "note": "",
            },
            recorded_at=datetime.now(UTC),
        )
    )
    db.commit()


# --- recording a check --------------------------------------------------------------------


def test_the_form_shows_the_roster_the_class_courses_and_evening_self_study(login, db):
    school_class = class_of(db, "teacher1")
    html, fields = check_form(login("teacher1"), school_class)
    assert school_class.name in html
    for student in students_of(db, school_class):
        assert f'name="mark_{student.id}" value="present"' in html
        assert student.name in html
    for course in attendance.courses_of(db, school_class.id):
        assert f'<option value="{course.id}"' in html
    assert "晚自习" in html and "第9-10节" in html
    assert f'value="{today().isoformat()}"' in html
    assert fields["class_id"] == str(school_class.id)


def test_teacher1_records_a_check_once_even_when_saved_twice(login, db):
    school_class = class_of(db, "teacher1")
    client = login("teacher1")
    _, fields = check_form(client, school_class)
    absent, late, leave = students_of(db, school_class)[10:13]
    form = form_for(
        db, fields, school_class, {absent.id: "absent", late.id: "late", leave.id: "leave"}
    )
    first = client.post("/attendance/checks", data=form, follow_redirects=False)
    again = client.post("/attendance/checks", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303

    entry = db.get(Entry, uuid.UUID(fields["entry_id"]))
    assert entry.kind == "attendance_check"
    assert entry.author_id == user_named(db, "teacher1").id
    assert entry.class_id == school_class.id
    assert entry.department_id == school_class.department_id
    assert entry.payload["marks"] == {
        str(absent.id): "absent",
        str(late.id): "late",
        str(leave.id): "leave",
    }  # present is the default and not stored
    assert entry.payload["period"] == "3-4"
    assert db.query(Entry).filter_by(id=entry.id).count() == 1
    records = client.get(first.headers["location"]).text
    assert re.search(rf'id="entry-{entry.id}">\s*<span class="kind">检查上课</span>', records)
    assert f"{today().isoformat()} 缺勤 1 人" in records


def test_an_htmx_save_answers_with_a_client_redirect(login, db):
    school_class = class_of(db, "teacher1")
    client = login("teacher1")
    _, fields = check_form(client, school_class)
    response = client.post(
        "/attendance/checks",
        data=form_for(db, fields, school_class, {}),
        headers={"HX-Request": "true"},
    )
    assert response.status_code in (200, 201)  # like save_visit: @post's default
    assert response.headers["HX-Redirect"].startswith("/records?saved=")


def test_evening_self_study_needs_no_course(login, db):
    school_class = class_of(db, "teacher1")
    client = login("teacher1")
    _, fields = check_form(client, school_class)
    form = form_for(db, fields, school_class, {}, course_id="", period="evening")
    assert client.post("/attendance/checks", data=form, follow_redirects=False).status_code == 303
    entry = db.get(Entry, uuid.UUID(fields["entry_id"]))
    assert entry.payload["period"] == "evening" and entry.payload["course_id"] is None


def test_the_counselor_covering_the_class_records_a_check_too(login, db):
    school_class = other_class(db, "teacher1")
    client = login("counselor1")
    _, fields = check_form(client, school_class)
    response = client.post(
        "/attendance/checks",
        data=form_for(db, fields, school_class, {}),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert db.get(Entry, uuid.UUID(fields["entry_id"])).class_id == school_class.id


# --- scope and bad input ------------------------------------------------------------------


def test_a_class_teacher_cannot_open_the_check_of_someone_elses_class(login, db):
    response = login("teacher1").get(f"/classes/{other_class(db, 'teacher1').id}/attendance/new")
    assert response.status_code == 403
    assert "不在您的工作范围内" in response.text


def test_a_class_teacher_posting_a_check_for_someone_elses_class_saves_nothing(login, db):
    client = login("teacher1")
    mine, foreign = class_of(db, "teacher1"), other_class(db, "teacher1")
    _, fields = check_form(client, mine)
    form = form_for(db, {**fields, "class_id": str(foreign.id)}, foreign, {})
    response = client.post("/attendance/checks", data=form)
    # the same answer as opening that class's form: 403, and none of its roster drawn
    assert response.status_code == 403
    assert "只有班主任和辅导员可以为本班记录查课" in response.text
    roster = db.scalars(select(Student.name).where(Student.class_id == foreign.id)).all()
    assert not [name for name in roster if name in response.text]
    assert db.get(Entry, uuid.UUID(fields["entry_id"])) is None


def test_a_check_for_someone_elses_class_is_rejected_through_sync(login, db):
    client = login("teacher1")
    foreign = other_class(db, "teacher1")
    entry_id = str(uuid.uuid4())
    form = form_for(db, {"entry_id": entry_id, "class_id": str(foreign.id)}, foreign, {})
    response = push(
        client,
        [
            {
                "id": entry_id,
                "op": "create",
                "kind": "attendance_check",
                "form": form,
                "mutation_no": 1,
            }
        ],
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    assert "不在您的工作范围内" in result["reason"]
    assert db.get(Entry, uuid.UUID(entry_id)) is None


def test_leaders_and_the_office_read_the_history_but_record_no_checks(login, db):
    school_class = class_of(db, "teacher1")
    for who in ("leader1", "office1"):
        client = login(who)
        assert client.get(f"/classes/{school_class.id}/attendance").status_code == 200
        assert client.get(f"/classes/{school_class.id}/attendance/new").status_code == 403


def test_a_mark_for_a_student_of_another_class_is_rejected(login, db):
    school_class = class_of(db, "teacher1")
    stranger = students_of(db, other_class(db, "teacher1"))[0]
    client = login("teacher1")
    _, fields = check_form(client, school_class)
    form = form_for(db, fields, school_class, {stranger.id: "absent"})
    response = client.post("/attendance/checks", data=form)
    assert response.status_code == 422
    assert "不是本班的学生" in response.text
    assert db.get(Entry, uuid.UUID(fields["entry_id"])) is None


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(period="11-12"), "节次无效"),
        (dict(period=""), "请选择节次"),
        (dict(course_id=""), "请选择课程"),
        (dict(date="2026-02-30"), "查课日期格式不正确"),
        (dict(date=""), "查课日期格式不正确"),
        (dict(date=(today() + timedelta(days=2)).isoformat()), "不能晚于明天"),
        (dict(date=(today() - timedelta(days=31)).isoformat()), "只能补记 30 天以内"),
        (dict(note="太长" * 1001), "备注太长"),
    ],
    ids=["period", "no-period", "no-course", "bad-date", "no-date", "future", "old", "long-note"],
)
def test_bad_input_is_refused_in_chinese_with_what_was_marked_kept(login, db, change, reason):
    school_class = class_of(db, "teacher1")
    absent = students_of(db, school_class)[20]
    client = login("teacher1")
    _, fields = check_form(client, school_class)
    form = form_for(db, fields, school_class, {absent.id: "absent"}, **change)
    response = client.post("/attendance/checks", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert reason in response.text
    # the partial comes back with the mark still set, ready to correct and save again
    assert f'name="mark_{absent.id}" value="absent"' in response.text
    assert "<html" not in response.text
    assert db.get(Entry, uuid.UUID(fields["entry_id"])) is None


def test_tomorrow_and_thirty_days_back_are_still_accepted(login, db):
    school_class = class_of(db, "teacher1")
    client = login("teacher1")
    for on in (today() + timedelta(days=1), today() - timedelta(days=30)):
        _, fields = check_form(client, school_class)
        form = form_for(db, fields, school_class, {}, date=on.isoformat())
        assert (
            client.post("/attendance/checks", data=form, follow_redirects=False).status_code == 303
        )


def test_a_course_of_another_class_is_refused(login, db):
    school_class = class_of(db, "teacher1")
    theirs = set(
        db.scalars(select(ClassCourse.course_id).where(ClassCourse.class_id == school_class.id))
    )
    foreign_course = db.scalar(
        select(ClassCourse.course_id).where(ClassCourse.course_id.not_in(theirs)).limit(1)
    )
    client = login("teacher1")
    _, fields = check_form(client, school_class)
    form = form_for(db, fields, school_class, {}, course_id=str(foreign_course))
    response = client.post("/attendance/checks", data=form)
    assert response.status_code == 422
    assert "不是本班的课程" in response.text


def test_a_payload_of_the_wrong_shape_is_rejected_not_a_server_error(login, db):
    school_class = class_of(db, "teacher1")
    student = students_of(db, school_class)[0]
    client = login("teacher1")
    payload = {
        "class_id": school_class.id,
        "course_id": None,
        "period": ["evening"],
        "date": today().isoformat(),
        "marks": {},
        "note": "",
    }
    bad = [
        payload,
        {**payload, "period": "evening", "marks": {str(student.id): ["absent"]}},
        {**payload, "period": "evening", "marks": ["absent"]},
        {**payload, "period": "evening", "date": 20260302},
        {**payload, "period": "evening", "class_id": str(school_class.id)},
    ]
    mutations = [
        {"id": str(uuid.uuid4()), "op": "create", "kind": "attendance_check", "payload": p}
        for p in bad
    ]
    response = push(client, [{**m, "mutation_no": n} for n, m in enumerate(mutations, 1)])
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["rejected"] * len(bad)


def test_the_same_entry_id_from_the_outbox_is_stored_once(login, db):
    """The phone's outbox replays what the form posted (`form`); twice is still one check."""
    school_class = class_of(db, "teacher1")
    late = students_of(db, school_class)[25]
    client = login("teacher1")
    entry_id = str(uuid.uuid4())
    mutation = {
        "id": entry_id,
        "op": "create",
        "kind": "attendance_check",
        "form": form_for(
            db,
            {"entry_id": entry_id, "class_id": str(school_class.id)},
            school_class,
            {late.id: "late"},
        ),
        "mutation_no": 1,
    }
    first = push(client, [mutation], new_device()).json()["results"]
    again = push(client, [{**mutation, "mutation_no": 2}], new_device()).json()["results"]
    assert [first[0]["status"], again[0]["status"]] == ["applied", "duplicate"]
    assert db.query(Entry).filter_by(id=uuid.UUID(entry_id)).count() == 1
    assert db.get(Entry, uuid.UUID(entry_id)).payload["marks"] == {str(late.id): "late"}


# --- counts, history and warnings ---------------------------------------------------------


def test_counts_present_late_and_early_leave_as_attended():
    marks = {"1": "absent", "2": "late", "3": "leave", "4": "early_leave", "5": "absent"}
    assert attendance.counts(40, marks) == {
        "expected": 40,
        "attended": 37,
        "absent": 2,
        "late": 1,
        "leave": 1,
        "early_leave": 1,
    }


def test_the_work_log_names_the_lesson_and_who_was_not_present():
    payload = {"date": "2026-03-02", "period": "3-4", "marks": {"7": "absent", "9": "late"}}
    assert attendance.summary(payload) == "2026-03-02 第3-4节：缺勤 1 人、迟到 1 人"
    assert attendance.students(payload) == {7, 9}
    assert attendance.summary({**payload, "marks": {}}) == "2026-03-02 第3-4节：全勤"


# a fixed day long before the suite's own checks (which are dated around the real today)
DAY = date(2021, 5, 20)


def test_three_absences_within_fourteen_days_raise_a_warning_at_the_boundary(db):
    school_class = class_of(db, "teacher1")
    on_day_14, on_day_15 = students_of(db, school_class)[30:32]
    # day 1 is today; day 14 is 13 days back (counts), day 15 is 14 days back (does not)
    for student, oldest in ((on_day_14, 13), (on_day_15, 14)):
        for days_back, period in ((oldest, "1-2"), (5, "3-4"), (0, "5-6")):
            record(
                db, school_class, DAY - timedelta(days=days_back), {student.id: "absent"}, period
            )

    rows = {r.student.id: r for r in attendance.history(db, school_class.id, DAY)}
    assert rows[on_day_14.id].recent_absences == 3
    assert rows[on_day_15.id].recent_absences == 2
    warned = [r.student.id for r in attendance.warnings(list(rows.values()))]
    assert on_day_14.id in warned and on_day_15.id not in warned
    # both are absent three times this semester (spring, from 1 February)
    assert rows[on_day_14.id].counts["absent"] == rows[on_day_15.id].counts["absent"] == 3


def test_a_lesson_checked_by_two_people_counts_once_and_the_worst_mark_wins(db):
    school_class = class_of(db, "teacher1")
    student = students_of(db, school_class)[33]
    on = DAY - timedelta(days=40)
    record(db, school_class, on, {student.id: "late"}, "7-8")
    record(db, school_class, on, {student.id: "absent"}, "7-8")
    record(db, school_class, on, {student.id: "late"}, "9-10")
    row = next(r for r in attendance.history(db, school_class.id, DAY) if r.student == student)
    assert row.counts == {"absent": 1, "late": 1}


def test_semesters_start_in_february_and_august():
    assert clock.semester_start(date(2026, 11, 28)) == date(2026, 8, 1)
    assert clock.semester_start(date(2026, 3, 2)) == date(2026, 2, 1)
    assert clock.semester_start(date(2027, 1, 10)) == date(2026, 8, 1)


def test_the_class_teacher_and_the_counselor_see_the_warning_on_the_history_page(login, db):
    school_class = class_of(db, "teacher1")
    student = students_of(db, school_class)[35]
    client = login("teacher1")
    for period in ("1-2", "3-4", "5-6"):
        _, fields = check_form(client, school_class)
        form = form_for(db, fields, school_class, {student.id: "absent"}, period=period)
        client.post("/attendance/checks", data=form, follow_redirects=False)
    for who in ("teacher1", "counselor1"):
        page = login(who).get(f"/classes/{school_class.id}/attendance").text
        # the name links to the student's page (_macros.html student_link)
        warning = re.search(rf'data-warning="{student.id}">(.+?)</li>', page)
        assert warning and "缺勤 3 次" in warning.group(1), who
        assert f"/students/{student.id}" in warning.group(1)
        assert re.search(
            rf'<tr data-student="{student.id}">\s*<td><a [^>]+>[^<]+</a></td>\s*'
            r'<td data-mark="absent">3</td>',
            page,
        )


# --- the pages around the form --------------------------------------------------------------


def test_my_classes_list_the_class_teachers_own_class_first(login, db):
    page = login("teacher1").get("/attendance").text
    assert class_of(db, "teacher1").name in page
    assert other_class(db, "teacher1").name not in page

    page = login("counselor1").get("/attendance").text
    names = [c.name for c in db.scalars(select(SchoolClass).order_by(SchoolClass.name))]
    assert all(name in page for name in names)


def test_preparing_for_rounds_caches_the_check_form_of_my_classes_only(login, db):
    plan = login("teacher1").get("/rounds/plan").json()
    rosters = [i["url"] for i in plan["items"] if i["kind"] == "roster"]
    assert rosters == [f"/classes/{class_of(db, 'teacher1').id}/attendance/new"]
    counselor_plan = login("counselor1").get("/rounds/plan").json()
    assert len([i for i in counselor_plan["items"] if i["kind"] == "roster"]) == 4


def test_the_home_page_links_to_attendance_for_people_with_classes(login):
    assert 'href="/attendance"' in login("teacher1").get("/").text
    assert "检查上课" in login("counselor1").get("/").text


# --- course representatives and study groups (§2.11) ----------------------------------------


def test_the_class_teacher_names_course_roles_and_the_check_form_shows_them(login, db):
    school_class = class_of(db, "teacher1")
    course_id = a_course_of(db, school_class)
    rep, leader_a, leader_b = students_of(db, school_class)[:3]
    client = login("teacher1")
    path = f"/classes/{school_class.id}/course-roles/{course_id}"
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(
        f"{path}/save",
        data={
            "_csrf_token": form_csrf(page.text),
            "representative": str(rep.id),
            "group_leaders": [str(leader_a.id), str(leader_b.id), str(rep.id)],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    roles = {
        r.student_id: r.role
        for r in db.scalars(
            select(CourseRole).where(
                CourseRole.class_id == school_class.id, CourseRole.course_id == course_id
            )
        )
    }
    assert roles == {
        rep.id: "representative",
        leader_a.id: "group_leader",
        leader_b.id: "group_leader",
    }
    overview = client.get(f"/classes/{school_class.id}/course-roles").text
    assert f"课代表：{rep.name}" in overview

    html, _ = check_form(client, school_class)
    assert re.search(rf'data-role-course="{course_id}"[^>]*>课代表', html)


def test_a_class_teacher_cannot_set_course_roles_of_someone_elses_class(login, db):
    foreign = other_class(db, "teacher1")
    client = login("teacher1")
    path = f"/classes/{foreign.id}/course-roles/{a_course_of(db, foreign)}"
    assert client.get(path).status_code == 403
    response = client.post(
        f"{path}/save",
        data={"_csrf_token": csrf_token(client), "representative": ""},
    )
    assert response.status_code == 403
