"""考核 (§4): scores computed from a person's records, the rules' versions and their filing
(备案), the group's confirmation that freezes a period, and the exports' columns.

Each test works in a department of its own (`dept`), made and removed by the fixture, so the
demo college the other modules read stays as it was."""

from __future__ import annotations

import io
import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from server import assessment, assessment_export, clock, duty, week
from server.models import (
    AssessmentConfirmation,
    AssessmentGroupMember,
    AssessmentManualScore,
    AssessmentRules,
    AssessmentSnapshot,
    Building,
    ClassCourse,
    Course,
    CourseTeacher,
    Department,
    DutyShift,
    Entry,
    EntryRevision,
    Escalation,
    Role,
    Room,
    SchoolClass,
    SensitiveRead,
    Slot,
    User,
    UserRole,
    WeekReview,
)
from server.sync.ids import new_entry_id
from tests.conftest import user_named

_n = itertools.count(1)
MARCH = "m2026-03"  # Mondays 2, 9, 16, 23, 30: five weeks
TODAY = date(2026, 5, 10)  # after the period: the whole month is counted
MONDAYS = [date(2026, 3, 2) + timedelta(days=7 * i) for i in range(5)]


class Dept:
    def __init__(self, db):
        n = f"{next(_n)}-{uuid.uuid4().hex[:6]}"
        self.department = Department(name=f"考核测试系{n}")
        db.add(self.department)
        db.flush()
        self.people = {}
        for name, roles in {
            "counselor": [Role.counselor], "leader": [Role.leader], "member": [Role.counselor],
        }.items():  # fmt: skip
            user = User(username=f"as_{name}_{n}", name=f"{name}{n}", password_hash="x",
                        department_id=self.department.id)  # fmt: skip
            db.add(user)
            db.flush()
            for role in roles:
                db.add(UserRole(user_id=user.id, role=role))
            self.people[name] = user
        db.commit()
        self.id = self.department.id

    def __getitem__(self, name: str) -> User:
        return self.people[name]


@pytest.fixture
def dept(db):
    made = Dept(db)
    ids = [u.id for u in made.people.values()]
    yield made
    db.rollback()
    if True:
        entries = select(Entry.id).where(Entry.author_id.in_(ids))
        db.execute(delete(Escalation).where(Escalation.entry_id.in_(entries)))
        db.execute(delete(SensitiveRead).where(SensitiveRead.entry_id.in_(entries)))
        db.execute(delete(EntryRevision).where(EntryRevision.entry_id.in_(entries)))
        db.execute(delete(Entry).where(Entry.author_id.in_(ids)))
        db.execute(delete(WeekReview).where(WeekReview.staff_id.in_(ids)))
        db.execute(delete(DutyShift).where(DutyShift.staff_id.in_(ids)))
        for model in (AssessmentSnapshot, AssessmentConfirmation, AssessmentManualScore,
                      AssessmentGroupMember, AssessmentRules):  # fmt: skip
            db.execute(delete(model).where(model.department_id == made.id))
        db.execute(delete(ClassCourse).where(ClassCourse.class_id.in_(
            select(SchoolClass.id).where(SchoolClass.department_id == made.id))))  # fmt: skip
        db.execute(delete(SchoolClass).where(SchoolClass.department_id == made.id))
        db.execute(delete(UserRole).where(UserRole.user_id.in_(ids)))
        db.execute(delete(User).where(User.id.in_(ids)))
        db.execute(delete(Department).where(Department.id == made.id))
        db.commit()


def at(day: date, hour: int = 10) -> datetime:
    """A moment of college time (Asia/Shanghai) as UTC."""
    return datetime.combine(day, time(hour), clock.COLLEGE_TZ).astimezone(UTC)


def entry(db, author: User, kind: str, payload: dict, when: datetime, **columns) -> Entry:
    row = Entry(
        id=new_entry_id(), kind=kind, author_id=author.id, department_id=author.department_id,
        payload=payload, recorded_at=when, received_at=when, revision=1, deleted=False, seq=0,
        **columns,
    )  # fmt: skip
    db.add(row)
    db.add(EntryRevision(entry_id=row.id, revision=1, payload=payload, author_id=author.id,
                         changed_at=when))  # fmt: skip
    db.flush()
    return row


