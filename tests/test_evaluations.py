"""宿舍评比 and 公示 (guideline §2.9): scores from the visits' stars, deductions, rankings, the
five-star rate against its 80 % target, publication behind a revocable link.

The rules are tested on made-up rooms inside a transaction that is rolled back
(`college`); the pages on the demo college with rounds committed and removed again.
"""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from server import clock, evaluations
from server.evaluations import Visit, competition_ranks, score_room
from server.models import (
    Bed,
    Building,
    Department,
    Entry,
    EvaluationPublication,
    EvaluationRound,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
)
from tests.conftest import rooms_of_students_of, user_named
from tests.other_department import other_department, signed_in

WEEK = (date(2026, 3, 2), date(2026, 3, 8))  # a past week no other test writes visits in
NO_DEDUCTIONS = {issue: 0.0 for issue in evaluations.ISSUES}


def at(day: date, hour: int = 20) -> datetime:
    """A moment of a college day (Asia/Shanghai) in UTC."""
    return datetime.combine(day, time(hour), clock.COLLEGE_TZ).astimezone(UTC)


def visit(day: date, stars: int, *issues: str, hour: int = 20) -> Visit:
    return Visit(day, at(day, hour), stars, tuple(issues))


# --- the score of one room ----------------------------------------------------------------------


def test_room_score_is_mean_of_stars_by_default():
    visits = [visit(WEEK[0], 5), visit(WEEK[0] + timedelta(days=2), 4), visit(WEEK[1], 4)]
    score = score_room(visits, "mean", set(), NO_DEDUCTIONS)
    assert score.stars == Decimal("4.33")
    assert score.score == Decimal("4.33")
    assert score.level == 4
    assert score.visits == 3


def test_last_visit_rule():
    visits = [visit(WEEK[1], 3, hour=9), visit(WEEK[0], 5), visit(WEEK[1], 5, hour=8)]
    score = score_room(visits, "last", set(), NO_DEDUCTIONS)
    assert score.stars == 3  # the latest one, whatever the order they come in
    assert score.visits == 1


def test_inspection_rule_counts_only_the_inspection_days():
    inspection = WEEK[0] + timedelta(days=2)
    visits = [visit(WEEK[0], 2), visit(inspection, 5), visit(inspection, 4, hour=21)]
    score = score_room(visits, "inspection", {inspection}, NO_DEDUCTIONS)
    assert score.stars == Decimal("4.50")
    assert score.level == 5  # 4.5 rounds half up
    assert score_room([visit(WEEK[0], 5)], "inspection", {inspection}, NO_DEDUCTIONS) is None


def test_deductions_weighted():
    weights = {**NO_DEDUCTIONS, "appliance": 1.0, "safety": 0.5}
    visits = [visit(WEEK[0], 5, "appliance", "safety"), visit(WEEK[1], 5, "appliance", "hygiene")]
    score = score_room(visits, "mean", set(), weights)
    # each issue found on a counted visit takes its weight off: 1 + 0.5 + 1 (+ 0 for hygiene)
    assert score.deduction == Decimal("2.50")
    assert score.score == Decimal("2.50")
    assert score.level == 3


def test_deductions_of_the_last_rule_are_the_last_visits_only():
    weights = {**NO_DEDUCTIONS, "appliance": 2.0}
    visits = [visit(WEEK[0], 5, "appliance"), visit(WEEK[1], 4)]
    assert score_room(visits, "last", set(), weights).score == 4


def test_a_score_never_falls_below_zero_and_its_level_is_at_least_one_star():
    weights = {**NO_DEDUCTIONS, "appliance": 5.0, "safety": 5.0}
    score = score_room([visit(WEEK[0], 2, "appliance", "safety")], "mean", set(), weights)
    assert score.score == 0
    assert score.level == 1


def test_unvisited_room_is_not_scored():
    assert score_room([], "mean", set(), NO_DEDUCTIONS) is None


def test_equal_scores_share_a_rank():
    assert competition_ranks([Decimal(5), Decimal(4), Decimal(5), Decimal(3)]) == [1, 3, 1, 4]


# --- a made-up department: two grades, two buildings ---------------------------------------------

_made = itertools.count(1)


