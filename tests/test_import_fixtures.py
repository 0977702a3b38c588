"""Fixtures for the import tests: a database of its own (imports commit, and the suite's demo
college must not change under the other tests), emptied before each test, and workbooks
built in memory.

On PostgreSQL the import database is the suite's database name + "_import"; on SQLite a file
of its own. Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import csv
import functools
import io
import os

import openpyxl
import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from server import demo
from server.app import create_app
from server.auth import hash_password
from server.db import make_engine, make_sessionmaker, upgrade
from server.models import (
    Bed,
    BedMove,
    Building,
    ClassCourse,
    ContactGradeChange,
    Course,
    CourseResult,
    CourseTeacher,
    Department,
    Guardian,
    ImportRun,
    QualityAssessment,
    Role,
    Room,
    SchoolClass,
    Student,
    TimetableSlot,
    User,
    UserRole,
)
from server.settings import Settings
from tests import postgres
from tests.conftest import TEST_SECRET

# children before parents, so deleting in this order never trips a foreign key
TABLES = [QualityAssessment, TimetableSlot, CourseResult, BedMove, ContactGradeChange, ImportRun, ClassCourse, Course, CourseTeacher, Bed, Room, Building, Guardian, Student,
          SchoolClass, UserRole, User, Department]  # fmt: skip
COUNTED = [Department, User, UserRole, SchoolClass, Student, Guardian, Building, Room, Bed,
           Course, CourseTeacher, ClassCourse]  # fmt: skip


@pytest.fixture(scope="session")
def import_url(tmp_path_factory) -> str:
    suite = os.environ.get("XUEGONG_TEST_DATABASE_URL")
    if suite:
        url = make_url(suite)
        url = url.set(database=f"{url.database}_import").render_as_string(hide_password=False)
        assert postgres.main(url) == 0
        from tests.conftest import _reset_postgres

        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('import') / 'import.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def import_sessionmaker(import_url):
    engine = make_engine(import_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def empty(import_sessionmaker):
    """The import database with no college in it, and an admin to import as; yields a session."""
    with import_sessionmaker() as db:
        for model in TABLES:
            db.execute(delete(model))
        admin = User(username="admin", name="管理员", password_hash=_admin_hash())
        admin.role_rows = [UserRole(role=Role.admin)]
        db.add(admin)
        db.commit()
        yield db
        db.rollback()


@functools.cache
def _admin_hash() -> str:
    return hash_password(demo.DEMO_PASSWORD)  # argon2 is slow on purpose: hash once


@pytest.fixture(scope="session")
def import_app(import_url, tmp_path_factory):
    settings = Settings.from_env(
        environ={
            "XUEGONG_DATABASE_URL": import_url,
            "XUEGONG_SECRET_KEYS": TEST_SECRET,
            "XUEGONG_VAR_DIR": str(tmp_path_factory.mktemp("import-var")),
            "XUEGONG_BASE_URL": "http://127.0.0.1:8000",
        }
    )
    return create_app(settings)


@pytest.fixture
def import_client(import_app, empty):
    with TestClient(import_app) as c:
        yield c


def counts(db) -> dict[str, int]:
    db.expire_all()
    return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def snapshot(db) -> dict[str, list]:
    """Every row of the college's tables, for "nothing changed" assertions."""
    db.expire_all()
    out = {}
    for model in COUNTED:
        columns = list(model.__table__.columns)
        out[model.__tablename__] = sorted(
            (tuple(str(v) for v in row) for row in db.execute(select(*columns))), key=str
        )
    return out


# --- a small college, one sheet per table --------------------------------------------------


def college() -> dict[str, list[list]]:
    """Sheet name → rows (header first) of a valid small college: two departments, staff,
    two classes (one without a class teacher), four students, guardians, rooms, beds, courses."""
    return {
        "系部": [["系部名称"], ["信息工程系"], ["机电工程系"]],
        "教职工": [
            ["工号", "姓名", "系部", "角色", "手机"],
            ["T001", "王辅导", "信息工程系", "辅导员", "13800000001"],
            ["T002", "李班主", "信息工程系", "班主任", "13800000002"],
            ["T003", "赵主任", "信息工程系", "系部学生工作负责人、辅导员", ""],
            ["T004", "钱学工", "", "学工部", "0571-88886666"],
        ],
        "班级": [
            ["班级名称", "入学年份", "专业", "系部", "辅导员工号", "班主任工号"],
            ["2024级软件1班", "2024", "软件技术", "信息工程系", "T001", "T002"],
            ["2024级网络1班", "2024", "网络技术", "信息工程系", "T003", ""],
        ],
        "学生": [
            ["学号", "姓名", "性别", "班级名称", "联系等级", "手机", "状态"],
            ["2024010101", "张一", "男", "2024级软件1班", "", "13900000001", ""],
            ["2024010102", "李二", "女", "2024级软件1班", "重点", "", "在读"],
            ["2024010103", "王三", "男", "2024级网络1班", "特殊", "13900000003", ""],
            ["2024010104", "赵四", "男", "2024级网络1班", "一般", "", "休学"],
        ],
        "家长": [
            ["学号", "姓名", "关系", "电话"],
            ["2024010101", "张父", "父亲", "13700000001"],
            ["2024010101", "张母", "母亲", "13700000002"],
            ["2024010102", "李母", "母亲", "13700000003"],
        ],
        "宿舍": [
            ["楼栋", "房间号", "床位数", "性别"],
            ["1号楼", "101", "4", "男"],
            ["2号楼", "201", "4", "女"],
        ],
        "床位": [
            ["学号", "楼栋", "房间号", "床号"],
            ["2024010101", "1号楼", "101", "1"],
            ["2024010102", "2号楼", "201", "1"],
            ["2024010103", "1号楼", "101", "2"],
        ],
        "课程": [
            ["班级名称", "课程名称", "任课教师", "教师电话", "专业基础课"],
            ["2024级软件1班", "高等数学", "孙老师", "13600000001", "是"],
            ["2024级网络1班", "高等数学", "孙老师", "13600000001", "是"],
            ["2024级软件1班", "大学英语", "周老师", "", "否"],
        ],
    }


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def with_rows(sheet: str, *rows: list, base=None) -> dict[str, list[list]]:
    """The small college with more rows added to one sheet."""
    sheets = base or college()
    sheets[sheet] = sheets[sheet] + [list(r) for r in rows]
    return sheets


def student(db, number: str) -> Student | None:
    db.expire_all()
    return db.scalar(select(Student).where(Student.student_number == number))


def department(db, name: str) -> Department | None:
    return db.scalar(select(Department).where(Department.name == name))
