"""The work log (工作记录, §1.4): a person's records by college day, filters, the Excel
export, the leader's review (检查) and edits made after it.

The test database is shared by the whole run, so each test records into its own week of
2025, far from the weeks other tests write in.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server import clock, demo, worklog
from server.auth import hash_password
from server.dorm_visits import summary
from server.kinds import KINDS
from server.models import Bed, Department, Role, Room, Student, User, UserRole, WeekReview
from server.sync import merge
from server.sync.ids import new_entry_id
from tests.conftest import form_csrf, rooms_of_students_of, user_named


def record_visit(
    db, username: str, recorded_at: datetime, *, room_index: int = 0, stars=None, presence=None
) -> uuid.UUID:
    """A dorm visit by this person, written through the one write path, at a phone time."""
    entry_id = new_entry_id()
    payload = {
        "room_id": rooms_of_students_of(db, username)[room_index],
        "presence": presence or {},
        "stars": stars,
        "issues": [],
        "talk_notes": "",
    }
    outcome = merge.apply(
        db,
        user_named(db, username),
        merge.Mutation(
            id=entry_id,
            op="create",
            kind="dorm_visit",
            payload=payload,
            recorded_at=recorded_at,
            received_at=recorded_at,  # as if sent at once, whatever the week
        ),
    )
    db.commit()
    assert outcome.status == "applied", outcome.reason
    return entry_id


def edit_visit(db, username: str, entry_id: uuid.UUID, base_revision: int, **changes) -> None:
    from server.models import Entry

    entry = db.get(Entry, entry_id)
    db.refresh(entry)
    op = "delete" if changes.pop("delete", False) else "update"
    outcome = merge.apply(
        db,
        user_named(db, username),
        merge.Mutation(
            id=entry_id,
            op=op,
            kind="dorm_visit",
            payload={**entry.payload, **changes},
            base_revision=base_revision,
            reason="录错了" if op == "delete" else None,
        ),
    )
    db.commit()
    assert outcome.status == "applied", outcome.reason


def shanghai(year, month, day, hour, minute) -> datetime:
    """A Shanghai wall-clock time as the UTC moment the phone sends (UTC+8, no DST)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def days_on_page(html: str) -> list[tuple[str, list[str]]]:
    """(day heading, entry ids in order) for each day section of the log page."""
    days = []
    for section in html.split('<section class="log-day">')[1:]:
        heading = re.search(r"<h2>([^<]+)</h2>", section).group(1).strip()
        days.append((heading, re.findall(r'id="entry-([0-9a-f-]+)"', section)))
    return days


def ids_on_page(html: str) -> set[str]:
    return {entry_id for _, ids in days_on_page(html) for entry_id in ids}


def residents(db, room_id: int) -> list[Student]:
    return list(
        db.scalars(
            select(Student)
            .join(Bed, Bed.student_id == Student.id)
            .where(Bed.room_id == room_id)
            .order_by(Student.student_number)
        )
    )


# ---------------------------------------------------------------- the log


def test_the_log_lists_entries_by_college_day_newest_first(login, db):
    late_monday = record_visit(db, "counselor1", shanghai(2025, 3, 3, 23, 30))  # UTC: 15:30
    morning_wednesday = record_visit(db, "counselor1", shanghai(2025, 3, 5, 8, 0))
    late_sunday = record_visit(db, "counselor1", shanghai(2025, 3, 9, 23, 30))
    # UTC says Sunday 16:30 for both; in Shanghai one is the Sunday before, one the Monday after
    sunday_before = record_visit(db, "counselor1", shanghai(2025, 3, 2, 23, 59))
    monday_after = record_visit(db, "counselor1", shanghai(2025, 3, 10, 0, 30))

    page = login("counselor1").get("/log", params={"week": "2025-03-05"})

    assert page.status_code == 200
    assert days_on_page(page.text) == [
        ("03月09日 星期日", [str(late_sunday)]),
        ("03月05日 星期三", [str(morning_wednesday)]),
        ("03月03日 星期一", [str(late_monday)]),
    ]
    assert str(sunday_before) not in page.text and str(monday_after) not in page.text
    assert "23:30" in page.text


def test_the_week_filter_takes_any_day_of_the_week_and_excludes_other_weeks(login, db):
    this_week = record_visit(db, "counselor1", shanghai(2025, 3, 19, 10, 0))
    next_week = record_visit(db, "counselor1", shanghai(2025, 3, 24, 10, 0))
    client = login("counselor1")

    assert ids_on_page(client.get("/log", params={"week": "2025-03-23"}).text) == {str(this_week)}
    assert ids_on_page(client.get("/log", params={"week": "2025-03-24"}).text) == {str(next_week)}


