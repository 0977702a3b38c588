"""Keeping the data current: classes reassigned, rooms and labels, contact grades, guardians, beds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server import doors, upkeep, week
from server.clock import today
from server.models import (
    Bed,
    BedMove,
    Building,
    ContactGrade,
    ContactGradeChange,
    Guardian,
    Role,
    Room,
    SchoolClass,
    Student,
)
from tests.conftest import form_csrf, user_named


def teacher1s_class(db) -> SchoolClass:
    return db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == user_named(db, "teacher1").id)
    )


# --- classes ----------------------------------------------------------------------------------


def test_a_class_teacher_whose_class_is_given_away_has_no_class_teacher_targets(db, made_up_class):
    people, _, _, _ = made_up_class
    taught = db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == people["teacher"].id)
    )
    assert week.quota_roles(db, people["teacher"]) == [Role.class_teacher]
    upkeep.assign_class(db, taught, people["counselor"].id, None)
    db.flush()
    assert week.quota_roles(db, people["teacher"]) == []
    # §1.10: the counselor now does the class teacher's work, and carries its targets
    assert week.quota_roles(db, people["counselor"]) == [Role.counselor, Role.class_teacher]


def test_a_class_cannot_get_a_counselor_of_another_department_or_a_missing_one(db, made_up_class):
    people, _, _, _ = made_up_class
    taught = db.scalar(
        select(SchoolClass).where(SchoolClass.class_teacher_id == people["teacher"].id)
    )
    with pytest.raises(upkeep.UpkeepError, match="请选择辅导员"):
        upkeep.assign_class(db, taught, None, None)
    with pytest.raises(upkeep.UpkeepError, match="不是本系部在岗的辅导员"):
        upkeep.assign_class(db, taught, people["teacher"].id, None)
    with pytest.raises(upkeep.UpkeepError, match="不是本系部在岗的班主任"):
        upkeep.assign_class(db, taught, people["counselor"].id, people["covering"].id)


def test_the_leader_reassigns_a_class_and_scope_follows_at_once(client, db, login):
    school_class = teacher1s_class(db)
    counselor_id, teacher_id = school_class.counselor_id, school_class.class_teacher_id
    page = login("leader1").get("/admin/classes")
    assert page.status_code == 200 and school_class.name in page.text
    try:
        answer = client.post(
            f"/admin/classes/{school_class.id}/assign",
            data={"_csrf_token": form_csrf(page.text), "counselor_id": str(counselor_id),
                  "class_teacher_id": ""},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303
        client.cookies.clear()
        login("teacher1")
        assert client.get(f"/classes/{school_class.id}/attendance").status_code == 403
    finally:
        db.expire_all()
        restored = db.get(SchoolClass, school_class.id)
        restored.counselor_id, restored.class_teacher_id = counselor_id, teacher_id
        db.commit()
    assert client.get(f"/classes/{school_class.id}/attendance").status_code == 200


def test_counselors_and_class_teachers_do_not_reassign_classes(client, db, login):
    school_class = teacher1s_class(db)
    for who in ("counselor1", "teacher1"):
        client.cookies.clear()
        login(who)
        assert client.get("/admin/classes").status_code == 403
        answer = client.post(
            f"/admin/classes/{school_class.id}/assign",
            data={"_csrf_token": form_csrf(client.get("/").text), "counselor_id": "1"},
        )
        assert answer.status_code == 403
    db.expire_all()
    assert db.get(SchoolClass, school_class.id).class_teacher_id == user_named(db, "teacher1").id


# --- buildings, rooms, labels ----------------------------------------------------------------


@pytest.fixture
def new_building(db):
    building = upkeep.add_building(db, "维护测试楼")
    db.commit()
    yield building
    db.rollback()
    for room in db.scalars(select(Room).where(Room.building_id == building.id)):
        db.query(Bed).filter_by(room_id=room.id).delete()
        db.delete(room)
    db.delete(db.get(Building, building.id))
    db.commit()


def test_a_room_is_added_with_its_beds_and_a_bed_with_a_student_is_never_removed(db, new_building):
    room = upkeep.add_room(db, new_building, "101", 4)
    assert sorted(b.number for b in db.scalars(select(Bed).where(Bed.room_id == room.id))) == [
        1,
        2,
        3,
        4,
    ]
    with pytest.raises(upkeep.UpkeepError, match="已有 101 房间"):
        upkeep.add_room(db, new_building, "101", 4)
    with pytest.raises(upkeep.UpkeepError, match="床位数应为"):
        upkeep.set_beds(db, room, 0)
    student = db.scalar(select(Student).limit(1))
    old_bed = db.scalar(select(Bed).where(Bed.student_id == student.id))
    if old_bed is not None:
        old_bed.student_id = None
        db.flush()
    db.scalar(select(Bed).where(Bed.room_id == room.id, Bed.number == 4)).student_id = student.id
    db.flush()
    with pytest.raises(upkeep.UpkeepError, match="4 号床还住着学生"):
        upkeep.set_beds(db, room, 2)
    db.rollback()


def test_a_revoked_label_opens_the_no_longer_valid_page(client, db, login, settings, new_building):
    room = upkeep.add_room(db, new_building, "102", 2)
    db.commit()
    old_token = doors.room_token(settings, room)
    page = login("admin").get(f"/admin/buildings/{new_building.id}")
    assert "102" in page.text
    answer = client.post(
        f"/admin/rooms/{room.id}/revoke-label",
        data={"_csrf_token": form_csrf(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    db.refresh(room)
    assert room.label_version == 2
    refused = client.get(f"/d/{old_token}")
    assert refused.status_code == 400 and "已作废" in refused.text
    assert client.get(f"/d/{doors.room_token(settings, room)}").status_code == 200


def test_renaming_a_room_revokes_its_old_label(db, new_building):
    room = upkeep.add_room(db, new_building, "103", 2)
    upkeep.change_room(db, room, "103A", 3)
    assert room.number == "103A" and room.label_version == 2
    with pytest.raises(upkeep.UpkeepError, match="房间号只能是"):
        upkeep.change_room(db, room, "1 0 3", 3)
    db.rollback()


def test_only_an_admin_keeps_buildings(client, login):
    for who in ("leader1", "office1", "counselor1"):
        client.cookies.clear()
        login(who)
        assert client.get("/admin/buildings").status_code == 403


# --- a student -----------------------------------------------------------------------------------


def student_of(db, username: str, *, as_counselor: bool) -> Student:
    column = SchoolClass.counselor_id if as_counselor else SchoolClass.class_teacher_id
    return db.scalar(
        select(Student)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(column == user_named(db, username).id)
        .order_by(Student.id)
        .limit(1)
    )


def test_the_counselor_changes_a_contact_grade_and_the_reason_is_kept(client, db, login):
    student = student_of(db, "counselor1", as_counselor=True)
    before = student.contact_grade
    wanted = "special" if before != ContactGrade.special else "key"
    page = login("counselor1").get(f"/students/{student.id}/data")
    assert page.status_code == 200
    token = form_csrf(page.text)
    missing = client.post(f"/students/{student.id}/contact-grade",
                          data={"_csrf_token": token, "grade": wanted, "reason": " "})  # fmt: skip
    assert missing.status_code == 422 and "请写明调整联系等级的原因" in missing.text
    try:
        answer = client.post(
            f"/students/{student.id}/contact-grade",
            data={"_csrf_token": token, "grade": wanted, "reason": "近期多次旷课"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        db.expire_all()
        assert db.get(Student, student.id).contact_grade == ContactGrade(wanted)
        change = db.scalar(
            select(ContactGradeChange).where(ContactGradeChange.student_id == student.id)
        )
        assert (change.old_grade, change.reason) == (before, "近期多次旷课")
        assert "近期多次旷课" in client.get(f"/students/{student.id}/data").text
    finally:
        db.query(ContactGradeChange).filter_by(student_id=student.id).delete()
        db.get(Student, student.id).contact_grade = before
        db.commit()


def test_a_class_teacher_keeps_guardians_but_not_the_contact_grade(client, db, login):
    student = student_of(db, "teacher1", as_counselor=False)
    page = login("teacher1").get(f"/students/{student.id}/data")
    token = form_csrf(page.text)
    refused = client.post(f"/students/{student.id}/contact-grade",
                          data={"_csrf_token": token, "grade": "key", "reason": "x"})  # fmt: skip
    assert refused.status_code == 403 and student.name not in refused.text

    bad = client.post(f"/students/{student.id}/guardians/add",
                      data={"_csrf_token": token, "name": "王芳", "relation": "母亲", "phone": "电话"})  # fmt: skip
    assert bad.status_code == 422 and "电话号码“电话”不正确" in bad.text
    added = client.post(f"/students/{student.id}/guardians/add",
                        data={"_csrf_token": token, "name": "王芳", "relation": "母亲",
                              "phone": "13800001111"}, follow_redirects=False)  # fmt: skip
    assert added.status_code == 303
    guardian = db.scalar(
        select(Guardian).where(Guardian.student_id == student.id, Guardian.name == "王芳")
    )
    changed = client.post(f"/guardians/{guardian.id}/save",
                          data={"_csrf_token": token, "name": "王芳", "relation": "母亲",
                                "phone": "0391-6660000"}, follow_redirects=False)  # fmt: skip
    assert changed.status_code == 303
    db.refresh(guardian)
    assert guardian.phone == "0391-6660000"
    removed = client.post(f"/guardians/{guardian.id}/remove", data={"_csrf_token": token},
                          follow_redirects=False)  # fmt: skip
    assert removed.status_code == 303
    guardian_id = guardian.id
    db.expire_all()
    assert db.scalar(select(Guardian.id).where(Guardian.id == guardian_id)) is None


def test_another_persons_student_is_refused_without_naming_them(client, db, login):
    teacher = user_named(db, "teacher1")
    student = db.scalar(
        select(Student)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(SchoolClass.class_teacher_id != teacher.id, SchoolClass.counselor_id != teacher.id)
        .limit(1)
    )
    refused = login("teacher1").get(f"/students/{student.id}/data")
    assert refused.status_code == 403 and student.name not in refused.text
    assert client.get("/students/99999999/data").status_code == 404


def test_an_admin_moves_a_student_to_a_free_bed_and_the_move_is_kept(
    client, db, login, new_building
):
    room = upkeep.add_room(db, new_building, "201", 2)
    db.commit()
    student = student_of(db, "counselor1", as_counselor=True)
    old_bed = db.scalar(select(Bed).where(Bed.student_id == student.id))
    page = login("admin").get(f"/students/{student.id}/data")
    token = form_csrf(page.text)
    on = (today() - timedelta(days=1)).isoformat()
    try:
        moved = client.post(f"/students/{student.id}/bed",
                            data={"_csrf_token": token, "room_id": str(room.id), "bed": "2",
                                  "moved_on": on}, follow_redirects=False)  # fmt: skip
        assert moved.status_code == 303
        db.expire_all()
        assert db.scalar(select(Bed).where(Bed.student_id == student.id)).room_id == room.id
        move = db.scalar(select(BedMove).where(BedMove.student_id == student.id))
        assert move.moved_on.isoformat() == on
        assert move.from_bed_id == (old_bed.id if old_bed else None)
        taken = client.post(f"/students/{student.id}/bed",
                            data={"_csrf_token": token, "room_id": str(room.id), "bed": "2",
                                  "moved_on": on})  # fmt: skip
        assert taken.status_code == 422 and "已经住在这个床位" in taken.text
    finally:
        db.expire_all()
        db.query(BedMove).filter_by(student_id=student.id).delete()
        db.scalar(select(Bed).where(Bed.student_id == student.id)).student_id = None
        db.flush()
        if old_bed is not None:
            db.get(Bed, old_bed.id).student_id = student.id
        db.commit()


def test_a_student_who_is_no_longer_enrolled_leaves_the_roster_and_keeps_the_history(
    client, db, login
):
    from server import attendance
    from server.models import StudentStatus

    student = student_of(db, "counselor1", as_counselor=True)
    page = login("admin").get(f"/students/{student.id}/data")
    token = form_csrf(page.text)
    bad = client.post(f"/students/{student.id}/status", data={"_csrf_token": token, "status": "gone"})
    assert bad.status_code == 422 and "请选择学籍状态" in bad.text
    try:
        done = client.post(f"/students/{student.id}/status",
                           data={"_csrf_token": token, "status": "suspended"},
                           follow_redirects=False)  # fmt: skip
        assert done.status_code == 303
        db.expire_all()
        assert db.get(Student, student.id).status == StudentStatus.suspended
        assert student.id not in {s.id for s in attendance.roster(db, student.class_id)}
        assert "休学" in client.get(f"/students/{student.id}/data").text
    finally:
        db.get(Student, student.id).status = StudentStatus.enrolled
        db.commit()


def test_an_admin_moves_a_student_to_another_class(client, db, login):
    student = student_of(db, "teacher1", as_counselor=False)
    before = student.class_id
    other = db.scalar(select(SchoolClass.id).where(SchoolClass.id != before).limit(1))
    page = login("admin").get(f"/students/{student.id}/data")
    token = form_csrf(page.text)
    same = client.post(f"/students/{student.id}/class",
                       data={"_csrf_token": token, "class_id": str(before)})  # fmt: skip
    assert same.status_code == 422 and "已经在这个班级" in same.text
    try:
        moved = client.post(f"/students/{student.id}/class",
                            data={"_csrf_token": token, "class_id": str(other)},
                            follow_redirects=False)  # fmt: skip
        assert moved.status_code == 303
        db.expire_all()
        assert db.get(Student, student.id).class_id == other
        # the class teacher of the old class no longer keeps this student's data
        client.cookies.clear()
        login("teacher1")
        assert client.get(f"/students/{student.id}/data").status_code == 403
    finally:
        db.get(Student, student.id).class_id = before
        db.commit()


def test_only_an_admin_changes_a_students_status_or_class(client, db, login):
    student = student_of(db, "counselor1", as_counselor=True)
    page = login("counselor1").get(f"/students/{student.id}/data")
    token = form_csrf(page.text)
    assert client.post(f"/students/{student.id}/status",
                       data={"_csrf_token": token, "status": "withdrawn"}).status_code == 403  # fmt: skip
    assert client.post(f"/students/{student.id}/class",
                       data={"_csrf_token": token, "class_id": "1"}).status_code == 403  # fmt: skip
