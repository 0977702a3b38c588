"""第二课堂 (§2.10): approval before an activity happens, a completion record after it, and
two high-level lectures per grade per semester on the due list in the last four weeks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.exceptions import PermissionDeniedException
from sqlalchemy import delete, select

from server import second_classroom as sc
from server.clock import today
from server.models import Activity, SchoolClass, Semester
from tests.conftest import form_csrf, user_named


@pytest.fixture
def rollback(db):
    yield db
    db.rollback()


def classes_of(db, username):
    user = user_named(db, username)
    return list(
        db.scalars(
            select(SchoolClass)
            .where((SchoolClass.class_teacher_id == user.id) | (SchoolClass.counselor_id == user.id))
            .order_by(SchoolClass.id)
        )
    )


def propose(db, who="teacher1", *, day=None, on=None, category="lecture", high_level=True,
            class_ids=None, grades=()):  # fmt: skip
    on = on or today()
    return sc.propose(
        db, user_named(db, who), category=category, title="人工智能前沿讲座", high_level=high_level,
        organiser="信息工程系团总支", day=day or on + timedelta(days=7), place="报告厅",
        grades=list(grades), class_ids=class_ids or [classes_of(db, "teacher1")[0].id],
        expected="120", safety="专人负责进出场秩序", today=on,
    )  # fmt: skip


def held_lecture(db, class_ids, day):
    """A high-level lecture proposed a week before `day`, approved, then held on it."""
    activity = propose(db, day=day, on=day - timedelta(days=7), class_ids=class_ids)
    sc.decide(db, activity, user_named(db, "counselor1"), "approve", "", day - timedelta(days=6))
    sc.complete(db, activity, user_named(db, "teacher1"), "held", "110", "反响很好", day)
    return activity


def test_activity_needs_approval_before_it_happens(rollback):
    db = rollback
    activity = propose(db)
    assert activity.status == "proposed"
    with pytest.raises(sc.ActivityError, match="只有审批通过的活动才能记录为已举办"):
        sc.complete(db, activity, user_named(db, "teacher1"), "held", "100", "办完了",
                    activity.day)  # fmt: skip
    # the day has passed without a decision: nobody approves it afterwards
    with pytest.raises(sc.ActivityError, match="审批须在活动举办之前"):
        sc.decide(db, activity, user_named(db, "counselor1"), "approve", "",
                  activity.day + timedelta(days=1))  # fmt: skip


def test_an_activity_is_not_proposed_for_a_day_that_has_passed(rollback):
    with pytest.raises(sc.ActivityError, match="须在举办之前申报审批"):
        propose(rollback, day=today() - timedelta(days=1))


def test_the_counselor_of_the_classes_approves_and_the_step_is_kept(rollback):
    db = rollback
    activity = propose(db)
    counselor = user_named(db, "counselor1")
    sc.decide(db, activity, counselor, "approve", "注意安全", today())
    db.flush()
    assert activity.status == "approved"
    assert [(s.step, s.by_id, s.note) for s in activity.steps][-1] == (
        "approved", counselor.id, "注意安全"
    )


def test_a_proposer_does_not_approve_their_own_activity(rollback):
    db = rollback
    activity = propose(db, who="counselor1")
    with pytest.raises(PermissionDeniedException, match="不能审批自己申报的活动"):
        sc.decide(db, activity, user_named(db, "counselor1"), "approve", "", today())
    sc.decide(db, activity, user_named(db, "leader1"), "approve", "", today())  # the leader may
    assert activity.status == "approved"


def test_a_class_teacher_does_not_approve(rollback):
    db = rollback
    activity = propose(db, who="counselor1")
    with pytest.raises(PermissionDeniedException, match="辅导员或本系部负责人"):
        sc.decide(db, activity, user_named(db, "teacher1"), "approve", "", today())


def test_a_returned_activity_needs_a_reason(rollback):
    db = rollback
    activity = propose(db)
    with pytest.raises(sc.ActivityError, match="退回须写明理由"):
        sc.decide(db, activity, user_named(db, "counselor1"), "return", " ", today())
    sc.decide(db, activity, user_named(db, "counselor1"), "return", "安全措施不具体", today())
    assert activity.status == "returned"
    with pytest.raises(sc.ActivityError, match="不能再审批"):
        sc.decide(db, activity, user_named(db, "counselor1"), "approve", "", today())


def test_the_completion_record_keeps_participants_and_summary(rollback):
    db = rollback
    day = today()
    activity = held_lecture(db, [classes_of(db, "teacher1")[0].id], day)
    assert (activity.status, activity.participants, activity.summary) == ("held", 110, "反响很好")
    assert [s.step for s in activity.steps] == ["proposed", "approved", "held"]


def test_a_held_activity_needs_participants_and_a_summary(rollback):
    db = rollback
    activity = propose(db, on=today() - timedelta(days=7), day=today())
    sc.decide(db, activity, user_named(db, "counselor1"), "approve", "", today() - timedelta(days=7))
    with pytest.raises(sc.ActivityError, match="实际参加人数应为"):
        sc.complete(db, activity, user_named(db, "teacher1"), "held", "很多", "好", today())
    with pytest.raises(sc.ActivityError, match="请填写活动简要总结"):
        sc.complete(db, activity, user_named(db, "teacher1"), "held", "80", "", today())


def test_a_cancelled_activity_says_why(rollback):
    db = rollback
    activity = propose(db)
    with pytest.raises(sc.ActivityError, match="取消的原因"):
        sc.complete(db, activity, user_named(db, "teacher1"), "cancelled", "", "", today())
    sc.complete(db, activity, user_named(db, "teacher1"), "cancelled", "", "主讲人临时有事", today())
    assert activity.status == "cancelled"


def test_a_grade_picked_is_every_class_of_that_grade_in_the_department(rollback):
    db = rollback
    grade = classes_of(db, "teacher1")[0].grade
    activity = propose(db, class_ids=[], grades=[grade])
    dept = user_named(db, "teacher1").department_id
    expected = db.scalars(
        select(SchoolClass.id).where(SchoolClass.grade == grade, SchoolClass.department_id == dept,
                                     SchoolClass.archived.is_(False))
    ).all()  # fmt: skip
    assert sorted(activity.class_ids) == sorted(expected) and activity.grades == [grade]


@pytest.fixture
def term_ending_soon(rollback):
    """A recorded semester whose last four weeks began a few days ago, without the demo's
    activities."""
    db = rollback
    db.execute(delete(Semester))
    db.execute(delete(Activity))
    semester = Semester(
        name="测试学期", first_day=today() - timedelta(days=120),
        last_day=today() + timedelta(days=20), holidays=[],
    )  # fmt: skip
    db.add(semester)
    db.flush()
    return db


def test_second_classroom_grade_with_one_lecture_is_due(term_ending_soon):
    db = term_ending_soon
    own = classes_of(db, "teacher1")[0]
    held_lecture(db, [own.id], today() - timedelta(days=30))
    db.flush()
    due = sc.lectures_due(db, user_named(db, "teacher1"), today())
    assert [(t.label, t.held, t.missing) for t in due] == [(own.name, 1, 1)]
    # the counselor sees the grade short of its second lecture
    grades = [t for t in sc.lectures_due(db, user_named(db, "counselor1"), today())
              if t.label == f"{own.grade}级"]  # fmt: skip
    assert [(t.held, t.missing) for t in grades] == [(1, 1)]


def test_second_classroom_grade_with_two_lectures_is_not_due(term_ending_soon):
    db = term_ending_soon
    own = classes_of(db, "teacher1")[0]
    held_lecture(db, [own.id], today() - timedelta(days=40))
    held_lecture(db, [own.id], today() - timedelta(days=10))
    db.flush()
    assert sc.lectures_due(db, user_named(db, "teacher1"), today()) == []
    assert f"{own.grade}级" not in {
        t.label for t in sc.lectures_due(db, user_named(db, "counselor1"), today())
    }


def test_an_ordinary_lecture_does_not_count_toward_the_high_level_rule(term_ending_soon):
    db = term_ending_soon
    own = classes_of(db, "teacher1")[0]
    day = today() - timedelta(days=5)
    lecture = propose(db, day=day, on=day - timedelta(days=7), class_ids=[own.id], high_level=False)
    sc.decide(db, lecture, user_named(db, "counselor1"), "approve", "", day - timedelta(days=7))
    sc.complete(db, lecture, user_named(db, "teacher1"), "held", "50", "好", day)
    db.flush()
    due = sc.lectures_due(db, user_named(db, "teacher1"), today())
    assert [(t.held, t.missing) for t in due] == [(0, 2)]


def test_the_lecture_rule_is_not_on_the_due_list_before_the_last_four_weeks(term_ending_soon):
    db = term_ending_soon
    db.scalar(select(Semester)).last_day = today() + timedelta(days=28)
    db.flush()
    assert sc.lectures_due(db, user_named(db, "teacher1"), today()) == []


def test_the_due_page_shows_the_lectures_still_missing(login, sessionmaker):
    with sessionmaker() as db:
        db.execute(delete(Semester))
        db.add(Semester(name="测试学期", first_day=today() - timedelta(days=120),
                        last_day=today() + timedelta(days=3), holidays=[]))  # fmt: skip
        db.commit()
    try:
        page = login("teacher1").get("/due")
        assert page.status_code == 200
        assert "data-lectures-due" in page.text and "高水平讲座" in page.text
    finally:
        with sessionmaker() as db:
            db.execute(delete(Semester))
            db.commit()


def test_a_proposal_posted_and_approved_on_the_pages(login, sessionmaker):
    client = login("teacher1")
    form = client.get("/activities/new")
    assert form.status_code == 200
    with sessionmaker() as db:
        own = classes_of(db, "teacher1")[0].id
    data = {
        "_csrf_token": form_csrf(form.text), "category": "lecture", "high_level": "on",
        "title": "职业规划报告", "organiser": "班级", "day": (today() + timedelta(days=3)).isoformat(),
        "place": "301", "class_ids": str(own), "expected": "40", "safety": "班干部维持秩序",
    }  # fmt: skip
    bad = client.post("/activities/create", data={**data, "expected": "四十"})
    assert bad.status_code == 422 and "预计参加人数应为" in bad.text and "职业规划报告" in bad.text
    made = client.post("/activities/create", data=data, follow_redirects=False)
    assert made.status_code == 303
    path = made.headers["location"]
    try:
        counselor = login("counselor1")
        page = counselor.get(path)
        assert "待审批" in page.text and 'value="approve"' in page.text
        decided = counselor.post(
            path + "/decide",
            data={"_csrf_token": form_csrf(page.text), "decision": "approve"},
            follow_redirects=False,
        )
        assert decided.status_code == 303
        assert 'data-status="approved"' in counselor.get(path).text
    finally:
        with sessionmaker() as db:
            db.execute(delete(Activity).where(Activity.title == "职业规划报告"))
            db.commit()