def test_the_kind_filter_excludes_other_kinds(login, db):
    visit = record_visit(db, "counselor1", shanghai(2025, 4, 2, 10, 0))
    other_kind = next(name for name in KINDS if name != "dorm_visit")
    client = login("counselor1")

    by_visit = client.get("/log", params={"week": "2025-04-02", "kind": "dorm_visit"})
    by_other = client.get("/log", params={"week": "2025-04-02", "kind": other_kind})

    assert ids_on_page(by_visit.text) == {str(visit)}
    assert ids_on_page(by_other.text) == set()
    assert "没有符合筛选条件的记录" in by_other.text


def test_the_student_filter_keeps_only_entries_about_the_student(login, db):
    room_id = rooms_of_students_of(db, "counselor1")[0]
    first, second = residents(db, room_id)[:2]
    about_first = record_visit(
        db, "counselor1", shanghai(2025, 4, 8, 21, 0), presence={str(first.id): "late"}
    )
    about_second = record_visit(
        db, "counselor1", shanghai(2025, 4, 9, 21, 0), presence={str(second.id): "present"}
    )
    client = login("counselor1")

    everything = client.get("/log", params={"week": "2025-04-07"})
    only_first = client.get("/log", params={"week": "2025-04-07", "student": first.id})

    assert ids_on_page(everything.text) == {str(about_first), str(about_second)}
    assert ids_on_page(only_first.text) == {str(about_first)}
    assert f'<option value="{second.id}"' in only_first.text  # still offered in the filter
    # the name links to the student's page (_macros.html student_link)
    link = rf'学生：<a [^>]*href="/students/{first.id}"[^>]*>{first.name}</a>'
    assert re.search(link, only_first.text)


def test_a_visit_summary_names_stars_absences_and_concern_in_a_few_words():
    payload = {
        "presence": {"1": "late", "2": "present", "3": "late"},
        "stars": 4,
        "issues": ["appliance"],
        "talk_notes": "和同学谈了考试安排，大家都说准备得差不多了，还有两门要补",
        "concern": {"category": "mental", "note": ""},
    }
    assert summary(payload) == (
        "卫生 4 星；晚归 2 人；问题：违章电器；谈心：和同学谈了考试安排，大家都说准备得差不多…；关注：心理"
    )
    assert summary({"presence": {}}) == "走访，无异常"
    assert KINDS["dorm_visit"].students(payload) == {1, 2, 3}


# ---------------------------------------------------------------- who may open whose log


def other_department_leader(db) -> User:
    """A leader of a second department (the small demo college has one department)."""
    leader = user_named(db, "leader_other")
    if leader is None:
        department = Department(name="测试第二系")
        db.add(department)
        db.flush()
        leader = User(
            username="leader_other",
            name="外系负责人",
            password_hash=hash_password(demo.DEMO_PASSWORD),
            department_id=department.id,
        )
        leader.role_rows.append(UserRole(role=Role.leader))
        db.add(leader)
        db.commit()
    return leader


def test_a_class_teacher_cannot_open_another_persons_log(login, db):
    counselor = user_named(db, "counselor1")
    entry_id = record_visit(db, "counselor1", shanghai(2025, 4, 14, 9, 0))
    client = login("teacher1")

    for path in ("/log", "/log.xlsx"):
        response = client.get(path, params={"staff": counselor.id})
        assert response.status_code == 403
        assert "只能查看自己的工作记录" in response.text
    assert client.get(f"/entries/{entry_id}/history").status_code == 403
    assert client.get("/log").status_code == 200  # their own


def test_a_leader_of_another_department_cannot_open_the_log(login, db):
    counselor = user_named(db, "counselor1")
    other_department_leader(db)
    client = login("leader_other")

    response = client.get("/log", params={"staff": counselor.id})

    assert response.status_code == 403
    assert "只能查看本系部老师的工作记录" in response.text
    assert client.get("/log.xlsx", params={"staff": counselor.id}).status_code == 403


def test_the_department_leader_and_the_office_open_a_counselors_log(login, db):
    counselor = user_named(db, "counselor1")
    entry_id = record_visit(db, "counselor1", shanghai(2025, 4, 23, 9, 0))
    for who in ("leader1", "office1"):
        page = login(who).get("/log", params={"staff": counselor.id, "week": "2025-04-23"})
        assert page.status_code == 200
        assert ids_on_page(page.text) == {str(entry_id)}
        assert counselor.name in page.text
    assert login("teacher1").get("/log", params={"staff": 999999}).status_code == 404