def talk(db, author, day, students):
    """One 个别谈心 per student: a talk with several is a group talk and counts once (§1.5)."""
    for student in students:
        row = entry(db, author, "talk", {"student_ids": [student], "category": "study",
                                         "summary": "谈学习", "place": "办公室"}, at(day))  # fmt: skip
    return row


def edit(db, row: Entry, when: datetime) -> None:
    row.revision += 1
    db.add(EntryRevision(entry_id=row.id, revision=row.revision, payload=row.payload,
                         author_id=row.author_id, changed_at=when))  # fmt: skip
    db.flush()


RULES = assessment.Rules("month", [
    {"id": "quota_talk", "measure": "quota_talk", "weight": 10, "mode": "weeks"},
    {"id": "quota_attendance_check", "measure": "quota_attendance_check", "weight": 10,
     "mode": "count"},
    {"id": "meetings", "measure": "meetings", "weight": 5},
    {"id": "duty_rounds", "measure": "duty_rounds", "weight": 10},
    {"id": "worklog_reviews", "measure": "worklog_reviews", "weight": 5},
    {"id": "parent_contacts", "measure": "parent_contacts", "weight": 8},
    {"id": "plans", "measure": "plans", "weight": 5},
    {"id": "manual_paper", "measure": "manual", "label": "德育论文 / 课题", "weight": 3},
])  # fmt: skip


def known_records(db, dept: Dept) -> None:
    """counselor's March 2026, written so every measure has a known count."""
    person = dept["counselor"]
    # 谈心谈话 (5 different students a week): met in weeks 1 and 2, short (3) in week 3
    talk(db, person, MONDAYS[0], [1, 2, 3, 4, 5])
    talk(db, person, MONDAYS[1], [1, 2])
    talk(db, person, MONDAYS[1] + timedelta(days=1), [3, 4, 5])
    talk(db, person, MONDAYS[2], [1, 2, 3])
    # 检查上课 (2 a week, counted as a total): 3 of 10
    for day in (MONDAYS[0], MONDAYS[0], MONDAYS[3]):
        entry(db, person, "attendance_check", {"class_id": None, "marks": {}}, at(day))
    # 例会: in weeks 1 (twice) and 3 → 2 of 5 weeks
    for day in (MONDAYS[0], MONDAYS[0] + timedelta(days=2), MONDAYS[2]):
        entry(db, person, "meeting", {"meeting_type": "cadre"}, at(day))
    # 值班: two evening shifts, a visit in the first one's window only → 1 of 2
    building = db.scalar(select(Building).order_by(Building.id).limit(1))
    room = db.scalar(select(Room).where(Room.building_id == building.id).limit(1))
    for day in (MONDAYS[0], MONDAYS[1]):
        db.add(DutyShift(department_id=dept.id, staff_id=person.id, building_id=building.id,
                         date=day, slot=Slot.evening))  # fmt: skip
    starts, _ = duty.window_bounds(MONDAYS[0], Slot.evening)
    entry(db, person, "dorm_visit", {"room_id": room.id, "presence": {}, "issues": []},
          starts + timedelta(minutes=30), room_id=room.id)  # fmt: skip
    # 工作记录检查: weeks 1 and 2 reviewed; a record of week 2 edited after its review → 1 of 2
    reviewer = dept["leader"]
    for monday in MONDAYS[:2]:
        db.add(WeekReview(staff_id=person.id, week_start=monday, reviewer_id=reviewer.id,
                          comment="", reviewed_at=at(monday + timedelta(days=6), 20)))  # fmt: skip
    later = db.scalar(select(Entry).where(Entry.author_id == person.id, Entry.kind == "talk",
                                          Entry.recorded_at >= at(MONDAYS[1], 0))
                      .order_by(Entry.recorded_at).limit(1))  # fmt: skip
    edit(db, later, at(MONDAYS[2] + timedelta(days=1)))
    db.commit()


# (item, done/expected shown, points): 谈话 2/5 weeks × 10; 查课 3/10 × 10; 例会 2/5 × 5;
# 值班 1/2 × 10; 检查 1/2 × 5; no classes: no parents due (full); no plan due in March
# (the spring plan is due in February): full; the group gave 2.5 of 3 for the paper
EXPECTED = [
    ("quota_talk", "2/5", 4.0),
    ("quota_attendance_check", "3/10", 3.0),
    ("meetings", "2/5", 2.0),
    ("duty_rounds", "1/2", 5.0),
    ("worklog_reviews", "1/2", 2.5),
    ("parent_contacts", "0/0", 8.0),
    ("plans", "0/0", 5.0),
    ("manual_paper", "2.5", 2.5),
]