class College:
    """Rooms of a made-up department (rolled back after the test): grade 2024 lives in A101,
    A102 and B101; grade 2025 in A103 and B102. `visit(room, day, stars, *issues)` writes a
    dorm visit; `round(**settings)` opens a round over WEEK for the department."""

    def __init__(self, db):
        n = next(_made)
        self.db = db
        self.department = Department(name=f"评比测试系{n}")
        db.add(self.department)
        db.flush()
        self.leader = self._person(f"e{n}_leader", Role.leader)
        counselor = self._person(f"e{n}_counselor", Role.counselor)
        self.classes = {
            grade: SchoolClass(
                name=f"{grade}级评比{n}班",
                grade=grade,
                major="测试",
                department_id=self.department.id,
                counselor_id=counselor.id,
            )  # fmt: skip
            for grade in (2024, 2025)
        }
        db.add_all(self.classes.values())
        self.buildings = {b: Building(name=f"评比{n}{b}栋") for b in "AB"}
        self.rooms = {}
        for code, grade in {
            "A101": 2024,
            "A102": 2024,
            "B101": 2024,
            "A103": 2025,
            "B102": 2025,
        }.items():
            room = Room(building=self.buildings[code[0]], number=code[1:])
            db.add(room)
            db.flush()
            for bed in range(1, 5):
                student = Student(
                    student_number=f"E{n:02d}{code}{bed}", name=f"评比学生{code}{bed}", gender="男",
                    class_id=self.classes[grade].id,
                )  # fmt: skip
                db.add(student)
                db.flush()
                db.add(Bed(room_id=room.id, number=bed, student_id=student.id))
            self.rooms[code] = room
        db.flush()

    def _person(self, username: str, role: Role) -> User:
        user = User(
            username=username, name=username, password_hash="-", department_id=self.department.id
        )
        user.role_rows = [UserRole(role=role)]
        self.db.add(user)
        self.db.flush()
        return user

    def visit(self, code: str, day: date, stars: int | None, *issues: str, hour: int = 20) -> None:
        self.db.add(
            Entry(
                id=uuid.uuid4(),
                kind="dorm_visit",
                author_id=self.leader.id,
                department_id=self.department.id,
                room_id=self.rooms[code].id,
                payload={
                    "room_id": self.rooms[code].id,
                    "presence": {},
                    "stars": stars,
                    "issues": list(issues),
                    "issue_other": "",
                    "talk_notes": "张三说想家",
                    "concern": None,
                },
                recorded_at=at(day, hour),
                received_at=at(day, hour),
            )  # fmt: skip
        )
        self.db.flush()

    def round(self, **settings) -> EvaluationRound:
        evaluation = EvaluationRound(
            name="测试评比", department_id=self.department.id, period="week", first_day=WEEK[0],
            last_day=WEEK[1], rule="mean", inspection_days=[], deductions=NO_DEDUCTIONS,
            opened_by_id=self.leader.id, opened_at=datetime.now(UTC),
        )  # fmt: skip
        for name, value in settings.items():
            setattr(evaluation, name, value)
        self.db.add(evaluation)
        self.db.flush()
        return evaluation

    def result(self, found, code: str):
        (row,) = [r for r in found if r.room_id == self.rooms[code].id]
        return row


@pytest.fixture
def college(db):
    made = College(db)
    yield made
    db.rollback()


def test_a_round_scores_each_room_from_its_visits_in_the_period(college):
    college.visit("A101", WEEK[0], 5)
    college.visit("A101", WEEK[1], 4)
    college.visit("A101", WEEK[1] + timedelta(days=1), 1)  # the Monday after: not this round
    college.visit("A101", WEEK[0] - timedelta(days=1), 1)  # the Sunday before
    college.visit("A102", WEEK[0], None)  # a visit without stars scores nothing
    found = evaluations.results(college.db, college.round())
    assert college.result(found, "A101").score.stars == Decimal("4.50")
    assert college.result(found, "A102").score is None


def test_a_visit_just_before_midnight_in_the_college_belongs_to_that_day(college):
    college.visit("A101", WEEK[1], 2, hour=23)  # 23:00 Shanghai on the Sunday = 15:00 UTC
    assert college.result(evaluations.results(college.db, college.round()), "A101").score.stars == 2


def test_unvisited_room_is_listed_as_not_scored(college):
    college.visit("A101", WEEK[0], 5)
    found = evaluations.results(college.db, college.round())
    assert len(found) == 5  # every room of the department, visited or not
    unscored = [r for r in found if r.score is None]
    assert {r.room_id for r in unscored} == {
        college.rooms[c].id for c in ("A102", "B101", "A103", "B102")
    }
    assert all(r.grade_rank is None and r.building_rank is None for r in unscored)
    assert found[-1].score is None  # listed after the ranked rooms