# ---------------------------------------------------------------- Excel export


def test_the_export_opens_with_a_title_row_and_one_row_per_entry(login, db):
    counselor = user_named(db, "counselor1")
    room_id = rooms_of_students_of(db, "counselor1")[0]
    student = residents(db, room_id)[0]
    record_visit(
        db,
        "counselor1",
        shanghai(2025, 5, 5, 23, 30),
        stars=4,
        presence={str(student.id): "present"},
    )
    record_visit(db, "counselor1", shanghai(2025, 5, 7, 7, 15), room_index=1)

    response = login("leader1").get(
        "/log.xlsx", params={"staff": counselor.id, "start": "2025-05-05", "end": "2025-05-11"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert counselor.name in sheet["A1"].value and "2025-05-05 至 2025-05-11" in sheet["A1"].value
    assert [c.value for c in sheet[2]] == [header for header, _ in worklog.COLUMNS]
    assert sheet.max_row == 4  # title, header, two entries, oldest first
    row = [c.value for c in sheet[3]]
    assert row[0].date().isoformat() == "2025-05-05"
    assert row[1:4] == ["23:30", "宿舍走访", "卫生 4 星"]
    assert row[4] == student.name
    assert row[5] == db.get(Room, room_id).title
    assert row[7:] == [1, None, None, None]  # version, 审阅后修改, 审阅后补录, 补录
    assert sheet["B4"].value == "07:15"
    assert sheet.column_dimensions["D"].width == 48


def test_a_semester_export_is_accepted(login):
    response = login("counselor1").get(
        "/log.xlsx", params={"start": "2025-02-01", "end": "2025-07-31"}
    )
    assert response.status_code == 200
    assert "2025-02-01 至 2025-07-31" in load_workbook(BytesIO(response.content)).active["A1"].value


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("2025-13-01", "", "无法识别的开始日期"),
        ("2025-05-01", "五月十日", "无法识别的结束日期"),
        ("2025-05-10", "2025-05-01", "结束日期早于开始日期"),
        ("2025-01-01", "2025-12-31", "最长 200 天"),
    ],
)
def test_a_bad_export_period_is_refused_in_chinese(login, start, end, message):
    response = login("counselor1").get("/log.xlsx", params={"start": start, "end": end})
    assert response.status_code == 400
    assert message in response.text


def test_a_bad_week_on_the_log_is_refused_in_chinese(login):
    response = login("counselor1").get("/log", params={"week": "下周"})
    assert response.status_code == 400
    assert "无法识别的日期" in response.text


# ---------------------------------------------------------------- review (检查)


def review(client, staff_id: int, week: str, comment: str):
    page = client.get("/log", params={"staff": staff_id, "week": week})
    return client.post(
        "/log/reviews",
        data={
            "staff": staff_id,
            "week": week,
            "comment": comment,
            "_csrf_token": form_csrf(page.text),
        },
        follow_redirects=False,
    )


def move_reviews_back(db, staff_id: int, week: str) -> None:
    """SQLite keeps `changed_at` to the second: put the review a minute earlier so an edit
    made right after it in the test is later by the database clock, as it would be in use."""
    monday = datetime.fromisoformat(week).date()
    for r in db.scalars(
        select(WeekReview).where(WeekReview.staff_id == staff_id, WeekReview.week_start == monday)
    ):
        r.reviewed_at = r.reviewed_at - timedelta(minutes=1)
    db.commit()


