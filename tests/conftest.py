"""Shared fixtures: one database per test run, loaded with the small demo college.

The suite runs on SQLite by default and on PostgreSQL when XUEGONG_TEST_DATABASE_URL is
set (`make test` does both when PostgreSQL is reachable; CI requires it). Tests use the
fixed demo people: admin, office1, leader1, counselor1, teacher1.
"""

from __future__ import annotations

import itertools
import os
import re

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient
from sqlalchemy import select, text, update

from server import auth, demo
from server.app import create_app
from server.db import make_engine, make_sessionmaker, upgrade
from server.models import (
    Bed,
    Building,
    ClassCourse,
    ContactGrade,
    Course,
    CourseTeacher,
    Department,
    Role,
    Room,
    SchoolClass,
    Student,
    User,
    UserRole,
)
from server.settings import Settings

TEST_SECRET = "test-secret-key-for-the-suite-0001"

# argon2 at production cost is most of the suite's time (a login verifies a hash): tests use
# the cheapest parameters argon2 allows, and the demo people's hashes are rewritten with them
# after demo.load. test_auth.py checks PRODUCTION_HASHER, the hasher the app itself uses.
PRODUCTION_HASHER = auth.hasher
auth.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("XUEGONG_TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    demo.load(engine, size="small", seed=1)
    with engine.begin() as conn:  # the cheap test parameters for every demo person
        conn.execute(update(User).values(password_hash=auth.hash_password(demo.DEMO_PASSWORD)))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def on_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory) -> Settings:
    return Settings.from_env(
        environ={
            "XUEGONG_DATABASE_URL": database_url,
            "XUEGONG_SECRET_KEYS": TEST_SECRET,
            "XUEGONG_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "XUEGONG_BASE_URL": "http://127.0.0.1:8000",
        }
    )


@pytest.fixture(scope="session")
def app(settings):
    return create_app(settings)


@pytest.fixture(scope="session")
def sessionmaker(settings):
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def db(sessionmaker):
    with sessionmaker() as session:
        yield session


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def csrf_token(client: TestClient) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/login")
    return client.cookies["csrftoken"]


def form_csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def log_in(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": form_csrf(page.text)},
        follow_redirects=False,
    )


_sessions: dict[tuple[str, int], list] = {}  # (username, session epoch) → cookies after login


@pytest.fixture
def login(client, sessionmaker):
    """login("counselor1") → the client, logged in as that demo person.

    Each person logs in once per run: their session and CSRF cookies are kept and put back
    into the next test's client (the cookie is stateless, valid while the session epoch is
    the same). Tests of the login itself use log_in()."""

    def _login(username: str) -> TestClient:
        with sessionmaker() as db:
            epoch = db.scalar(select(User.session_epoch).where(User.username == username))
        key = (username, epoch)
        if key in _sessions:
            for cookie in _sessions[key]:
                client.cookies.jar.set_cookie(cookie)
            return client
        response = log_in(client, username)
        assert response.status_code == 303, response.text
        _sessions[key] = [c for c in client.cookies.jar if c.name in ("xg_session", "csrftoken")]
        return client

    return _login


def user_named(db, username: str) -> User:
    return db.scalar(select(User).where(User.username == username))


def rooms_of_students_of(db, username: str) -> list[int]:
    """Rooms where students of this person's classes sleep (counselor or class teacher)."""
    from sqlalchemy import or_

    from server.models import Bed, SchoolClass, Student

    user = user_named(db, username)
    return list(
        db.scalars(
            select(Bed.room_id)
            .join(Student, Bed.student_id == Student.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
            .where(
                or_(SchoolClass.counselor_id == user.id, SchoolClass.class_teacher_id == user.id)
            )
            .distinct()
            .order_by(Bed.room_id)
        )
    )


def room_outside_scope(db, username: str) -> int:
    """A room with no student of this person's and not in a building they are on duty in today."""
    from server.clock import today
    from server.models import DutyShift, Room

    user = user_named(db, username)
    duty_buildings = select(DutyShift.building_id).where(
        DutyShift.staff_id == user.id, DutyShift.date == today()
    )
    room_id = db.scalar(
        select(Room.id)
        .where(
            Room.id.not_in(rooms_of_students_of(db, username)),
            Room.building_id.not_in(duty_buildings),
        )
        .order_by(Room.id)
        .limit(1)
    )
    assert room_id is not None, f"the demo data has no room outside {username}'s scope"
    return room_id


_made_up = itertools.count(1)


@pytest.fixture
def made_up_class(db):
    """A made-up class of the first department, inside a transaction rolled back after the
    test: its counselor, its class teacher, six students in one room (s1 special, s2 key,
    the rest general contact grade), a course with its teacher, and a second counselor whose
    class has no class teacher (§1.10). Yields (people, students, room, department)."""
    department = db.scalar(select(Department).order_by(Department.id))
    n = next(_made_up)

    def person(name: str, *roles: Role) -> User:
        user = User(
            username=f"w{n}_{name}", name=name, password_hash="-", department_id=department.id
        )
        user.role_rows = [UserRole(role=r) for r in roles]
        db.add(user)
        db.flush()
        return user

    people = {
        "counselor": person("辅导员甲", Role.counselor),
        "teacher": person("班主任乙", Role.class_teacher),
        "covering": person("辅导员丙", Role.counselor),
    }
    taught = SchoolClass(
        name=f"周测{n}班", grade=2025, major="测试", department_id=department.id,
        counselor_id=people["counselor"].id, class_teacher_id=people["teacher"].id,
    )  # fmt: skip
    uncovered = SchoolClass(
        name=f"周测{n}班（无班主任）", grade=2025, major="测试", department_id=department.id,
        counselor_id=people["covering"].id, class_teacher_id=None,
    )  # fmt: skip
    db.add_all([taught, uncovered])
    db.flush()
    students = {}
    grades = [ContactGrade.special, ContactGrade.key] + [ContactGrade.general] * 4
    for i, (name, grade) in enumerate(zip("甲乙丙丁戊己", grades, strict=True)):
        s = Student(
            student_number=f"W{n:03d}{i}", name=f"学生{name}", gender="男", class_id=taught.id,
            contact_grade=grade,
        )  # fmt: skip
        db.add(s)
        students[f"s{i + 1}"] = s
    room = Room(building=Building(name=f"周测楼{n}"), number="101")
    db.add(room)
    db.flush()
    db.add_all(
        Bed(room_id=room.id, number=i + 1, student_id=s.id) for i, s in enumerate(students.values())
    )
    db.flush()
    db.add(
        ClassCourse(
            class_id=taught.id,
            course=Course(name=f"周测课程{n}", department_id=department.id),
            teacher=CourseTeacher(name=f"任课教师{n}", department_id=department.id),
        )
    )
    db.flush()
    yield people, students, room, department
    db.rollback()
