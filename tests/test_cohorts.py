"""Issue 11: a student who is not 在读 leaves day-to-day lists and keeps their history;
graduating a cohort sets its students to 毕业 and archives its classes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import attendance, clock, cohorts, dorm_visits, due, scope, week
from server.entries import Rejected
from server.models import Role, SchoolClass, Student, StudentStatus
from server.records.common import students_in_scope
from tests.conftest import user_named


def _graduate_made_up(db, people, year=1999):
    for school_class in db.scalars(
        select(SchoolClass).where(
            SchoolClass.counselor_id.in_([people["counselor"].id, people["covering"].id])
        )
    ):
        school_class.grade = year
    db.flush()
    return cohorts.graduate(db, year)


def test_suspended_student_leaves_roster_door_form_and_pickers(db, made_up_class):
    people, students, room, _ = made_up_class
    class_id = students["s1"].class_id
    students["s1"].status = StudentStatus.suspended
    students["s2"].status = StudentStatus.withdrawn
    db.flush()
    on_roster = {s.id for s in attendance.roster(db, class_id)}
    assert students["s1"].id not in on_roster and students["s2"].id not in on_roster
    assert students["s3"].id in on_roster
    at_door = {s.id for _, s in dorm_visits.residents(db, room.id)}
    assert at_door == {s.id for k, s in students.items() if k not in ("s1", "s2")}
    counselor = people["counselor"]
    with pytest.raises(Rejected):
        students_in_scope(db, counselor, [students["s1"].id])
    assert students_in_scope(db, counselor, [students["s3"].id])


def test_special_student_on_leave_is_not_due_for_parent_contact(db, made_up_class):
    people, students, _, _ = made_up_class
    counselor = people["counselor"]
    due_before = {o.what.id for o in due.parents_overdue(db, counselor, clock.today())}
    assert students["s1"].id in due_before  # never contacted: due
    students["s1"].status = StudentStatus.suspended
    db.flush()
    due_after = {o.what.id for o in due.parents_overdue(db, counselor, clock.today())}
    assert students["s1"].id not in due_after
    assert due_after == due_before - {students["s1"].id}


def test_room_whose_residents_all_left_is_not_prepared(db, made_up_class):
    from server.routes.prepare import rooms_to_prepare

    people, students, room, _ = made_up_class
    counselor = people["counselor"]
    assert room.id in {r.id for r in rooms_to_prepare(db, counselor, clock.today())}
    for s in students.values():
        s.status = StudentStatus.graduated
    db.flush()
    assert room.id not in {r.id for r in rooms_to_prepare(db, counselor, clock.today())}


def test_graduating_a_cohort_sets_students_graduated_and_archives_classes(db, made_up_class):
    people, students, _, _ = made_up_class
    students["s2"].status = StudentStatus.withdrawn
    db.flush()
    classes, changed = _graduate_made_up(db, people)
    assert classes == 2 and changed == 5  # the withdrawn student stays withdrawn
    db.expire_all()
    assert students["s2"].status == StudentStatus.withdrawn
    assert {s.status for k, s in students.items() if k != "s2"} == {StudentStatus.graduated}
    listed = {c.year: c for c in cohorts.cohorts(db)}
    assert listed[1999].graduated and listed[1999].enrolled == 0 and listed[1999].students == 6


def test_graduating_a_year_with_no_classes_is_refused(db):
    with pytest.raises(cohorts.CohortError, match="没有 1901 级的班级"):
        cohorts.graduate(db, 1901)


def test_class_teacher_whose_only_class_graduated_has_no_class_teacher_targets(db, made_up_class):
    people, _, _, _ = made_up_class
    teacher, covering = people["teacher"], people["covering"]
    assert week.quota_roles(db, teacher) == [Role.class_teacher]
    assert Role.class_teacher in week.quota_roles(db, covering)  # covers a class (§1.10)
    _graduate_made_up(db, people)
    assert week.quota_roles(db, teacher) == []
    assert week.quota_roles(db, covering) == [Role.counselor]


def test_archived_class_leaves_scope_but_its_history_still_opens(db, made_up_class):
    people, students, room, _ = made_up_class
    counselor = people["counselor"]
    class_id = students["s1"].class_id
    _graduate_made_up(db, people)
    in_scope = set(db.scalars(scope.class_ids_in_scope(counselor)))
    assert class_id not in in_scope
    assert not db.scalar(
        select(SchoolClass.id).where(
            SchoolClass.id == class_id, scope.recording_class_condition(counselor)
        )
    )
    mine, others = attendance.classes_of(db, counselor)
    assert class_id not in {c.id for c in mine + others}
    assert scope.class_for(db, counselor, class_id).id == class_id  # history: readable
    history = attendance.history(db, class_id, clock.today())
    assert {row.student.id for row in history} == {s.id for s in students.values()}
    from litestar.exceptions import PermissionDeniedException

    with pytest.raises(PermissionDeniedException):
        scope.class_for(db, counselor, class_id, to_record=True)
    assert room.id not in set(db.scalars(select(scope.occupied_room_ids().subquery().c.room_id)))


def test_cohorts_page_lists_years_and_asks_before_graduating(login, db):
    client = login("admin")
    grade = db.scalar(select(SchoolClass.grade).order_by(SchoolClass.grade))
    page = client.get("/admin/cohorts")
    assert page.status_code == 200 and f'data-cohort="{grade}"' in page.text
    assert "data-confirm" not in page.text
    confirm = client.get(f"/admin/cohorts?confirm={grade}")
    assert f'data-confirm="{grade}"' in confirm.text and "确认毕业" in confirm.text


def test_graduating_by_the_page_needs_a_known_year(login, db):
    from tests.conftest import form_csrf

    client = login("admin")
    token = form_csrf(client.get("/admin/cohorts").text)
    before = db.scalar(select(Student.id).where(Student.status != StudentStatus.enrolled))
    for year, message in [
        ("", "请选择要毕业的入学年份"),
        ("abcd", "请选择"),
        ("1901", "没有 1901 级"),
    ]:
        response = client.post("/admin/cohorts/graduate", data={"year": year, "_csrf_token": token})
        assert response.status_code == 422 and message in response.text
    assert db.scalar(select(Student.id).where(Student.status != StudentStatus.enrolled)) == before


def test_only_admin_graduates_a_cohort(login):
    client = login("office1")
    assert client.get("/admin/cohorts").status_code == 403
    token = client.cookies.get("csrftoken")
    response = client.post("/admin/cohorts/graduate", data={"year": "2024", "_csrf_token": token})
    assert response.status_code == 403


def test_graduating_by_the_page_archives_the_year(login, sessionmaker):
    from tests.conftest import form_csrf

    with sessionmaker() as db:
        dept_class = db.scalar(select(SchoolClass).order_by(SchoolClass.id))
        lone = SchoolClass(
            name="毕业测试班", grade=1998, major="测试", department_id=dept_class.department_id,
            counselor_id=dept_class.counselor_id,
        )  # fmt: skip
        db.add(lone)
        db.flush()
        db.add(Student(student_number="G1998001", name="毕业生", gender="女", class_id=lone.id))
        db.commit()
        lone_id = lone.id
    try:
        client = login("admin")
        token = form_csrf(client.get("/admin/cohorts?confirm=1998").text)
        response = client.post(
            "/admin/cohorts/graduate",
            data={"year": "1998", "_csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303 and "done=1998" in response.headers["location"]
        assert "1998 级已毕业" in client.get(response.headers["location"]).text
        with sessionmaker() as db:
            assert db.get(SchoolClass, lone_id).archived
            student = db.scalar(select(Student).where(Student.student_number == "G1998001"))
            assert student.status == StudentStatus.graduated
    finally:
        with sessionmaker() as db:
            db.execute(Student.__table__.delete().where(Student.class_id == lone_id))
            db.execute(SchoolClass.__table__.delete().where(SchoolClass.id == lone_id))
            db.commit()


def test_counselor1_demo_classes_are_current(db):
    counselor = user_named(db, "counselor1")
    assert db.scalars(scope.class_ids_in_scope(counselor)).first() is not None