def test_ranking_per_grade_and_building(college):
    for code, stars in {"A101": 4, "A102": 5, "B101": 3, "A103": 3, "B102": 5}.items():
        college.visit(code, WEEK[0], stars)
    found = evaluations.results(college.db, college.round())
    ranks = {code: (college.result(found, code).grade_rank, college.result(found, code).building_rank)
             for code in college.rooms}  # fmt: skip
    # grade 2024: A102 5, A101 4, B101 3; grade 2025: B102 5, A103 3
    # building A: A102 5, A101 4, A103 3; building B: B102 5, B101 3
    assert ranks == {"A101": (2, 2), "A102": (1, 1), "B101": (3, 2), "A103": (2, 3), "B102": (1, 1)}


def test_a_round_of_one_grade_and_one_building_ranks_only_those_rooms(college):
    for code in college.rooms:
        college.visit(code, WEEK[0], 4)
    found = evaluations.results(
        college.db, college.round(grade=2024, building_id=college.buildings["A"].id)
    )
    assert {r.room_id for r in found} == {college.rooms["A101"].id, college.rooms["A102"].id}


def test_deductions_weighted_on_a_round(college):
    college.visit("A101", WEEK[0], 5, "appliance")
    college.visit("A101", WEEK[1], 5, "appliance", "safety")
    round_ = college.round(deductions={**NO_DEDUCTIONS, "appliance": 1.0, "safety": 0.5})
    row = college.result(evaluations.results(college.db, round_), "A101")
    assert (row.score.stars, row.score.deduction, row.score.score) == (
        5,
        Decimal("2.5"),
        Decimal("2.5"),
    )
    assert row.issues == {"违章电器": 2, "安全隐患": 1}


def test_a_room_belongs_to_the_class_most_of_its_residents_are_in(college):
    # one resident of A103 (grade 2025) moves into A101 (grade 2024): A101 stays grade 2024
    student = college.db.scalar(
        select(Student).join(Bed).where(Bed.room_id == college.rooms["A103"].id).limit(1)
    )
    bed = college.db.scalar(select(Bed).where(Bed.student_id == student.id))
    bed.room_id = college.rooms["A101"].id
    bed.number = 9
    college.db.flush()
    college.visit("A101", WEEK[0], 5)
    row = college.result(evaluations.results(college.db, college.round()), "A101")
    assert row.grade == 2024
    assert row.classes == f"{college.classes[2024].name}、{college.classes[2025].name}"


def test_five_star_rate_below_80_percent_is_flagged(college):
    # five weekly rounds of a semester: A101 five stars every week (100 %), A102 four times of
    # five (80 %: the target is met), B101 three times (60 %), grade 2025 always five stars
    weeks = [(WEEK[0] + timedelta(weeks=w), WEEK[1] + timedelta(weeks=w)) for w in range(5)]
    fives = {"A101": 5, "A102": 4, "B101": 3, "A103": 5, "B102": 5}
    for w, (first, last) in enumerate(weeks):
        college.round(first_day=first, last_day=last)
        for code, times in fives.items():
            college.visit(code, first, 5 if w < times else 4)
    rates = evaluations.five_star_rates(
        college.db, date(2026, 2, 1), date(2026, 7, 31), college.department.id
    )
    room = {code: rates.rooms[college.rooms[code].id] for code in college.rooms}
    assert {code: r.percent for code, r in room.items()} == {
        "A101": "100.0%", "A102": "80.0%", "B101": "60.0%", "A103": "100.0%", "B102": "100.0%"
    }  # fmt: skip
    assert [code for code, r in room.items() if r.below_target] == ["B101"]
    grade_2024 = rates.grades[2024]
    assert (grade_2024.evaluations, grade_2024.five, grade_2024.percent) == (15, 12, "80.0%")
    assert not grade_2024.below_target  # 80 % is "达到80%": not flagged
    assert not rates.departments[college.department.id].below_target  # 22 of 25 = 88 %
    assert rates.classes[college.classes[2024].id].percent == "80.0%"


