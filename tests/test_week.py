"""本周: the guideline's weekly quotas (§1.5, DESIGN.md), table-driven.

Each case writes a week of records for one person of a small made-up class (inside a
transaction that is rolled back) and reads that person's week.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server import clock, week
from server.clock import today
from server.models import (
    LeaveStatus,
    QuotaRule,
    Role,
    Room,
    StaffLeave,
    User,
    UserRole,
)
from server.sync import merge
from server.sync.ids import new_entry_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = clock.monday_of(today())
_serial = itertools.count(1)


@dataclass
class Week:
    """A record written during the week: (kind, day of week 0-6, what it says)."""

    talks: list[list[str]] = field(default_factory=list)  # each talk: the students talked to
    visits: list[dict] = field(default_factory=list)  # dorm visits: stars / talk_notes
    leave: list[tuple[int, int, LeaveStatus]] = field(default_factory=list)  # days, status


def write(db, user: User, kind: str, payload: dict, day: int, at: time = time(15)) -> None:
    when = datetime.combine(MONDAY + timedelta(days=day), at, tzinfo=SHANGHAI)
    outcome = merge.apply(
        db,
        user,
        merge.Mutation(
            id=new_entry_id(),
            op="create",
            kind=kind,
            payload=payload,
            recorded_at=when,
            received_at=when,
        ),
    )
    assert outcome.status == "applied", outcome.reason


def talk(students: dict, names: list[str]) -> dict:
    ids = [students[n].id for n in names]
    return {"student_ids": ids, "category": "study", "summary": "学习计划"}


def visit(room: Room, **what) -> dict:
    return {"room_id": room.id, "presence": {}, "stars": what.get("stars"),
            "issues": [], "talk_notes": what.get("notes", "")}  # fmt: skip


def progress(db, user: User) -> dict[str, tuple[int, int, bool]]:
    return {row.counts: (row.done, row.target, row.met) for row in week.my_week(db, user, MONDAY)}


# (who, talks as lists of students, dorm visits, leave days, facet, expected done/target/met)
CASES = [
    ("counselor talks one-to-one with 4 distinct students: 4/5, not met",
     "counselor", [["s1"], ["s2"], ["s3"], ["s4"]], [], [], "talk", (4, 5, False)),
    ("a group talk with two students counts once (§1.5 个别谈心 is one-to-one)",
     "counselor", [["s1"], ["s2"], ["s3", "s4"]], [], [], "talk", (3, 5, False)),
    ("two talks with the same student count once",
     "counselor", [["s1"], ["s1"]], [], [], "talk", (1, 5, False)),
    ("counselor with 5 distinct students: met",
     "counselor", [["s1"], ["s2"], ["s3"], ["s4"], ["s5"]], [], [], "talk", (5, 5, True)),
    ("class teacher with 2 distinct students: met",
     "teacher", [["s1"], ["s2"]], [], [], "talk", (2, 2, True)),
    ("a visit with stars and notes counts as a hygiene check…",
     "counselor", [], [{"stars": 4, "notes": "谈了作息"}], [], "hygiene_check", (1, 2, False)),
    ("…and as a dorm talk",
     "counselor", [], [{"stars": 4, "notes": "谈了作息"}], [], "dorm_talk", (1, 2, False)),
    ("a visit without stars is no hygiene check",
     "counselor", [], [{"notes": "谈了作息"}, {"notes": "又谈"}], [], "hygiene_check", (0, 2, False)),
    ("two visits with notes: dorm talks met",
     "counselor", [], [{"notes": "一"}, {"notes": "二", "stars": 5}], [], "dorm_talk", (2, 2, True)),
    ("a class without a class teacher adds the class teacher's talks to its counselor (§1.10)",
     "covering", [], [], [], "talk", (0, 7, False)),
    ("…and the class teacher's attendance checks",
     "covering", [], [], [], "attendance_check", (0, 4, False)),
    ("one approved leave day prorates talks: ceil(5 × 4/5)",
     "counselor", [], [], [(0, 0, LeaveStatus.approved)], "talk", (0, 4, False)),
    ("two approved leave days prorate hygiene checks: ceil(2 × 3/5)",
     "counselor", [], [], [(0, 1, LeaveStatus.approved)], "hygiene_check", (0, 2, False)),
    ("three approved leave days prorate talks: ceil(5 × 2/5)",
     "counselor", [["s1"], ["s2"]], [], [(2, 4, LeaveStatus.approved)], "talk", (2, 2, True)),
    ("leave on the weekend prorates nothing",
     "counselor", [], [], [(5, 6, LeaveStatus.approved)], "talk", (0, 5, False)),
    ("a whole week on leave: nothing due",
     "teacher", [], [], [(0, 6, LeaveStatus.approved)], "lecture_observation", (0, 0, True)),
    ("a leave not (yet) approved prorates nothing",
     "counselor", [], [], [(0, 2, LeaveStatus.requested)], "talk", (0, 5, False)),
]  # fmt: skip


@pytest.mark.parametrize(
    "who, talks, visits, leave, facet, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_weekly_quotas(db, made_up_class, who, talks, visits, leave, facet, expected):
    people, students, room, department = made_up_class
    user = people[who]
    for day, names in enumerate(talks):
        write(db, user, "talk", talk(students, names), day)
    for day, what in enumerate(visits):
        write(db, user, "dorm_visit", visit(room, **what), day)
    for first, last, status in leave:
        db.add(
            StaffLeave(
                staff_id=user.id, department_id=department.id, reason="病假", status=status,
                start=MONDAY + timedelta(days=first), end=MONDAY + timedelta(days=last),
            )
        )  # fmt: skip
    db.flush()
    assert progress(db, user)[facet] == expected


def test_the_week_runs_monday_to_sunday_in_shanghai(db, made_up_class):
    people, students, _, _ = made_up_class
    counselor = people["counselor"]
    write(db, counselor, "talk", talk(students, ["s1"]), -1, time(23, 59))  # last Sunday
    write(db, counselor, "talk", talk(students, ["s2"]), 0, time(0, 1))  # Monday 00:01
    write(db, counselor, "talk", talk(students, ["s3"]), 6, time(23, 59))  # Sunday 23:59
    write(db, counselor, "talk", talk(students, ["s4"]), 7, time(0, 0))  # next Monday 00:00
    assert progress(db, counselor)["talk"][0] == 2


def test_a_department_rule_replaces_the_college_default(db, made_up_class):
    people, _, _, department = made_up_class
    db.add(
        QuotaRule(
            department_id=department.id, role=Role.counselor, counts="talk",
            label="谈心谈话（不同学生）", distinct_students=True, target=8,
        )
    )  # fmt: skip
    db.flush()
    assert progress(db, people["counselor"])["talk"] == (0, 8, False)
    assert progress(db, people["teacher"])["talk"] == (0, 2, False), "other roles keep theirs"


def test_deleted_records_do_not_count(db, made_up_class):
    people, students, _, _ = made_up_class
    counselor = people["counselor"]
    entry_id = new_entry_id()
    m = merge.Mutation(id=entry_id, op="create", kind="talk", payload=talk(students, ["s1"]),
                       recorded_at=datetime.now(UTC))  # fmt: skip
    assert merge.apply(db, counselor, m).status == "applied"
    deleted = merge.apply(
        db, counselor, merge.Mutation(
            id=entry_id, op="delete", kind="talk", base_revision=1, reason="重复记录"
        )
    )
    assert deleted.status == "applied"
    assert progress(db, counselor)["talk"][0] == 0


def test_people_without_quota_roles_have_no_week(db, made_up_class):
    people, *_ = made_up_class
    office = User(username=f"w_office_{uuid.uuid4().hex[:6]}", name="学工部", password_hash="-")
    office.role_rows = [UserRole(role=Role.office)]
    db.add(office)
    db.flush()
    assert week.my_week(db, office, MONDAY) == []


# --- a department's own rules (§4), set by its leader ---------------------------------------


def _rules_form(client) -> tuple[str, str]:
    page = client.get("/department/rules")
    assert page.status_code == 200
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    department = re.search(r'name="department_id" value="(\d+)"', page.text).group(1)
    return token, department


def test_a_leader_sets_the_departments_talk_target_and_it_counts(login, db):
    client = login("leader1")
    token, department = _rules_form(client)
    saved = client.post(
        "/department/rules/save",
        data={"_csrf_token": token, "department_id": department, "target_counselor_talk": "6"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    try:
        counselor = db.scalar(select(User).where(User.username == "counselor1"))
        assert progress(db, counselor)["talk"][1] == 6
        assert progress(db, counselor)["hygiene_check"][1] == 2, "blank fields keep the default"
    finally:
        client.post(
            "/department/rules/save", data={"_csrf_token": token, "department_id": department}
        )  # all blank: back to the college's rules
        db.rollback()
    assert progress(db, counselor)["talk"][1] == 5


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"target_counselor_talk": "-1"}, "应为 0 到 50 之间的整数"),
        ({"target_class_teacher_talk": "abc"}, "应为 0 到 50 之间的整数"),
        ({"cadence_special": "7"}, "三项要么都填，要么都不填"),
        ({"cadence_special": "0", "cadence_key": "30", "cadence_general": "100"}, "应为 1 到 365"),
    ],
)
def test_bad_rules_are_refused_in_chinese_and_nothing_is_saved(login, db, fields, reason):
    client = login("leader1")
    token, department = _rules_form(client)
    before = db.scalars(select(QuotaRule.id)).all()
    answer = client.post(
        "/department/rules/save",
        data={"_csrf_token": token, "department_id": department,
              "target_counselor_attendance_check": "3", **fields},
    )  # fmt: skip
    assert answer.status_code == 422 and reason in answer.text
    db.rollback()
    assert db.scalars(select(QuotaRule.id)).all() == before


def test_a_leader_cannot_set_another_departments_rules(login):
    client = login("leader1")
    token, department = _rules_form(client)
    other = client.post(
        "/department/rules/save",
        data={"_csrf_token": token, "department_id": str(int(department) + 100)},
    )
    assert other.status_code == 403


def test_group_talk_counts_once(db, made_up_class):
    """§1.5: 个别谈心 is one-to-one. A talk with several students is a group talk: it is
    kept, and counts as one talk toward the weekly quota, not one per student."""
    people, students, room, department = made_up_class
    user = people["counselor"]
    write(db, user, "talk", talk(students, ["s1", "s2", "s3", "s4", "s5"]), 0)
    db.flush()
    row = next(r for r in week.my_week(db, user, MONDAY) if r.counts == "talk")
    assert (row.done, row.group_talks, row.students) == (1, 1, set())
    assert row.state == "还差 4 人"


def test_individual_talks_count_distinct_students_beside_group_talks(db, made_up_class):
    people, students, room, department = made_up_class
    user = people["counselor"]
    write(db, user, "talk", talk(students, ["s1", "s2"]), 0)
    write(db, user, "talk", talk(students, ["s1", "s2"]), 1)  # a second group talk: one more
    write(db, user, "talk", talk(students, ["s1"]), 2)
    write(db, user, "talk", talk(students, ["s1"]), 3)  # the same student again: no more
    db.flush()
    assert progress(db, user)["talk"] == (3, 5, False)