def test_an_edit_after_the_review_is_flagged_with_its_history(login, db):
    counselor = user_named(db, "counselor1")
    edited = record_visit(db, "counselor1", shanghai(2025, 6, 2, 21, 30), stars=3)
    untouched = record_visit(db, "counselor1", shanghai(2025, 6, 3, 21, 30), room_index=1)
    leader = login("leader1")

    answer = review(leader, counselor.id, "2025-06-02", "记录完整，注意跟进晚归学生")
    assert answer.status_code == 303
    move_reviews_back(db, counselor.id, "2025-06-02")
    edit_visit(db, "counselor1", edited, 1, stars=5)

    page = leader.get("/log", params={"staff": counselor.id, "week": "2025-06-02"})
    assert "记录完整，注意跟进晚归学生" in page.text
    assert "本周有 1 条记录在检查后被修改" in page.text
    rows = dict(
        re.findall(r'id="entry-([0-9a-f-]+)"(.*?)</li>', page.text, flags=re.S)
    )  # entry id → its row
    assert "审阅后修改" in rows[str(edited)]
    assert "审阅后修改" not in rows[str(untouched)]

    book = load_workbook(
        BytesIO(
            leader.get(
                "/log.xlsx",
                params={"staff": counselor.id, "start": "2025-06-02", "end": "2025-06-08"},
            ).content
        )
    )
    sheet = book["工作记录"]
    checks = book["检查"]
    assert checks["A2"].value.date().isoformat() == "2025-06-02"
    assert checks["B2"].value == user_named(db, "leader1").name
    assert checks["D2"].value == "记录完整，注意跟进晚归学生"
    # oldest first: the edited Monday visit (revision 2, flagged), then Tuesday's
    assert [(sheet.cell(r, 8).value, sheet.cell(r, 9).value) for r in (3, 4)] == [
        (2, "是"),
        (1, None),
    ]

    history = leader.get(f"/entries/{edited}/history")
    assert history.status_code == 200
    assert "第 1 版" in history.text and "第 2 版" in history.text
    assert "卫生星级" in history.text and "3 → 5" in history.text
    assert history.text.count("审阅后修改") == 1
    assert login("counselor1").get(f"/entries/{edited}/history").status_code == 200


def test_reviewing_again_keeps_the_first_review(login, db):
    counselor = user_named(db, "counselor1")
    leader = login("leader1")
    assert review(leader, counselor.id, "2025-06-09", "第一次").status_code == 303
    assert review(leader, counselor.id, "2025-06-09", "补充意见").status_code == 303

    page = leader.get("/log", params={"staff": counselor.id, "week": "2025-06-09"})
    assert page.text.index("第一次") < page.text.index("补充意见")
    assert "再次检查" in page.text


def test_a_reviewed_entry_deleted_later_stays_struck_through(login, db):
    counselor = user_named(db, "counselor1")
    deleted = record_visit(db, "counselor1", shanghai(2025, 6, 17, 21, 0))
    never_reviewed = record_visit(db, "counselor1", shanghai(2025, 6, 24, 21, 0))
    leader = login("leader1")
    review(leader, counselor.id, "2025-06-16", "")
    move_reviews_back(db, counselor.id, "2025-06-16")
    edit_visit(db, "counselor1", deleted, 1, delete=True)
    edit_visit(db, "counselor1", never_reviewed, 1, delete=True)

    reviewed_week = leader.get("/log", params={"staff": counselor.id, "week": "2025-06-16"})
    other_week = leader.get("/log", params={"staff": counselor.id, "week": "2025-06-23"})

    assert ids_on_page(reviewed_week.text) == {str(deleted)}
    assert "已删除" in reviewed_week.text
    assert "删除原因：录错了" in reviewed_week.text, "the reason is shown with it"
    assert ids_on_page(other_week.text) == set()


def test_only_a_leader_of_the_persons_department_reviews(login, db):
    counselor = user_named(db, "counselor1")
    teacher = user_named(db, "teacher1")
    assert review(login("counselor1"), teacher.id, "2025-06-30", "x").status_code == 403
    assert review(login("teacher1"), teacher.id, "2025-06-30", "x").status_code == 403
    other_department_leader(db)
    assert review(login("leader_other"), counselor.id, "2025-06-30", "x").status_code == 403
    own_page = login("counselor1").get("/log", params={"week": "2025-06-30"})
    assert "标记本周已检查" not in own_page.text
    assert db.scalar(select(WeekReview).where(WeekReview.comment == "x")) is None


def test_a_week_not_yet_begun_cannot_be_reviewed(login, db):
    counselor = user_named(db, "counselor1")
    leader = login("leader1")
    page = leader.get("/log", params={"staff": counselor.id})
    monday = clock.week_of(datetime.now(UTC).date() + timedelta(days=14))[0].isoformat()
    answer = leader.post(
        "/log/reviews",
        data={"staff": counselor.id, "week": monday, "_csrf_token": form_csrf(page.text)},
    )
    assert answer.status_code == 400
    assert "还没有开始" in answer.text


def test_the_office_inspects_any_departments_log(login, db):
    counselor = user_named(db, "counselor1")
    office = login("office1")
    page = office.get("/log", params={"staff": counselor.id, "week": "2025-07-07"})
    assert "标记本周已检查" in page.text
    assert review(office, counselor.id, "2025-07-07", "学工部抽查").status_code == 303
    shown = office.get("/log", params={"staff": counselor.id, "week": "2025-07-07"}).text
    assert "学工部抽查" in shown
    # admin keeps accounts and data, not inspections
    assert review(login("admin"), counselor.id, "2025-07-07", "y").status_code == 403