def test_a_class_below_the_target_lists_the_rooms_that_pull_it_down(college):
    for w in range(4):
        first = WEEK[0] + timedelta(weeks=w)
        college.round(first_day=first, last_day=first + timedelta(days=6))
        college.visit("A101", first, 5)
        college.visit("A102", first, 5 if w < 2 else 3)  # 50 %
        college.visit("B101", first, 5 if w < 3 else 4)  # 75 %
    rates = evaluations.five_star_rates(
        college.db, date(2026, 2, 1), date(2026, 7, 31), college.department.id
    )
    school_class = rates.classes[college.classes[2024].id]
    assert school_class.below_target  # 9 of 12 = 75 %
    pulling = rates.pulling_down("class", college.classes[2024].id)
    assert [r.key for r in pulling] == [college.rooms["A102"].id, college.rooms["B101"].id]


def test_rounds_of_another_semester_are_not_in_the_rate(college):
    college.round()
    college.visit("A101", WEEK[0], 3)
    rates = evaluations.five_star_rates(
        college.db, date(2026, 8, 1), date(2027, 1, 31), college.department.id
    )
    assert rates.rooms == {} and rates.rounds == 0


def test_the_room_history_shows_day_stars_and_issues_but_no_notes(college):
    college.visit("A101", WEEK[0], 4, "appliance")
    college.visit("A101", WEEK[1], None)
    history = evaluations.room_history(college.db, [college.rooms["A101"].id], days=3650)
    (newest, older) = history[college.rooms["A101"].id]
    assert (newest.day, newest.stars, newest.issues) == (WEEK[1], None, [])
    assert (older.day, older.stars, older.issues) == (WEEK[0], 4, ["违章电器"])
    assert not hasattr(older, "talk_notes")


def test_publication_rows_carry_no_student_names_and_no_notes(college):
    college.visit("A101", WEEK[0], 5)
    rows = evaluations.public_rows(evaluations.results(college.db, college.round()))
    text = repr(rows)
    assert "评比学生" not in text and "张三" not in text
    assert set(rows[0]) == {"room", "building", "class", "grade", "stars", "deduction", "score",
                            "level", "grade_rank", "building_rank"}  # fmt: skip


# --- opening a round: its settings, refused with a reason -----------------------------------------


def _form(**fields) -> dict:
    return {"period": "week", "week_day": "2026-03-04", "rule": "mean", **fields}


def test_a_week_round_runs_monday_to_sunday(db):
    leader = user_named(db, "leader1")
    evaluation = evaluations.open_round(db, leader, _form())
    assert (evaluation.first_day, evaluation.last_day) == WEEK
    assert evaluation.department_id == leader.department_id
    assert evaluation.name == "2026-03-02 一周宿舍卫生评比"
    db.rollback()


def test_a_month_round_runs_the_whole_month(db):
    evaluation = evaluations.open_round(
        db, user_named(db, "leader1"), _form(period="month", month="2026-02")
    )
    assert (evaluation.first_day, evaluation.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    db.rollback()


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"period": ""}, "评比周期"),
        (
            {"period": "custom", "first_day": "2026-03-08", "last_day": "2026-03-01"},
            "结束日期不能早于",
        ),
        ({"period": "custom", "first_day": "2026-01-01", "last_day": "2026-12-31"}, "最长"),
        ({"period": "month", "month": "2026-13"}, "月份"),
        ({"rule": "inspection"}, "检查日期"),
        ({"rule": "inspection", "inspection_days": "2026-04-01"}, "评比期间内"),
        ({"rule": "median"}, "计分方式"),
        ({"deduct_appliance": "十"}, "违章电器"),
        ({"deduct_safety": "9"}, "0 到 5"),
        ({"deduct_safety": "NaN"}, "0 到 5"),
        ({"grade": "25"}, "入学年份"),
        ({"building_id": "0"}, "宿舍楼"),
    ],
)
def test_a_round_with_bad_settings_is_refused_with_the_reason(db, fields, reason):
    with pytest.raises(evaluations.EvaluationError, match=reason):
        evaluations.open_round(db, user_named(db, "leader1"), _form(**fields))
    db.rollback()


def test_a_leader_opens_rounds_only_for_their_own_department(db):
    leader = user_named(db, "leader1")
    other = db.scalar(select(Department.id).where(Department.id != leader.department_id).limit(1))
    # the department a leader posts is ignored: the round is their own department's
    evaluation = evaluations.open_round(db, leader, _form(department_id=str(other or 999)))
    assert evaluation.department_id == leader.department_id
    db.rollback()