@pytest.fixture
def scored(db, dept):
    known_records(db, dept)
    assessment.set_group(db, dept.id, {dept["leader"].id})
    db.flush()
    period = assessment.period_of(db, "month", MARCH, TODAY)
    assessment.set_manual(db, dept.id, period, RULES, dept["leader"], dept["counselor"].id,
                          "manual_paper", "2.5", "论文一篇")  # fmt: skip
    db.commit()
    ctx = assessment.Context(db, dept.id, period, TODAY)
    return assessment.score(ctx, db.get(User, dept["counselor"].id), RULES)


@pytest.mark.parametrize(("item", "shown", "points"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_a_measure_counts_the_persons_records(scored, item, shown, points):
    line = next(line for line in scored.lines if line.item["id"] == item)
    assert (line.tally.shown(), line.points) == (shown, points)


def test_the_total_is_the_sum_of_the_measures(scored):
    assert scored.total == sum(p for _, _, p in EXPECTED) == 32.0


def test_equal_totals_share_a_rank(db, dept):
    period = assessment.period_of(db, "month", MARCH, TODAY)
    rows = assessment.department_scores(db, dept.id, period, RULES, TODAY)
    # nobody wrote anything: each gets the measures with nothing due, and the same rank
    assert [r.rank for r in rows] == [1, 1]
    assert {r.person.username for r in rows} == {dept["counselor"].username,
                                                 dept["member"].username}  # fmt: skip


@pytest.mark.parametrize(("points", "message"), [
    ("4", "得分应在 0 到 3 之间"), ("-1", "得分应在 0 到 3 之间"), ("abc", "得分应在"),
    ("nan", "得分应在"),
])  # fmt: skip
def test_manual_points_stay_within_the_items_maximum(db, dept, points, message):
    assessment.set_group(db, dept.id, {dept["leader"].id})
    period = assessment.period_of(db, "month", MARCH, TODAY)
    with pytest.raises(assessment.AssessmentError, match=message):
        assessment.set_manual(db, dept.id, period, RULES, dept["leader"], dept["counselor"].id,
                              "manual_paper", points)  # fmt: skip


def test_only_the_group_scores_manual_items(db, dept):
    period = assessment.period_of(db, "month", MARCH, TODAY)
    with pytest.raises(assessment.NotMember):
        assessment.set_manual(db, dept.id, period, RULES, dept["member"], dept["counselor"].id,
                              "manual_paper", "1")  # fmt: skip


@pytest.mark.parametrize(("kind", "key"), [
    ("month", "m2026-13"), ("month", "2026-03"), ("semester", "s2026-03-01"), ("year", "y99"),
    ("week", "w2026-03-02"), ("month", "m1800-01"),
])  # fmt: skip
def test_a_bad_period_is_refused_in_chinese(db, kind, key):
    with pytest.raises(assessment.AssessmentError, match="考核"):
        assessment.period_of(db, kind, key, TODAY)


def test_periods_are_months_semesters_and_years(db):
    month = assessment.period_of(db, "month", MARCH, TODAY)
    assert (month.first, month.last, month.weeks(TODAY)) == (date(2026, 3, 1), date(2026, 3, 31),
                                                             MONDAYS)  # fmt: skip
    year = assessment.period_of(db, "year", "y2025", TODAY)
    assert (year.first, year.last) == (date(2025, 8, 1), date(2026, 7, 31))
    semester = assessment.period_for_day(db, "semester", date(2026, 3, 10))
    assert assessment.period_of(db, "semester", semester.key, TODAY) == semester


# ---------------------------------------------------------------- versions and filing


def form(period="month", **weights) -> dict:
    data = {"period": period}
    for m in assessment.MEASURES:
        if not m.manual:
            data[f"weight_{m.key}"] = str(weights.get(m.key, 0))
    data |= {"manual_label_0": "经验交流会", "manual_weight_0": "2"}
    return data


def test_rules_are_versioned_and_filed_with_the_office(db, dept):
    leader, office = dept["leader"], user_named(db, "office1")
    assert assessment.rules_in_force(db, dept.id).row is None  # the college's defaults
    period, items = assessment.parse_items(form(quota_talk=20, meetings=5), [])
    first = assessment.save_draft(db, dept.id, leader, period, items)
    assert (first.version, first.status) == (1, "draft")
    again = assessment.save_draft(db, dept.id, leader, period, items)  # a draft is edited in place
    assert again.id == first.id
    assessment.file_rules(db, dept.id, leader, "1")
    with pytest.raises(assessment.AssessmentError, match="审核之前不能修改"):
        assessment.save_draft(db, dept.id, leader, period, items)
    with pytest.raises(assessment.AssessmentError, match="退回时请写明意见"):
        assessment.decide(db, first.id, office, False, " ")
    assessment.decide(db, first.id, office, False, "例会分值太低")
    assert (first.status, first.comment) == ("returned", "例会分值太低")
    assert assessment.rules_in_force(db, dept.id).row is None  # returned: not in force
    period, items = assessment.parse_items(form(quota_talk=20, meetings=10), [])
    assessment.save_draft(db, dept.id, leader, period, items)
    assert first.status == "draft"
    assessment.file_rules(db, dept.id, leader, "1")
    assessment.decide(db, first.id, office, True, "")
    in_force = assessment.rules_in_force(db, dept.id)
    assert (in_force.row.id, in_force.period, in_force.total_weight) == (first.id, "month", 32)
    # editing accepted rules makes version 2; version 1 stays in force and readable
    period, items = assessment.parse_items(form(quota_talk=30), [])
    second = assessment.save_draft(db, dept.id, leader, period, items)
    assert second.version == 2
    assert assessment.rules_in_force(db, dept.id).row.id == first.id
    assert [v.version for v in assessment.versions(db, dept.id)] == [2, 1]
    with pytest.raises(assessment.AssessmentError, match="不在待备案状态"):
        assessment.decide(db, first.id, office, True, "")
    with pytest.raises(assessment.AssessmentError, match="不是最新的草稿"):
        assessment.file_rules(db, dept.id, leader, "1")


@pytest.mark.parametrize(("change", "message"), [
    ({"period": "week"}, "考核周期"),
    ({"weight_meetings": "101"}, "0 到 100"),
    ({"weight_meetings": "-3"}, "0 到 100"),
    ({"weight_meetings": "五"}, "0 到 100"),
    ({"mode_quota_talk": "best"}, "计分方式无效"),
    ({"manual_label_1": "", "manual_weight_1": "3"}, "请填写名称"),
    ({"manual_label_1": "课题", "manual_weight_1": "0"}, "应大于 0"),
    ({"manual_label_1": "长" * 31, "manual_weight_1": "1"}, "名称太长"),
])  # fmt: skip
def test_a_bad_rules_field_is_refused_with_its_reason(change, message):
    with pytest.raises(ValueError, match=message):
        assessment.parse_items(form(quota_talk=10) | change, [])


def test_rules_without_any_item_are_refused():
    data = form() | {"manual_label_0": "", "manual_weight_0": ""}
    with pytest.raises(ValueError, match="至少要有一项"):
        assessment.parse_items(data, [])


def test_the_college_defaults_follow_the_guideline():
    rules = assessment.college_rules()
    measures = {i["measure"] for i in rules.items}
    assert measures == {m.key for m in assessment.MEASURES}
    assert rules.total_weight == 100
    assert {assessment.item_label(i) for i in rules.items if i["measure"] == "manual"} == {
        "德育论文 / 课题", "经验交流会"}  # fmt: skip


# ---------------------------------------------------------------- confirming and freezing


def test_the_groups_confirmation_freezes_the_period_and_later_edits_are_flagged(db, dept, scored):
    period = assessment.period_of(db, "month", MARCH, TODAY)
    assessment.set_group(db, dept.id, {dept["leader"].id, dept["member"].id})
    db.commit()
    with pytest.raises(assessment.AssessmentError, match="考核期结束后"):
        assessment.confirm(db, dept.id, period, RULES, dept["leader"], date(2026, 3, 20))
    with pytest.raises(assessment.NotMember):
        assessment.confirm(db, dept.id, period, RULES, dept["counselor"], TODAY)
    assert assessment.confirm(db, dept.id, period, RULES, dept["leader"], TODAY) is None
    with pytest.raises(assessment.AssessmentError, match="已经确认过"):
        assessment.confirm(db, dept.id, period, RULES, dept["leader"], TODAY)
    snap = assessment.confirm(db, dept.id, period, RULES, dept["member"], TODAY)
    db.commit()
    frozen = assessment.frozen_scores(snap)[dept["counselor"].id]
    assert (frozen["total"], frozen["lines"]["quota_talk"]["points"]) == (32.0, 4.0)
    assert assessment.changed_after_freeze(db, dept.id, period, snap) == []
    # a talk of week 3 edited after the freeze: the frozen result stays, the edit is flagged
    week3 = db.scalar(select(Entry).where(Entry.author_id == dept["counselor"].id,
                                          Entry.recorded_at >= at(MONDAYS[2], 0),
                                          Entry.kind == "talk"))  # fmt: skip
    edit(db, week3, snap.frozen_at + timedelta(minutes=5))
    late = talk(db, dept["counselor"], MONDAYS[4], [9])
    late.received_at = snap.frozen_at + timedelta(minutes=6)
    db.commit()
    flagged = {e.id for e in assessment.changed_after_freeze(db, dept.id, period, snap)}
    assert flagged == {week3.id, late.id}
    assert assessment.snapshot_of(db, dept.id, period).rows == snap.rows
    with pytest.raises(assessment.AssessmentError, match="已确认冻结"):
        assessment.set_manual(db, dept.id, period, RULES, dept["leader"], dept["counselor"].id,
                              "manual_paper", "1")  # fmt: skip


def test_the_group_is_named_from_the_departments_people(db, dept):
    with pytest.raises(assessment.AssessmentError, match="本系部的在职人员"):
        assessment.set_group(db, dept.id, {user_named(db, "office1").id})
    with pytest.raises(assessment.AssessmentError, match="至少要有一名"):
        assessment.set_group(db, dept.id, set())


# ---------------------------------------------------------------- exports


def test_the_assessment_sheet_has_a_column_per_item_total_and_rank(db, dept, scored):
    period = assessment.period_of(db, "month", MARCH, TODAY)
    scores = assessment.department_scores(db, dept.id, period, RULES, TODAY)
    body = assessment_export.sheet_workbook(dept.department, period, RULES, scores, None)
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["考核表", "考核细则"]
    rows = list(book["考核表"].iter_rows(values_only=True))
    assert rows[0] == ("姓名", "账号", "每周谈心谈话（10分）",
                       "每周检查上课（10分）", "每周例会（5分）", "值班巡查（10分）",
                       "工作记录检查（5分）", "家长联系（8分）", "计划与总结按时（5分）",
                       "德育论文 / 课题（3分）", "总分", "排名")  # fmt: skip
    mine = next(r for r in rows[1:] if r[1] == dept["counselor"].username)
    assert mine[2:] == (4, 3, 2, 5, 2.5, 8, 5, 2.5, 32, 1)
    # the other counselor wrote nothing: only the measures with nothing due (10 + 5 + 8 + 5)
    other = next(r for r in rows[1:] if r[1] == dept["member"].username)
    assert other[-2:] == (28, 2)
    rules_rows = [
        r[:2] if r[2] is None else r for r in book["考核细则"].iter_rows(values_only=True)
    ]
    assert ("细则版本", "学院默认细则") in rules_rows
    assert ("项目", "统计内容", "分值", "计分方式") in rules_rows


def test_the_records_export_carries_every_field_and_keeps_mental_talks_private(db, dept):
    person = dept["counselor"]
    school_class = SchoolClass(name=f"考核班{dept.id}", grade=2025, major="测试", department_id=dept.id,
                               counselor_id=person.id)  # fmt: skip
    course = db.scalar(select(Course).limit(1))
    teacher = db.scalar(select(CourseTeacher).limit(1))
    db.add(school_class)
    db.flush()
    taught = ClassCourse(class_id=school_class.id, course_id=course.id, teacher_id=teacher.id)
    db.add(taught)
    db.flush()
    ids = {"class_course_id": taught.id, "class_id": school_class.id, "course_id": course.id,
           "teacher_id": teacher.id}  # fmt: skip
    day = MONDAYS[1]
    entry(db, person, "lecture_observation", ids | {"date": day.isoformat(), "period": "1-2",
          "first_lesson": False, "notes": "前排认真听讲"}, at(day))  # fmt: skip
    entry(db, person, "teacher_contact", ids | {"method": "phone", "summary": "作业缺交三人"},
          at(day))  # fmt: skip
    entry(db, person, "talk", {"student_ids": [], "category": "mental", "summary": "情绪低落",
                               "place": "办公室"}, at(day))  # fmt: skip
    db.commit()
    period = assessment.period_of(db, "month", MARCH, TODAY)

    def sheets(viewer):
        body = assessment_export.records_workbook(db, viewer, dept.department, period)
        book = load_workbook(io.BytesIO(body))
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}

    leader = sheets(dept["leader"])
    lecture = dict(zip(leader["听课"][0], leader["听课"][1], strict=True))
    assert (
        lecture["课程"],
        lecture["任课教师"],
        lecture["节次"],
        lecture["学生听课情况"],
        lecture["班级"],
        lecture["记录人"],
    ) == (course.name, teacher.name, "第1-2节", "前排认真听讲", school_class.name, person.name)
    contact = dict(zip(leader["联系任课教师"][0], leader["联系任课教师"][1], strict=True))
    assert (contact["任课教师"], contact["沟通内容"], contact["课程"]) == (
        teacher.name, "作业缺交三人", course.name)  # fmt: skip
    assert contact["联系方式"] not in ("", None, "phone")  # the choice's label
    talk_row = dict(zip(leader["谈心谈话"][0], leader["谈心谈话"][1], strict=True))
    assert talk_row["谈话内容"] == "情绪低落"  # the department's leader reads it
    # the department's other counselor may not (admin neither): the content is withheld
    for viewer in (dept["member"], user_named(db, "admin")):
        hidden = sheets(viewer)
        talk_row = dict(zip(hidden["谈心谈话"][0], hidden["谈心谈话"][1], strict=True))
        assert talk_row["谈话内容"] == talk_row["谈话类别"] == assessment_export.HIDDEN
    # the leader's reading of a mental-health talk is noted for the office (/audit)
    assert db.scalar(select(SensitiveRead.page).where(SensitiveRead.reader_id == dept["leader"].id))


def test_many_weeks_at_once_count_as_each_week_alone(db, dept):
    """week.my_weeks (the assessment's periods) agrees with 本周's my_week, week by week."""
    known_records(db, dept)
    for username in (dept["counselor"].username, "counselor1", "teacher1"):
        person = db.scalar(select(User).where(User.username == username))
        mondays = MONDAYS if username == dept["counselor"].username else [
            clock.monday_of(clock.today()) - timedelta(days=7 * n) for n in range(4)
        ]  # fmt: skip
        together = week.my_weeks(db, person, mondays)
        alone = [week.my_week(db, person, m) for m in mondays]
        assert [[(p.counts, p.done, p.target) for p in w] for w in together] == [
            [(p.counts, p.done, p.target) for p in w] for w in alone
        ]


def escalation(db, author, opened: datetime, acknowledged: datetime | None, status="open"):
    referral = entry(db, author, "talk", {"student_ids": [1], "category": "mental",
                                          "summary": "转介"}, opened)  # fmt: skip
    db.add(Escalation(entry_id=referral.id, department_id=author.department_id,
                      category="mental", created_at=opened, status=status,
                      state="acknowledged" if acknowledged else "pending",
                      acknowledged_at=acknowledged))  # fmt: skip
    db.flush()


def test_escalations_acknowledged_within_the_limit_count_toward_the_reporter(db, dept):
    """§2.7.2: of what the counselor reported in March, acknowledged within 2 hours / those
    acknowledged or past the limit; a withdrawn one counts neither way."""
    person = dept["counselor"]
    opened = at(MONDAYS[0])
    escalation(db, person, opened, opened + timedelta(hours=1))  # in time
    escalation(db, person, at(MONDAYS[1]), at(MONDAYS[1]) + timedelta(hours=3))  # late
    escalation(db, person, at(MONDAYS[2]), None)  # never acknowledged: past the limit
    escalation(db, person, at(MONDAYS[3]), None, status="withdrawn")
    escalation(db, person, at(date(2026, 4, 6)), opened)  # April: another period
    db.commit()
    rules = assessment.Rules("month", [
        {"id": "escalations_in_time", "measure": "escalations_in_time", "weight": 10}])  # fmt: skip
    period = assessment.period_of(db, "month", MARCH, TODAY)
    scored = assessment.score(assessment.Context(db, dept.id, period, TODAY), person, rules)
    line = scored.lines[0]
    assert (line.tally.shown(), line.points) == ("1/3", 3.3)  # 10 × 1/3, to one decimal
