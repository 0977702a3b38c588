"""One workbook brings the college in: what is written, what changes, and every row error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import auth, clock
from server.college_import import import_workbook
from server.college_import.applying import UNUSABLE_PASSWORD
from server.models import (
    Bed,
    BedMove,
    ClassCourse,
    ContactGrade,
    ContactGradeChange,
    Guardian,
    ImportRun,
    ImportStatus,
    Role,
    Room,
    SchoolClass,
    StudentStatus,
    User,
)
from tests.test_import_fixtures import college, counts, snapshot, student, with_rows, xlsx

# the import database and its fixtures (empty, import_client …)
pytest_plugins = ["tests.test_import_fixtures"]


def run(db, sheets, **kw):
    return import_workbook(db, xlsx(sheets), "学院.xlsx", **kw)


def errors_of(result) -> list[tuple]:
    return [(e.sheet, e.row, e.column) for e in result.preview.errors]


def test_a_workbook_brings_the_whole_college_in(empty):
    result = run(empty, college())
    assert result.applied and result.preview.errors == []
    assert counts(empty) == {
        "departments": 2, "users": 5, "user_roles": 6, "classes": 2, "students": 4,
        "guardians": 3, "buildings": 2, "rooms": 2, "beds": 8, "courses": 2,
        "course_teachers": 2, "class_courses": 3,
    }  # fmt: skip
    leader = empty.scalar(select(User).where(User.username == "T003"))
    assert leader.roles == {Role.leader, Role.counselor}
    net = empty.scalar(select(SchoolClass).where(SchoolClass.name == "2024级网络1班"))
    assert net.counselor_id == leader.id and net.class_teacher_id is None  # §1.10
    s3 = student(empty, "2024010103")
    assert s3.contact_grade == ContactGrade.special and s3.status == StudentStatus.enrolled
    assert student(empty, "2024010104").status == StudentStatus.suspended
    bed = empty.scalar(select(Bed).where(Bed.student_id == s3.id))
    assert (bed.number, empty.get(Room, bed.room_id).gender) == (2, "男")
    assert {s.name: (s.new, s.changed, s.unchanged) for s in result.preview.sheets}["学生"] == (
        4,
        0,
        0,
    )


def test_importing_the_same_workbook_twice_changes_nothing(empty):
    run(empty, college())
    before = snapshot(empty)
    again = run(empty, college())
    assert again.applied
    assert [(s.new, s.changed) for s in again.preview.sheets] == [(0, 0)] * 8
    assert sum(s.unchanged for s in again.preview.sheets) == 23  # every row of college()
    assert snapshot(empty) == before


def test_a_workbook_with_one_bad_row_changes_nothing(empty):
    run(empty, college())
    before = snapshot(empty)
    sheets = college()
    sheets["学生"][1][1] = "张一改名"  # a valid change in the same workbook …
    sheets["学生"].append(
        ["2024010199", "新生", "男", "没有这个班", "", "", ""]
    )  # … and one bad row
    result = run(empty, sheets)
    assert not result.applied
    assert errors_of(result) == [("学生", 6, "班级名称")]
    assert snapshot(empty) == before


def test_a_row_absent_from_the_sheet_deletes_nothing(empty):
    run(empty, college())
    only_one = {"学生": college()["学生"][:2], "家长": college()["家长"][:2]}
    result = run(empty, only_one)
    assert result.applied
    assert counts(empty)["students"] == 4 and counts(empty)["guardians"] == 3


def test_the_preview_lists_the_changed_fields(empty):
    run(empty, college())
    sheets = {"学生": college()["学生"]}
    sheets["学生"][1] = ["2024010101", "张一", "男", "2024级网络1班", "重点", "13900000001", "毕业"]
    result = run(empty, sheets, dry_run=True)
    (students,) = result.preview.sheets
    assert (students.new, students.changed, students.unchanged) == (0, 1, 3)
    assert students.changes == [{"row": 2, "key": "2024010101", "fields": [
        ["班级名称", "2024级软件1班", "2024级网络1班"], ["联系等级", "一般", "重点"], ["状态", "在读", "毕业"],
    ]}]  # fmt: skip
    assert student(empty, "2024010101").status == StudentStatus.enrolled  # a dry run writes nothing


def test_a_contact_grade_changed_by_import_is_kept_with_the_file_as_reason(empty):
    admin = empty.scalar(select(User).where(User.username == "admin"))
    run(empty, college(), user=admin)
    sheets = {"学生": college()["学生"]}
    sheets["学生"][1][4] = "特殊"
    assert run(empty, sheets, user=admin).applied
    (change,) = empty.scalars(select(ContactGradeChange)).all()
    assert (change.student_id, change.old_grade, change.new_grade, change.changed_by_id) == (
        student(empty, "2024010101").id,
        ContactGrade.general,
        ContactGrade.special,
        admin.id,
    )
    assert change.reason == "导入：学院.xlsx"


def test_changes_are_applied_by_natural_key(empty):
    run(empty, college())
    first_id = student(empty, "2024010101").id
    sheets = {"学生": college()["学生"], "教职工": college()["教职工"]}
    sheets["学生"][1][6] = "毕业"
    sheets["教职工"][2][3] = "班主任,辅导员"  # "," separates roles as well as 、
    assert run(empty, sheets).applied
    assert student(empty, "2024010101").id == first_id
    assert student(empty, "2024010101").status == StudentStatus.graduated
    teacher = empty.scalar(select(User).where(User.username == "T002"))
    assert teacher.roles == {Role.class_teacher, Role.counselor}


def test_any_subset_of_sheets_may_be_imported(empty):
    run(empty, college())
    beds = {"床位": [["学号", "楼栋", "房间号", "床号"], ["2024010101", "1号楼", "101", "4"]]}
    result = run(empty, beds)
    assert result.applied and [s.name for s in result.preview.sheets] == ["床位"]
    s1 = student(empty, "2024010101")
    assert empty.scalar(select(Bed.number).where(Bed.student_id == s1.id)) == 4
    # the bed it left is free again
    assert empty.scalar(select(Bed.student_id).where(Bed.number == 1, Bed.room_id == Bed.room_id)
                        .join(Room).where(Room.number == "101")) is None  # fmt: skip


def test_two_students_may_swap_beds_in_one_import_and_the_moves_are_kept(empty):
    admin = empty.scalar(select(User).where(User.username == "admin"))
    run(empty, college(), user=admin)
    assert empty.scalars(select(BedMove)).all() == []  # a first bed is not a move
    swap = {"床位": [["学号", "楼栋", "房间号", "床号"],
                    ["2024010101", "1号楼", "101", "2"], ["2024010103", "1号楼", "101", "1"]]}  # fmt: skip
    assert run(empty, swap, user=admin).applied
    number = {s: empty.scalar(select(Bed.number).where(Bed.student_id == student(empty, s).id))
              for s in ("2024010101", "2024010103")}  # fmt: skip
    assert number == {"2024010101": 2, "2024010103": 1}
    moves = {(m.student_id, empty.get(Bed, m.from_bed_id).number, empty.get(Bed, m.to_bed_id).number,
              m.moved_by_id, m.moved_on) for m in empty.scalars(select(BedMove))}  # fmt: skip
    s1, s3 = student(empty, "2024010101").id, student(empty, "2024010103").id
    assert moves == {(s1, 1, 2, admin.id, clock.today()), (s3, 2, 1, admin.id, clock.today())}


def test_imported_staff_get_an_account_without_a_usable_password(empty, import_sessionmaker):
    run(empty, college())
    counselor = empty.scalar(select(User).where(User.username == "T001"))
    assert counselor.password_hash == UNUSABLE_PASSWORD and counselor.active
    from server.settings import Settings

    settings = Settings.from_env(environ={"XUEGONG_SECRET_KEYS": "x" * 32})
    for password in ("", "!", "demo1234"):
        with pytest.raises(auth.LoginRefused, match="用户名或密码不正确"):
            auth.check_login(empty, settings, "T001", password, "127.0.0.1")


def test_an_existing_password_is_kept_when_the_staff_row_is_imported_again(empty):
    run(empty, college())
    empty.execute(
        User.__table__.update().where(User.username == "T001").values(password_hash="kept")
    )
    empty.commit()
    run(empty, college())
    empty.expire_all()
    assert empty.scalar(select(User.password_hash).where(User.username == "T001")) == "kept"


def test_each_import_is_recorded_with_who_and_the_counts(empty):
    admin = empty.scalar(select(User).where(User.username == "admin"))
    run(empty, college(), user=admin)
    (record,) = empty.scalars(select(ImportRun)).all()
    assert (record.user_id, record.filename, record.status) == (
        admin.id,
        "学院.xlsx",
        ImportStatus.applied,
    )
    assert {s["name"]: s["new"] for s in record.preview["sheets"]}["学生"] == 4
    assert record.counts == {"new": 23, "changed": 0, "unchanged": 0, "errors": 0}
    assert record.content is None  # the file itself is not kept once applied


def test_courses_share_one_course_and_teacher_per_department(empty):
    run(empty, college())
    links = empty.scalars(select(ClassCourse)).all()
    maths = [link for link in links if link.course.name == "高等数学"]
    assert len({link.course_id for link in maths}) == 1 and maths[0].course.professional_foundation
    assert len({link.teacher_id for link in maths}) == 1


def test_a_guardian_is_found_again_by_student_and_name(empty):
    run(empty, college())
    sheets = {
        "家长": [["学号", "姓名", "关系", "电话"], ["2024010101", "张父", "父亲", "13700000009"]]
    }
    result = run(empty, sheets)
    assert result.preview.sheets[0].changes[0]["fields"] == [["电话", "13700000001", "13700000009"]]
    assert empty.scalar(select(Guardian.phone).where(Guardian.name == "张父")) == "13700000009"


# --- row errors: each is reported with sheet, row and column, and nothing is written -----------


ROW_ERRORS = {
    "duplicate 学号": (
        ("学生", ["2024010101", "重复", "男", "2024级软件1班", "", "", ""]), ("学生", 6, "学号"), "与第 2 行重复"),
    "unknown 班级名称": (
        ("学生", ["2024010199", "新生", "男", "没有的班", "", "", ""]), ("学生", 6, "班级名称"), "没有名为“没有的班”的班级"),
    "unknown 辅导员工号": (
        ("班级", ["2024级新班", "2024", "软件", "信息工程系", "T999", ""]), ("班级", 4, "辅导员工号"), "找不到工号“T999”"),
    "a 班主任 who is not one": (
        ("班级", ["2024级新班", "2024", "软件", "信息工程系", "T001", "T004"]), ("班级", 4, "班主任工号"), "角色中没有班主任"),
    "a role that does not exist": (
        ("教职工", ["T005", "新人", "信息工程系", "辅导员、校长", ""]), ("教职工", 6, "角色"), "没有“校长”这个角色"),
    "a counselor without department": (
        ("教职工", ["T005", "新人", "", "辅导员", ""]), ("教职工", 6, "系部"), "必须填写系部"),
    "unknown 系部": (
        ("教职工", ["T005", "新人", "外语系", "辅导员", ""]), ("教职工", 6, "系部"), "没有名为“外语系”的系部"),
    "a bed beyond the room's 床位数": (
        ("床位", ["2024010104", "1号楼", "101", "5"]), ("床位", 5, "床号"), "超出该宿舍的床位数（4）"),
    "two students in one bed": (
        ("床位", ["2024010104", "1号楼", "101", "1"]), ("床位", 5, "床号"), "两名学生在同一床位"),
    "a student in a room of the other gender": (
        ("床位", ["2024010104", "2号楼", "201", "3"]), ("床位", 5, "房间号"), "女生宿舍"),
    "an unknown room": (
        ("床位", ["2024010104", "9号楼", "101", "1"]), ("床位", 5, "房间号"), "没有宿舍“9号楼 101”"),
    "a phone number that is not one": (
        ("家长", ["2024010103", "王父", "父亲", "1380000"]), ("家长", 5, "电话"), "不是有效的电话号码"),
    "a guardian of an unknown student": (
        ("家长", ["2099999999", "某某", "父亲", ""]), ("家长", 5, "学号"), "找不到学号“2099999999”"),
    "a gender that is not 男 or 女": (
        ("学生", ["2024010105", "新生", "M", "2024级软件1班", "", "", ""]), ("学生", 6, "性别"), "不是可选值"),
    "an unknown contact grade": (
        ("学生", ["2024010105", "新生", "男", "2024级软件1班", "很重要", "", ""]), ("学生", 6, "联系等级"), "可填：特殊 / 重点 / 一般"),
    "an unknown status": (
        ("学生", ["2024010105", "新生", "男", "2024级软件1班", "", "", "转学"]), ("学生", 6, "状态"), "可填：在读 / 休学 / 退学 / 毕业"),
    "an empty required cell": (
        ("学生", ["2024010105", "", "男", "2024级软件1班", "", "", ""]), ("学生", 6, "姓名"), "不能为空"),
    "an enrolment year that is not one": (
        ("班级", ["2024级新班", "二〇二四", "软件", "信息工程系", "T001", ""]), ("班级", 4, "入学年份"), "1990 到 2100"),
    "two rows of one course disagreeing on 专业基础课": (
        ("课程", ["2024级网络1班", "大学英语", "周老师", "", "是"]), ("课程", 5, "专业基础课"), "两行应一致"),
    "a duplicate room": (
        ("宿舍", ["1号楼", "101", "6", "男"]), ("宿舍", 4, "楼栋 + 房间号"), "与第 2 行重复"),
}  # fmt: skip


@pytest.mark.parametrize("case", ROW_ERRORS, ids=list(ROW_ERRORS))
def test_a_row_error_is_reported_and_nothing_is_written(empty, case):
    (sheet, row), where, message = ROW_ERRORS[case]
    before = snapshot(empty)
    result = run(empty, with_rows(sheet, row))
    assert not result.applied
    assert errors_of(result) == [where]
    assert message in result.preview.errors[0].message
    assert snapshot(empty) == before


def test_an_admin_cannot_import_away_their_own_admin_role(empty):
    admin = empty.scalar(select(User).where(User.username == "admin"))
    sheets = with_rows("教职工", ["admin", "管理员", "", "学工部", ""])
    result = run(empty, sheets, user=admin)
    assert errors_of(result) == [("教职工", 6, "角色")]
    assert "自己的管理员角色" in result.preview.errors[0].message


def test_a_bed_still_held_by_a_student_cannot_be_given_to_another(empty):
    run(empty, college())
    move = {"床位": [["学号", "楼栋", "房间号", "床号"], ["2024010104", "1号楼", "101", "1"]]}
    result = run(empty, move)
    assert errors_of(result) == [("床位", 2, "床号")]
    assert "住着学号 2024010101" in result.preview.errors[0].message


def test_a_room_cannot_shrink_below_a_bed_someone_sleeps_in(empty):
    run(empty, college())
    result = run(empty, {"宿舍": [["楼栋", "房间号", "床位数"], ["1号楼", "101", "1"]]})
    assert errors_of(result) == [("宿舍", 2, "床位数")]
    assert "2 号床住着学号 2024010103" in result.preview.errors[0].message
    # with the student moved in the same workbook it may
    sheets = {"宿舍": [["楼栋", "房间号", "床位数"], ["1号楼", "101", "1"], ["1号楼", "102", "4"]],
              "床位": [["学号", "楼栋", "房间号", "床号"], ["2024010103", "1号楼", "102", "1"]]}  # fmt: skip
    assert run(empty, sheets).applied
    room = empty.scalar(select(Room).where(Room.number == "101"))
    assert [b.number for b in room.beds] == [1]


def test_a_missing_required_column_is_an_error_of_the_sheet(empty):
    sheets = {"学生": [["学号", "姓名", "班级名称"], ["2024010101", "张一", "2024级软件1班"]]}
    result = run(empty, sheets)
    assert errors_of(result) == [("学生", None, "性别")]
    assert "缺少“性别”列" in result.preview.errors[0].message