def test_the_office_opens_a_round_for_the_whole_college(db):
    evaluation = evaluations.open_round(db, user_named(db, "office1"), _form(department_id=""))
    assert evaluation.department_id is None
    db.rollback()


# --- the pages: opening, publishing, the public link, revoking ------------------------------------


@pytest.fixture
def rounds_removed(sessionmaker):
    """Rounds opened during the test are removed afterwards (their publications with them)."""
    with sessionmaker() as db:
        before = set(db.scalars(select(EvaluationRound.id)))
    yield
    with sessionmaker() as db:
        made = [i for i in db.scalars(select(EvaluationRound.id)) if i not in before]
        db.execute(delete(EvaluationPublication).where(EvaluationPublication.round_id.in_(made)))
        db.execute(delete(EvaluationRound).where(EvaluationRound.id.in_(made)))
        db.commit()


def _post(client, path: str, **data):
    token = client.cookies["csrftoken"]
    return client.post(
        path, data={**data, "_csrf_token": token}, headers={"x-csrftoken": token},
        follow_redirects=False,
    )  # fmt: skip


def _open(client, **fields) -> int:
    response = _post(client, "/evaluations/create", **_form(**fields))
    assert response.status_code == 303, response.text[:500]
    return int(re.search(r"/evaluations/(\d+)$", response.headers["location"])[1])


@pytest.fixture
def visited(sessionmaker):
    """A visit with stars, an issue, a note and marked residents in one of teacher1's rooms
    in WEEK (removed afterwards)."""
    with sessionmaker() as db:
        teacher = user_named(db, "teacher1")
        room_id = rooms_of_students_of(db, "teacher1")[0]
        names = list(db.scalars(select(Student.name).join(Bed).where(Bed.room_id == room_id)))
        presence = {
            str(s): "present"
            for s in db.scalars(select(Bed.student_id).where(Bed.room_id == room_id))
        }
        entry = Entry(
            id=uuid.uuid4(), kind="dorm_visit", author_id=teacher.id,
            department_id=teacher.department_id, room_id=room_id,
            payload={"room_id": room_id, "presence": presence, "stars": 5, "issues": ["appliance"],
                     "issue_other": "", "talk_notes": "秘密谈话内容", "concern": None},
            recorded_at=at(WEEK[0]), received_at=at(WEEK[0]),
        )  # fmt: skip
        db.add(entry)
        db.commit()
        yield {"room_id": room_id, "names": names, "entry_id": entry.id, "visitor": teacher.name}
        db.execute(delete(Entry).where(Entry.id == entry.id))
        db.commit()


def test_a_leader_opens_a_round_and_reads_its_ranking(login, rounds_removed, visited):
    client = login("leader1")
    round_id = _open(client, deduct_appliance="1")
    page = client.get(f"/evaluations/{round_id}")
    assert page.status_code == 200
    row = re.search(rf'<tr data-room-id="{visited["room_id"]}">(.*?)</tr>', page.text, re.S)[1]
    assert "4星" in row and "违章电器" in row  # 5 stars − 1 for the appliance
    assert "未评" in page.text  # the department's other rooms had no visit that week


def test_a_round_with_bad_settings_shows_the_form_again_with_the_reason(login, rounds_removed):
    response = _post(
        login("leader1"), "/evaluations/create", **_form(rule="inspection", name="第三周")
    )
    assert response.status_code == 422
    assert "检查日期" in response.text and 'value="第三周"' in response.text


def test_publication_shows_no_student_names(login, client, rounds_removed, visited, app):
    leader = login("leader1")
    round_id = _open(leader)
    assert _post(leader, f"/evaluations/{round_id}/publish").status_code == 303
    link = re.search(r"data-public-link>([^<]+)<", leader.get(f"/evaluations/{round_id}").text)[1]
    path = link.removeprefix("http://127.0.0.1:8000")
    token = path.removeprefix("/p/")
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    from litestar.testing import TestClient

    with TestClient(app) as anonymous:  # no login, no cookies
        page = anonymous.get(path)
        assert page.status_code == 200
        assert "2026-03-02 一周宿舍卫生评比" in page.text and "★★★★★" in page.text
        for name in visited["names"]:
            assert name not in page.text
        assert "秘密谈话内容" not in page.text and visited["visitor"] not in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "noindex" in page.headers["x-robots-tag"]
        sheet = anonymous.get(f"{path}/export.xlsx")
        assert sheet.status_code == 200
        cells = [
            c
            for row in load_workbook(BytesIO(sheet.content)).active.iter_rows(values_only=True)
            for c in row
        ]
        assert "5星" in cells and not any(name in cells for name in visited["names"])


def test_a_publication_keeps_what_was_published(login, app, rounds_removed, visited, sessionmaker):
    leader = login("leader1")
    round_id = _open(leader)
    _post(leader, f"/evaluations/{round_id}/publish")
    with sessionmaker() as db:
        token = db.scalar(
            select(EvaluationPublication.token).where(EvaluationPublication.round_id == round_id)
        )
        db.get(Entry, visited["entry_id"]).payload = {
            **db.get(Entry, visited["entry_id"]).payload,
            "stars": 2,
        }
        db.commit()
    from litestar.testing import TestClient

    with TestClient(app) as anonymous:
        assert "★★★★★" in anonymous.get(f"/p/{token}").text  # the snapshot, not today's stars
    _post(leader, f"/evaluations/{round_id}/publish")  # 更新公示: the same link, new rows
    with TestClient(app) as anonymous:
        assert "★★☆☆☆" in anonymous.get(f"/p/{token}").text


def test_revoked_publication_is_gone(login, app, rounds_removed, visited, sessionmaker):
    leader = login("leader1")
    round_id = _open(leader)
    _post(leader, f"/evaluations/{round_id}/publish")
    with sessionmaker() as db:
        token = db.scalar(
            select(EvaluationPublication.token).where(EvaluationPublication.round_id == round_id)
        )
    assert _post(leader, f"/evaluations/{round_id}/revoke").status_code == 303
    from litestar.testing import TestClient

    with TestClient(app) as anonymous:
        for path in (
            f"/p/{token}",
            f"/p/{token}/export.xlsx",
            "/p/not-a-token",
            f"/p/{token[:-1]}",
        ):
            gone = anonymous.get(path)
            assert gone.status_code == 404
            assert "公示已被撤回" in gone.text
    # publishing again makes a new link; the revoked one stays gone
    _post(leader, f"/evaluations/{round_id}/publish")
    with sessionmaker() as db:
        tokens = set(
            db.scalars(
                select(EvaluationPublication.token).where(
                    EvaluationPublication.round_id == round_id
                )
            )
        )
    (new,) = tokens - {token}
    with TestClient(app) as anonymous:
        assert anonymous.get(f"/p/{new}").status_code == 200
        assert anonymous.get(f"/p/{token}").status_code == 404


@pytest.fixture
def elsewhere(sessionmaker):
    with other_department(sessionmaker) as made:
        yield made
        with sessionmaker() as db:  # rounds leader_x opened, before leader_x is removed
            mine = select(EvaluationRound.id).where(EvaluationRound.department_id == made.id)
            db.execute(
                delete(EvaluationPublication).where(EvaluationPublication.round_id.in_(mine))
            )
            db.execute(delete(EvaluationRound).where(EvaluationRound.department_id == made.id))
            db.commit()


def test_another_departments_leader_cannot_open_or_publish_this_departments_round(
    app, rounds_removed, elsewhere, sessionmaker
):
    with signed_in(app, ["leader1", "leader_x"]) as as_person:
        round_id = _open(as_person("leader1"))
        other = as_person("leader_x")
        assert other.get(f"/evaluations/{round_id}").status_code == 403
        assert other.get(f"/evaluations/{round_id}/export.xlsx").status_code == 403
        for action in ("publish", "revoke"):
            refused = _post(other, f"/evaluations/{round_id}/{action}")
            assert refused.status_code == 403
            assert "只有本系部学生工作负责人和学工部" in refused.text
        # their own round, whatever department they post, is their own department's
        own = _open(other, department_id=str(user_department(sessionmaker, "leader1")))
        with sessionmaker() as db:
            assert db.get(EvaluationRound, own).department_id == elsewhere.id
            assert (
                db.scalar(
                    select(EvaluationPublication).where(EvaluationPublication.round_id == round_id)
                )
                is None
            )
        assert round_id not in _listed(other)


def test_the_office_publishes_any_departments_round_and_admin_only_reads_it(app, rounds_removed):
    with signed_in(app, ["leader1", "office1", "admin"]) as as_person:
        round_id = _open(as_person("leader1"))
        assert _post(as_person("office1"), f"/evaluations/{round_id}/publish").status_code == 303
        admin = as_person("admin")
        assert admin.get(f"/evaluations/{round_id}").status_code == 200
        assert _post(admin, f"/evaluations/{round_id}/revoke").status_code == 403
        assert admin.get("/evaluations/new").status_code == 403


def test_a_college_round_is_read_by_every_leader_but_published_by_the_office_only(
    app, rounds_removed
):
    with signed_in(app, ["leader1", "office1"]) as as_person:
        round_id = _open(as_person("office1"), department_id="")
        leader = as_person("leader1")
        assert leader.get(f"/evaluations/{round_id}").status_code == 200
        assert _post(leader, f"/evaluations/{round_id}/publish").status_code == 403


def test_the_five_star_page_flags_a_rate_below_the_target(
    login, rounds_removed, visited, sessionmaker
):
    client = login("leader1")
    _open(client)  # teacher1's room: 5 stars − 0 = five stars
    _open(client, week_day="2026-03-11")  # the week after: no visit, 未评 (not in the rate)
    _open(client, week_day="2026-03-18")
    with sessionmaker() as db:  # a visit of 3 stars in the third week
        entry = db.get(Entry, visited["entry_id"])
        db.add(Entry(
            id=uuid.uuid4(), kind="dorm_visit", author_id=entry.author_id,
            department_id=entry.department_id, room_id=entry.room_id,
            payload={**entry.payload, "stars": 3, "issues": []},
            recorded_at=at(date(2026, 3, 18)), received_at=at(date(2026, 3, 18)),
        ))  # fmt: skip
        db.commit()
    page = client.get("/evaluations/five-star?day=2026-03-20")
    assert page.status_code == 200
    assert "50.0% 未达 80%" in page.text  # 1 of 2 evaluations at five stars
    assert "拉低的宿舍" in page.text
    with sessionmaker() as db:
        db.execute(
            delete(Entry).where(
                Entry.room_id == visited["room_id"], Entry.recorded_at == at(date(2026, 3, 18))
            )
        )
        db.commit()


def test_the_door_form_and_room_search_show_the_rooms_last_visits(login, visited, sessionmaker):
    # the newest visit of the room (other tests visit it too; the history shows the last five)
    with sessionmaker() as db:
        db.get(Entry, visited["entry_id"]).recorded_at = datetime.now(UTC)
        db.commit()
    recently = clock.today()
    client = login("teacher1")
    form = client.get(f"/rooms/{visited['room_id']}/visit").text
    history = re.search(r'<details class="room-history">(.*?)</details>', form, re.S)[1]
    newest = re.search(r"<li>(.*?)</li>", history, re.S)[1]
    assert f"{recently:%m-%d}" in newest and "5星" in newest and "违章电器" in newest
    assert "秘密谈话内容" not in history
    with sessionmaker() as db:
        room = db.get(Room, visited["room_id"])
        query = f"{room.building_id}-{room.number}"  # the label's short code
    results = client.get("/rooms/find/results", params={"q": query}).text
    found = re.search(r'<details class="room-history">(.*?)</details>', results, re.S)[1]
    newest = re.search(r"<li>(.*?)</li>", found, re.S)[1]
    assert f"{recently:%m-%d}" in newest and "违章电器" in newest


def test_the_public_page_has_no_script_and_is_not_kept_by_the_service_worker(
    login, app, rounds_removed, visited, sessionmaker
):
    leader = login("leader1")
    round_id = _open(leader)
    _post(leader, f"/evaluations/{round_id}/publish")
    with sessionmaker() as db:
        token = db.scalar(
            select(EvaluationPublication.token).where(EvaluationPublication.round_id == round_id)
        )
    from litestar.testing import TestClient

    with TestClient(app) as anonymous:
        page = anonymous.get(f"/p/{token}")
        assert "<script" not in page.text and " style=" not in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        worker = anonymous.get("/sw.js").text
    assert "PUBLICATION_PATH.test(url.pathname)" in worker


def user_department(sessionmaker, username: str) -> int:
    with sessionmaker() as db:
        return user_named(db, username).department_id


def _listed(client) -> list[int]:
    return [
        int(i) for i in re.findall(r'href="/evaluations/(\d+)"', client.get("/evaluations").text)
    ]
